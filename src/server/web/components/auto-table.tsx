/** A table of whatever rows an API list returns: a column per key, each cell as text (objects as compact JSON). */
import { time } from '../format.js';
import { Table } from './common.js';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v) ? time(v) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) return v.join(', ');
  return JSON.stringify(v);
}

export function AutoTable(props: { rows: Array<Record<string, unknown>>; columns?: string[]; rowKey?: string }) {
  const cols = props.columns ?? [...new Set(props.rows.flatMap((r) => Object.keys(r)))];
  return (
    <Table
      heads={cols}
      rows={props.rows}
      row={(r, i) => (
        <tr key={props.rowKey ? String(r[props.rowKey]) : i}>
          {cols.map((c) => (
            <td key={c} class="small">
              {cell(r[c])}
            </td>
          ))}
        </tr>
      )}
    />
  );
}
