/**
 * The runs page's bulk bar: one action on the runs ticked, or on all that match the filter, previewed first (a dry run)
 * and then confirmed by count. Apart from runs.tsx so the page reads as the table.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, queryString } from '../api.js';
import { Button, ErrorBox, Select, useAction } from '../components/common.js';
import type { Filters } from './runs-filter-bar.js';

const BULK = ['cancel', 'pause', 'resume', 'retry', 'approve'] as const;
const DONE_KEY: Record<(typeof BULK)[number], string> = {
  cancel: 'cancelled',
  pause: 'paused',
  resume: 'resumed',
  retry: 'retried',
  approve: 'approved',
};
interface BulkPreview {
  matched: number;
  would: string[];
  already: string[];
}
type BulkDone = { matched: number; already: string[]; refused: Array<{ runId: string; message: string }> } & Record<
  string,
  unknown
>;

/**
 * A bulk action (POST /api/bulk/:action, server/bulk.ts) on the runs `body` names: `look` is the dry run; `go` sends its
 * count as `confirm` (a 409 when runs moved meanwhile, `also` beside it). The bulk bar and the emergency stop use it.
 */
export function useBulk(action: string, body: object, also: object = {}, onDone?: () => void) {
  const [preview, setPreview] = useState<BulkPreview | null>(null);
  const [done, setDone] = useState<BulkDone | null>(null);
  const { busy, error, run } = useAction();
  const look = () =>
    run(async () => {
      setDone(null);
      setPreview(await api.post<BulkPreview>(`/api/bulk/${action}`, { ...body, dryRun: true }));
    });
  const go = () =>
    run(async () => {
      setDone(await api.post<BulkDone>(`/api/bulk/${action}`, { ...body, ...also, confirm: preview!.would.length }));
      setPreview(null);
      onDone?.();
    });
  return { busy, error, preview, setPreview, done, look, go };
}

/** The runs a bulk action refused, each with why. */
export function Refused(props: { done: BulkDone | null }) {
  return (
    <>
      {props.done?.refused.map((r) => (
        <p key={r.runId} class="error small">
          {r.runId}: {r.message}
        </p>
      ))}
    </>
  );
}

/** The bulk bar: the action on the runs ticked, or on all matching this filter. */
export function BulkBar(props: { filters: Filters; selected: string[]; onDone: () => void }) {
  const [action, setAction] = useState<(typeof BULK)[number]>('cancel');
  const [all, setAll] = useState(false);
  const filtered = Object.keys(props.filters).length > 0;
  const ready = all ? filtered : props.selected.length > 0;
  const { busy, error, preview, setPreview, done, look, go } = useBulk(
    action,
    { query: props.filters, ...(all ? {} : { runs: props.selected }) },
    {},
    props.onDone,
  );
  useEffect(() => setPreview(null), [action, all, props.selected.join(','), queryString(props.filters)]);
  const verb = action[0]!.toUpperCase() + action.slice(1);
  return (
    <div class="bulk-bar small" data-testid="bulk-bar">
      <span>{all ? 'All runs matching this filter' : `${props.selected.length} selected`}</span>
      <label class="inline">
        <input type="checkbox" name="all-matching" checked={all} disabled={!filtered} onChange={() => setAll(!all)} />{' '}
        all matching this filter
      </label>
      <Select name="bulk-action" value={action} set={(a) => setAction(a as (typeof BULK)[number])} options={BULK} />
      <Button label="Preview" disabled={busy || !ready} onClick={look} />
      {!filtered && all ? <span class="muted">Filter first: all runs are never meant by accident.</span> : null}
      <ErrorBox error={error} />
      {preview ? (
        <span data-testid="bulk-preview">
          <strong>{preview.would.length}</strong> run(s) would be {DONE_KEY[action]}
          {preview.already.length ? `; ${preview.already.length} already` : ''}.{' '}
          {preview.would.length ? (
            <Button label={`${verb} ${preview.would.length} run(s)`} class="danger" disabled={busy} onClick={go} />
          ) : null}
        </span>
      ) : null}
      {done ? (
        <span data-testid="bulk-done">
          {verb}: {((done[DONE_KEY[action]] as string[] | undefined) ?? []).length} done; {done.already.length} already;{' '}
          {done.refused.length} refused.
        </span>
      ) : null}
      <Refused done={done} />
    </div>
  );
}
