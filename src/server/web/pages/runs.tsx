/**
 * The runs table: filters kept in the URL (so a filtered view can be shared),
 * newest first, a page at a time by cursor, rows updated live from /api/stream.
 * The page's place is in the URL too: `cursor=` (older runs, after a row) or
 * `before=` (newer runs, before a row), so a paged URL opened afresh pages
 * both ways. Child runs (sub-workflows, failure workflows) sit under their
 * parent when it is on the page, indented and marked; `children=hide` in the
 * URL hides them (a page-only choice: the API is asked the same).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, queryString, stream } from '../api.js';
import { Empty, ErrorBox, Link, Loading, Status, useAction } from '../components/common.js';
import { runDuration, time, triggerText } from '../format.js';
import { useNow } from '../use-now.js';
import { navigate, useLocation } from '../router.js';
import { RUN_STATUSES, SETTLED } from '../status.js';
import type { RunRecord, RunsPage as RunsResult } from '../types.js';
import { grouped } from '../run-rows.js';
import { whereParams } from '../where.js';

const FILTERS = [
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
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;
const PAGE_SIZE = 50;

/** `/api/runs?<filters>` with the where box's conditions as repeated parameters. */
function runsUrl(params: Record<string, string | number | undefined>): string {
  const { where, ...rest } = params;
  const base = queryString(rest);
  const extra = whereParams(where === undefined ? undefined : String(where));
  return `/api/runs${base}${extra ? `${base ? '&' : '?'}${extra}` : ''}`;
}

