/**
 * Handlers of the daily operations workflow (definitions/daily-operations.yaml,
 * the daily operations at 09:00) and of its per-department
 * sub-workflow (definitions/department-ops.yaml). Real checks on each
 * department's files (department.yaml, tickets.csv, stock.csv, shifts.csv),
 * deterministic: ages are in the data (no clock), folders are read sorted, so
 * the same data gives the same briefing.
 *
 *   list_departments  the root's subfolders that hold a department.yaml
 *   load_department   the department's name, lead and ticket SLAs
 *   check_backlog     open tickets older than their priority's SLA
 *   check_stock       stock below its reorder point (order up to twice the
 *                     reorder point); under 2 days of cover is critical
 *   check_staffing    shifts scheduled below what they require
 *   assess            green / amber / red, a score and the issues
 *   raise_actions     an action per issue, owned by the department's lead
 *   compile_briefing  every department's result in one morning briefing
 *
 * CSV files are plain: a header line, then one row per line, no quoted commas.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { NonRetryableError, parseYaml as parse } from 'ledgerflow';
import type { Handlers } from 'ledgerflow';

type Row = Record<string, string>;
type Status = 'green' | 'amber' | 'red';
interface Issue { check: string; severity: 'critical' | 'warning'; detail: string }

function text(input: Record<string, unknown>, name: string): string {
  const v = input[name];
  if (typeof v !== 'string' || v === '') throw new NonRetryableError(`${name} must be a non-empty string, got ${JSON.stringify(v)}`, 'OPS_BAD_INPUT');
  return v;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new NonRetryableError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'OPS_NO_DATA');
  }
}

/** A CSV with a header line; every further non-empty line is a row. */
export async function readCsv(file: string, columns: string[]): Promise<Row[]> {
  const lines = (await readText(file)).split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const absent = columns.filter((c) => !header.includes(c));
  if (absent.length > 0) throw new NonRetryableError(`${file} has no column ${absent.join(', ')} (its header: ${header.join(',')})`, 'OPS_BAD_DATA');
  return lines.slice(1).map((l) => {
    const cells = l.split(',').map((c) => c.trim());
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

function number(row: Row, column: string, file: string): number {
  const n = Number(row[column]);
  if (row[column] === '' || !Number.isFinite(n)) throw new NonRetryableError(`${file}: ${column} must be a number, got ${JSON.stringify(row[column])}`, 'OPS_BAD_DATA');
  return n;
}

const RANK: Record<Status, number> = { green: 0, amber: 1, red: 2 };

export const handlers: Handlers = {
  async list_departments(input) {
    const root = text(input, 'root');
    const entries = await readdir(root, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new NonRetryableError(`cannot read the departments folder ${root}: ${err.code ?? err.message}`, 'OPS_NO_DATA');
    });
    const departments: string[] = [];
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
      const files = await readdir(join(root, e.name));
      if (files.includes('department.yaml')) departments.push(join(root, e.name).split('\\').join('/'));
    }
    return { departments, count: departments.length };
  },

  async load_department(input) {
    const folder = text(input, 'folder');
    const file = join(folder, 'department.yaml');
    const doc = (parse(await readText(file)) ?? {}) as { name?: unknown; lead?: unknown; sla_hours?: Record<string, unknown> };
    if (typeof doc.name !== 'string' || typeof doc.lead !== 'string') throw new NonRetryableError(`${file} needs a name and a lead`, 'OPS_BAD_DATA');
    const sla_hours: Record<string, number> = {};
    for (const [p, h] of Object.entries(doc.sla_hours ?? {})) if (typeof h === 'number' && h > 0) sla_hours[p] = h;
    return { id: basename(folder), name: doc.name, lead: doc.lead, sla_hours };
  },

  async check_backlog(input) {
    const folder = text(input, 'folder');
    const file = join(folder, 'tickets.csv');
    const sla = (input.sla_hours ?? {}) as Record<string, number>;
    const open = (await readCsv(file, ['id', 'priority', 'age_hours', 'status'])).filter((r) => r.status !== 'closed');
    const breaches = open
      .filter((r) => sla[r.priority!] !== undefined && number(r, 'age_hours', file) > sla[r.priority!]!)
      .map((r) => ({ id: r.id!, priority: r.priority!, age_hours: number(r, 'age_hours', file), sla_hours: sla[r.priority!]! }));
    return { open: open.length, breaches, urgent_breaches: breaches.filter((b) => b.priority === 'urgent').length };
  },

  async check_stock(input) {
    const file = join(text(input, 'folder'), 'stock.csv');
    const low = (await readCsv(file, ['sku', 'on_hand', 'reorder_point', 'daily_use']))
      .filter((r) => number(r, 'on_hand', file) < number(r, 'reorder_point', file))
      .map((r) => {
        const use = number(r, 'daily_use', file);
        const days = use > 0 ? Math.round((number(r, 'on_hand', file) / use) * 10) / 10 : null;
        return { sku: r.sku!, on_hand: number(r, 'on_hand', file), reorder_point: number(r, 'reorder_point', file), days_of_cover: days, reorder: number(r, 'reorder_point', file) * 2 - number(r, 'on_hand', file) };
      });
    return { below_reorder: low, critical: low.filter((l) => l.days_of_cover !== null && l.days_of_cover < 2).map((l) => l.sku) };
  },

  async check_staffing(input) {
    const file = join(text(input, 'folder'), 'shifts.csv');
    const rows = await readCsv(file, ['shift', 'required', 'scheduled']);
    const gaps = rows
      .map((r) => ({ shift: r.shift!, required: number(r, 'required', file), scheduled: number(r, 'scheduled', file) }))
      .filter((s) => s.scheduled < s.required)
      .map((s) => ({ ...s, missing: s.required - s.scheduled }));
    const required = rows.reduce((n, r) => n + number(r, 'required', file), 0);
    const scheduled = rows.reduce((n, r) => n + Math.min(number(r, 'scheduled', file), number(r, 'required', file)), 0);
    return { gaps, missing: gaps.reduce((n, g) => n + g.missing, 0), coverage_pct: required === 0 ? 100 : Math.round((scheduled / required) * 100) };
  },

  assess(input) {
    const backlog = input.backlog as { breaches: { id: string; priority: string; age_hours: number; sla_hours: number }[] };
    const stock = input.stock as { below_reorder: { sku: string; on_hand: number; reorder_point: number; days_of_cover: number | null; reorder: number }[]; critical: string[] };
    const staffing = input.staffing as { gaps: { shift: string; missing: number }[]; missing: number; coverage_pct: number };
    const issues: Issue[] = [
      ...backlog.breaches.map((b): Issue => ({ check: 'backlog', severity: b.priority === 'urgent' ? 'critical' : 'warning', detail: `${b.id} (${b.priority}) open ${b.age_hours} h, SLA ${b.sla_hours} h` })),
      ...stock.below_reorder.map((s): Issue => ({ check: 'stock', severity: stock.critical.includes(s.sku) ? 'critical' : 'warning', detail: `${s.sku}: ${s.on_hand} on hand, reorder point ${s.reorder_point}${s.days_of_cover === null ? '' : `, ${s.days_of_cover} days of cover`}; order ${s.reorder}` })),
      ...staffing.gaps.map((g): Issue => ({ check: 'staffing', severity: g.missing >= 2 ? 'critical' : 'warning', detail: `${g.shift} shift ${g.missing} short` })),
    ];
    const critical = issues.filter((i) => i.severity === 'critical').length;
    const status: Status = critical > 0 ? 'red' : issues.length > 0 ? 'amber' : 'green';
    // 100 for a clean morning; 15 off per critical issue, 5 per warning.
    const score = Math.max(0, 100 - 15 * critical - 5 * (issues.length - critical));
    return { status, score, critical, warnings: issues.length - critical, issues };
  },

  raise_actions(input) {
    const lead = text(input, 'lead');
    const issues = (Array.isArray(input.issues) ? input.issues : []) as Issue[];
    const verb: Record<string, string> = { backlog: 'Clear', stock: 'Reorder', staffing: 'Fill' };
    const actions = issues
      .map((i, n) => ({ i, n }))
      .sort((a, b) => (a.i.severity === b.i.severity ? a.n - b.n : a.i.severity === 'critical' ? -1 : 1))
      .map(({ i }) => ({ owner: lead, priority: i.severity === 'critical' ? 'before noon' : 'today', action: `${verb[i.check] ?? 'Check'}: ${i.detail}` }));
    return { actions, count: actions.length };
  },

  compile_briefing(input) {
    const results = (Array.isArray(input.results) ? input.results : []) as ({ department: string; name: string; status: Status; score: number; issues: Issue[]; actions: { owner: string; priority: string; action: string }[] | null } | null)[];
    const done = results.filter((r): r is NonNullable<typeof r> => r !== null);
    const count = (s: Status) => done.filter((r) => r.status === s).length;
    const overall: Status = done.reduce<Status>((w, r) => (RANK[r.status] > RANK[w] ? r.status : w), 'green');
    return {
      overall,
      departments: done.length,
      red: count('red'),
      amber: count('amber'),
      green: count('green'),
      lines: done.map((r) => `${r.name}: ${r.status.toUpperCase()} (${r.score}/100, ${r.issues.length} issue${r.issues.length === 1 ? '' : 's'})`),
      actions: done.flatMap((r) => (r.actions ?? []).map((a) => ({ department: r.name, ...a }))),
    };
  },
};

export default handlers;
