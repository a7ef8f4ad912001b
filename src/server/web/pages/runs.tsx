/**
 * The runs table: filters kept in the URL (so a filtered view can be shared), newest first, a page at a time by cursor,
 * rows updated live from /api/stream. The page's place is in the URL too: `cursor=` (older runs, after a row) or
 * `before=` (newer runs, before a row), so a paged URL opened afresh pages both ways. Child runs (sub-workflows,
 * failure workflows) sit under their parent when it is on the page, indented and marked; `children=hide` in the URL
 * hides them (a page-only choice: the API is asked the same).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, queryString, stream } from '../api.js';
import { Button, clickable, Empty, ErrorBox, Link, Loading, PageHead, Status, Table } from '../components/common.js';
import { runDuration, time, triggerText } from '../format.js';
import { useNow } from '../use-now.js';
import { navigate, useLocation } from '../router.js';
import { SETTLED } from '../status.js';
import type { RunRecord, RunsPage as RunsResult } from '../types.js';
import { grouped } from '../run-rows.js';
import { whereParams } from '../where.js';
import { BulkBar } from './runs-bulk-bar.js';
import { FILTERS, FilterBar, type Filters } from './runs-filter-bar.js';

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
  const filters: Filters = Object.fromEntries(FILTERS.flatMap((f) => (query.get(f) ? [[f, query.get(f)]] : [])));
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
    setSelected((s) => new Set(s.has(runId) ? [...s].filter((x) => x !== runId) : [...s, runId]));

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
      <PageHead
        title="Runs"
        after={
          <span class={`live-dot${live ? ' on' : ''}`} title="live updates">
            {live ? 'live' : ''}
          </span>
        }
      >
        {result?.total !== undefined ? <span class="muted">{result.total} runs match</span> : null}
      </PageHead>
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
            <Table
              class="runs"
              cols="select status run workflow trigger agents started duration result"
              heads={[
                <span class="sr-only">Select</span>,
                'Status',
                'Run',
                'Workflow',
                'Trigger',
                'Agents',
                'Started',
                'Duration',
                'Result',
              ]}
              rows={shownRows}
              row={({ run: r, parent, nested }) => (
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
                    <Link run={r.runId} />
                    {parent && !nested ? (
                      <div class="small muted">
                        child of <Link run={parent} />
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
              )}
            />
          </div>
        )
      ) : null}
      <div class="pager">
        {result?.prevCursor ? (
          <Button
            label="← Newer"
            onClick={() => navigate(`/${queryString({ ...sized, before: result.prevCursor })}`)}
          />
        ) : null}
        {result?.nextCursor ? (
          <Button
            label="Older →"
            onClick={() => navigate(`/${queryString({ ...sized, cursor: result.nextCursor })}`)}
          />
        ) : null}
      </div>
    </div>
  );
}

/** A run's result, one line cut with "…"; a click shows it whole (and the cut says so on hover). */
function ResultCell(props: { text: string }) {
  const [open, setOpen] = useState(false);
  return (
    <td
      class={`small result ${open ? 'open' : 'ellipsis'}`}
      title={open ? undefined : `${props.text}\n\n(click to show it whole)`}
      {...clickable(() => setOpen(!open))}
    >
      {props.text}
    </td>
  );
}