export function RunsPage() {
  const { query } = useLocation();
  const filters: Filters = {};
  for (const f of FILTERS) {
    const v = query.get(f);
    if (v) filters[f] = v;
  }
  const cursor = query.get('cursor') ?? undefined;
  const before = query.get('before') ?? undefined;
  const paged = cursor !== undefined || before !== undefined;
  // A page size in the URL (`limit=`) is kept while paging; else 50.
  const limit = Math.min(500, Math.max(1, Number(query.get('limit')) || PAGE_SIZE));
  const sized = { ...filters, ...(query.get('limit') ? { limit: String(limit) } : {}) };
  const key = queryString({ ...sized, cursor, before });

  const [result, setResult] = useState<RunsResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const reloadTimer = useRef<number | undefined>(undefined);
  // The runs ticked for a bulk action (cleared when the filter changes: a selection is of one filter's runs).
  const [selected, setSelected] = useState<Set<string>>(new Set());
  useEffect(() => setSelected(new Set()), [queryString(filters)]);
  const now = useNow(result?.runs.some((r) => !SETTLED.has(r.status)) ?? false);
  const tick = (runId: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(runId)) n.delete(runId);
      else n.add(runId);
      return n;
    });

  const load = () =>
    api.get<RunsResult>(runsUrl({ ...filters, cursor, before, limit })).then(
      (r) => {
        // Paged back to the newest runs: that is the first page, which follows new runs live.
        if (before !== undefined && !r.prevCursor) {
          navigate(`/${queryString(sized)}`, { replace: true });
          return;
        }
        setResult(r);
        setError(null);
      },
      (e: unknown) => setError(e),
    );

  useEffect(() => {
    setResult(null);
    void load();
  }, [key]);

  // Live: a run already on the page is updated in place; a new one reloads the first page (debounced).
  // Once the stream is subscribed (`ready`) the page is read again, so no change falls between the two.
  useEffect(() => {
    const close = stream('/api/stream', {
      ready: () => {
        setLive(true);
        void load();
      },
      record: (data) => {
        const rec = ((data as { record?: RunRecord }).record ?? data) as RunRecord;
        setLive(true);
        let known = false;
        setResult((r) => {
          if (!r) return r;
          const i = r.runs.findIndex((x) => x.runId === rec.runId);
          if (i < 0) return r;
          known = true;
          const runs = r.runs.slice();
          runs[i] = { ...runs[i]!, ...rec };
          return { ...r, runs };
        });
        if (!known && !paged) {
          window.clearTimeout(reloadTimer.current);
          reloadTimer.current = window.setTimeout(() => void load(), 300);
        }
      },
    });
    return () => {
      close();
      window.clearTimeout(reloadTimer.current);
    };
  }, [key]);

  const hideChildren = query.get('children') === 'hide';
  const apply = (next: Filters) =>
    navigate(`/${queryString({ ...next, children: hideChildren ? 'hide' : undefined })}`);
  const toggleChildren = () =>
    navigate(`/${queryString({ ...sized, cursor, before, children: hideChildren ? undefined : 'hide' })}`, {
      replace: true,
    });
  const rows = result ? grouped(result.runs) : [];
  const hidden = hideChildren ? rows.filter((r) => r.parent !== null).length : 0;
  const shownRows = hideChildren ? rows.filter((r) => r.parent === null) : rows;

  return (
    <div>
      <div class="page-head">
        <h1>Runs</h1>
        <span class={`live-dot${live ? ' on' : ''}`} title="live updates">
          {live ? 'live' : ''}
        </span>
        <div class="grow" />
        {result?.total !== undefined ? <span class="muted">{result.total} runs match</span> : null}
      </div>
      <FilterBar filters={filters} onApply={apply} />
      <BulkBar
        filters={filters}
        selected={[...selected]}
        onDone={() => {
          setSelected(new Set());
          void load();
        }}
      />
      <ErrorBox error={error} />
      {!result && !error ? <Loading /> : null}
      {result && result.runs.length > 0 ? (
        <div class="runs-tools small">
          <label class="inline">
            <input type="checkbox" name="show-children" checked={!hideChildren} onChange={toggleChildren} /> show child
            runs
          </label>
          {hidden > 0 ? (
            <span class="muted" data-testid="children-hidden">
              {hidden} child run{hidden === 1 ? '' : 's'} hidden
            </span>
          ) : null}
        </div>
      ) : null}
      {result ? (
        result.runs.length === 0 ? (
          <Empty>No runs match.</Empty>
        ) : (
          <div class="table-wrap">
            <table class="table runs">
              <colgroup>
                <col class="c-select" />
                <col class="c-status" />
                <col class="c-run" />
                <col class="c-workflow" />
                <col class="c-trigger" />
                <col class="c-agents" />
                <col class="c-started" />
                <col class="c-duration" />
                <col class="c-result" />
              </colgroup>
              <thead>
                <tr>
                  <th>
                    <span class="sr-only">Select</span>
                  </th>
                  <th>Status</th>
                  <th>Run</th>
                  <th>Workflow</th>
                  <th>Trigger</th>
                  <th>Agents</th>
                  <th>Started</th>
                  <th>Duration</th>
                  <th>Result</th>
                </tr>
              </thead>
              <tbody>
                {shownRows.map(({ run: r, parent, nested }) => (
                  <tr
                    key={r.runId}
                    data-run={r.runId}
                    data-status={r.status}
                    data-parent={parent ?? undefined}
                    class={parent ? `child${nested ? ' nested' : ''}` : ''}
                  >
                    <td>
                      <input
                        type="checkbox"
                        name="select"
                        value={r.runId}
                        aria-label={`select run ${r.runId}`}
                        checked={selected.has(r.runId)}
                        onChange={() => tick(r.runId)}
                      />
                    </td>
                    <td>
                      <Status status={r.status} />
                    </td>
                    <td class="mono run-id">
                      {parent ? (
                        <span class="child-mark" title={`child run of ${parent}`}>
                          ↳{' '}
                        </span>
                      ) : null}
                      <Link href={`/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</Link>
                      {parent && !nested ? (
                        <div class="small muted">
                          child of <Link href={`/runs/${encodeURIComponent(parent)}`}>{parent}</Link>
                        </div>
                      ) : null}
                    </td>
                    <td class="wrap">
                      {r.workflowId}
                      <span class="muted">@{r.version}</span>
                      {r.search ? (
                        <div class="small muted search-attrs" data-testid="search-attrs">
                          {Object.entries(r.search)
                            .map(([k, v]) => `${k}=${String(v)}`)
                            .join(' ')}
                        </div>
                      ) : null}
                    </td>
                    <td class="small ellipsis" title={triggerText(r.trigger)}>
                      {triggerText(r.trigger)}
                    </td>
                    <td class="small wrap">{(r.agents ?? []).join(', ') || <span class="muted">—</span>}</td>
                    <td class="small nowrap" title={r.startedAt}>
                      {time(r.startedAt)}
                    </td>
                    <td class="small nowrap" data-col="duration">
                      {runDuration(r, now)}
                    </td>
                    <ResultCell text={r.result ?? ''} />
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      <div class="pager">
        {result?.prevCursor ? (
          <button type="button" onClick={() => navigate(`/${queryString({ ...sized, before: result.prevCursor })}`)}>
            ← Newer
          </button>
        ) : null}
        {result?.nextCursor ? (
          <button type="button" onClick={() => navigate(`/${queryString({ ...sized, cursor: result.nextCursor })}`)}>
            Older →
          </button>
        ) : null}
      </div>
    </div>
  );
}

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
 * A bulk action (POST /api/bulk/:action, docs/operations.md#bulk-actions) on the runs ticked, or on all matching
 * this filter: Preview is a dry run that says how many; the button sends that count as `confirm` (a 409 when runs
 * moved meanwhile), so a click never acts on more than the person saw.
 */
function BulkBar(props: { filters: Filters; selected: string[]; onDone: () => void }) {
  const [action, setAction] = useState<(typeof BULK)[number]>('cancel');
  const [all, setAll] = useState(false);
  const [preview, setPreview] = useState<BulkPreview | null>(null);
  const [done, setDone] = useState<BulkDone | null>(null);
  const { busy, error, run } = useAction();
  const filtered = Object.keys(props.filters).length > 0;
  const scope = all ? {} : { runs: props.selected };
  const ready = all ? filtered : props.selected.length > 0;
  useEffect(() => {
    setPreview(null);
  }, [action, all, props.selected.join(','), queryString(props.filters)]);
  const look = () =>
    run(async () => {
      setDone(null);
      setPreview(await api.post<BulkPreview>(`/api/bulk/${action}`, { query: props.filters, ...scope, dryRun: true }));
    });
  const go = () =>
    run(async () => {
      setDone(
        await api.post<BulkDone>(`/api/bulk/${action}`, {
          query: props.filters,
          ...scope,
          confirm: preview!.would.length,
        }),
      );
      setPreview(null);
      props.onDone();
    });
  const verb = action[0]!.toUpperCase() + action.slice(1);
  return (
    <div class="bulk-bar small" data-testid="bulk-bar">
      <span>{all ? 'All runs matching this filter' : `${props.selected.length} selected`}</span>
      <label class="inline">
        <input type="checkbox" name="all-matching" checked={all} disabled={!filtered} onChange={() => setAll(!all)} />{' '}
        all matching this filter
      </label>
      <select
        name="bulk-action"
        value={action}
        onChange={(e) => setAction(e.currentTarget.value as (typeof BULK)[number])}
      >
        {BULK.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
      <button type="button" disabled={busy || !ready} onClick={look}>
        Preview
      </button>
      {!filtered && all ? <span class="muted">Filter first: all runs are never meant by accident.</span> : null}
      <ErrorBox error={error} />
      {preview ? (
        <span data-testid="bulk-preview">
          <strong>{preview.would.length}</strong> run(s) would be {DONE_KEY[action]}
          {preview.already.length ? `; ${preview.already.length} already` : ''}.{' '}
          {preview.would.length ? (
            <button type="button" class="danger" disabled={busy} onClick={go}>
              {verb} {preview.would.length} run(s)
            </button>
          ) : null}
        </span>
      ) : null}
      {done ? (
        <span data-testid="bulk-done">
          {verb}: {((done[DONE_KEY[action]] as string[] | undefined) ?? []).length} done; {done.already.length} already;{' '}
          {done.refused.length} refused.
        </span>
      ) : null}
      {done?.refused.map((r) => (
        <p key={r.runId} class="error small">
          {r.runId}: {r.message}
        </p>
      ))}
    </div>
  );
}

function FilterBar(props: { filters: Filters; onApply: (f: Filters) => void }) {
  const [f, setF] = useState<Filters>(props.filters);
  useEffect(() => setF(props.filters), [JSON.stringify(props.filters)]);
  const field = (name: keyof Filters, placeholder: string, width = '') => (
    <input
      class={`filter ${width}`}
      name={name}
      placeholder={placeholder}
      value={f[name] ?? ''}
      onInput={(e) => setF({ ...f, [name]: e.currentTarget.value })}
    />
  );
  return (
    <form
      class="filters"
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply(f);
      }}
    >
      {field('runId', 'run id…', 'wide')}
      {field('workflow', 'workflow')}
      <select name="status" value={f.status ?? ''} onChange={(e) => setF({ ...f, status: e.currentTarget.value })}>
        <option value="">any status</option>
        {RUN_STATUSES.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
      {field('trigger', 'trigger (event, schedule:…)')}
      {field('agent', 'agent')}
      {field('since', 'since (24h, ISO)', 'narrow')}
      {field('until', 'until', 'narrow')}
      {field('outputContains', 'output contains')}
      {field('where', 'where (customer=42 amount>100)', 'wide')}
      <button type="submit" class="primary">
        Filter
      </button>
      <button
        type="button"
        onClick={() => {
          setF({});
          props.onApply({});
        }}
      >
        Clear
      </button>
    </form>
  );
}

/** A run's result, one line cut with "…"; a click shows it whole (and the cut says so on hover). */
function ResultCell(props: { text: string }) {
  const [open, setOpen] = useState(false);
  return (
    <td
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a table cell the keyboard opens too (a button inside would change the table's layout)
      tabIndex={0}
      class={`small result ${open ? 'open' : 'ellipsis'}`}
      title={open ? undefined : `${props.text}\n\n(click to show it whole)`}
      onClick={() => setOpen(!open)}
      onKeyDown={(k) => {
        if (k.key === 'Enter') setOpen(!open);
      }}
    >
      {props.text}
    </td>
  );
}
