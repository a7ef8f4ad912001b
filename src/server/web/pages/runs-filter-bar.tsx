/**
 * The runs page's filter bar: the filters a runs view takes (kept in the URL by the page) and the form that edits them.
 * Apart from runs.tsx so the page reads as the table; the bulk bar (runs-bulk-bar.tsx) acts on the same filters.
 */
import { useEffect, useState } from 'preact/hooks';
import { Button, Form, Input, Select } from '../components/common.js';
import { RUN_STATUSES } from '../status.js';

export const FILTERS = [
  'workflow',
  'status',
  'trigger',
  'agent',
  'since',
  'until',
  'runId',
  'outputContains',
  'where',
] as const;
export type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

export function FilterBar(props: { filters: Filters; onApply: (f: Filters) => void }) {
  const [f, setF] = useState<Filters>(props.filters);
  useEffect(() => setF(props.filters), [JSON.stringify(props.filters)]);
  const field = (name: keyof Filters, placeholder: string, width = '') => (
    <Input
      class={`filter ${width}`}
      name={name}
      placeholder={placeholder}
      value={f[name] ?? ''}
      set={(v) => setF({ ...f, [name]: v })}
    />
  );
  return (
    <Form class="filters" submit={() => props.onApply(f)}>
      {field('runId', 'run id…', 'wide')}
      {field('workflow', 'workflow')}
      <Select
        name="status"
        value={f.status ?? ''}
        set={(status) => setF({ ...f, status })}
        blank="any status"
        options={RUN_STATUSES}
      />
      {field('trigger', 'trigger (event, schedule:…)')}
      {field('agent', 'agent')}
      {field('since', 'since (24h, ISO)', 'narrow')}
      {field('until', 'until', 'narrow')}
      {field('outputContains', 'output contains')}
      {field('where', 'where (customer=42 amount>100)', 'wide')}
      <Button label="Filter" submit class="primary" />
      <Button
        label="Clear"
        onClick={() => {
          setF({});
          props.onApply({});
        }}
      />
    </Form>
  );
}
