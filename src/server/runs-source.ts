/**
 * INTERIM — to be replaced by src/query (openRunIndex, parseRunQuery,
 * RunRecord) when that module lands: this adapter has exactly its
 * interface, built over `store.listRuns`, so the swap is an import change.
 *
 * It implements the workflow, status, runId (prefix), since/until and
 * trigger-kind filters plus paging (newest first); `agent` and
 * `outputContains` are accepted and ignored (they need each run's events,
 * which is what src/query's index keeps). Records carry what a RunSummary
 * says; `agents`, `result` and `tasks` stay empty until src/query.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope, type WorkflowStatus } from '../events/index.js';
import type { EventStore, RunSummary } from '../store/index.js';

export type RunTrigger =
  | { kind: 'event'; type: string; id: string }
  | { kind: 'schedule'; slot: string }
  | { kind: 'parent'; runId: string; relation?: string }
  | { kind: 'retry'; runId: string }
  | { kind: 'manual' };

/** One row of the runs page (docs/dashboard.md "Run records"). */
export interface RunRecord extends RunSummary {
  trigger: RunTrigger;
  agents: string[];
  durationMs: number | null;
  result: string | null;
  outputText?: string;
  tasks: Record<string, { status: string; attempts: number; durationMs: number | null }>;
  waiting?: string[];
}

const STATUSES = ['RUNNING', 'WAITING', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;

/** A time: ISO, or relative to now like `24h`, `30m`, `7d`. */
const timeParam = z.string().transform((s, ctx) => {
  const rel = /^(\d+)(s|m|h|d)$/.exec(s);
  if (rel) return new Date(Date.now() - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's']).toISOString();
  const t = Date.parse(s);
  if (Number.isNaN(t)) { ctx.addIssue({ code: 'custom', message: 'an ISO time or a relative one like 24h, 30m, 7d' }); return z.NEVER; }
  return new Date(t).toISOString();
});

export const RunQuerySchema = z.object({
  workflow: z.string().min(1).optional(),
  status: z.string().transform((s) => s.toUpperCase()).pipe(z.enum(STATUSES)).optional(),
  trigger: z.string().regex(/^(event|schedule|parent|retry|manual)(:.+)?$/, 'kind or kind:id, kind one of event, schedule, parent, retry, manual').optional(),
  agent: z.string().min(1).optional(),
  since: timeParam.optional(),
  until: timeParam.optional(),
  outputContains: z.string().min(1).optional(),
  runId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().regex(/^\d+$/, 'a cursor from nextCursor').optional(),
}).strict();
export type RunQuery = z.output<typeof RunQuerySchema>;

/** Parses the query (HTTP query string or flags); a bad value throws InputError naming the field. */
export function parseRunQuery(raw: unknown, place: 'query' | 'flags' = 'query'): RunQuery {
  const r = RunQuerySchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.code === 'unrecognized_keys' ? issue.keys[0]! : String(issue.path[0] ?? '');
  throw new InputError(`${place === 'query' ? 'query parameter' : 'flag'} ${field}: ${issue.code === 'unrecognized_keys' ? 'unknown filter' : issue.message}`, { field });
}

export interface RunPage { runs: RunRecord[]; nextCursor: string | null; total: number }

export interface RunIndex {
  query(q: RunQuery): Promise<RunPage>;
  get(runId: string): Promise<RunRecord | null>;
  /** The runs whose parent is `runId` (sub-workflow children, failure workflows), oldest first. INTERIM here: a scan of every summary; src/query's index answers it by parent. */
  children(runId: string): Promise<RunRecord[]>;
  /** Calls onChange with the record of every run that changed; returns a function that stops it. */
  subscribe(onChange: (record: RunRecord) => void): () => void;
  close(): Promise<void>;
}

export function triggerOf(summary: RunSummary, first?: EventEnvelope): RunTrigger {
  const source = first?.type === 'run.started' ? first.data.source : undefined;
  const event = (source as { event?: { type?: string; id?: string } } | undefined)?.event;
  if (event?.type && event.id) return { kind: 'event', type: event.type, id: event.id };
  const retryOf = (source as { retryOf?: { runId?: string } } | undefined)?.retryOf;
  if (retryOf?.runId) return { kind: 'retry', runId: retryOf.runId };
  if (summary.schedule) return { kind: 'schedule', slot: summary.schedule.slot };
  if (summary.parent) return { kind: 'parent', runId: summary.parent.runId, ...(summary.parent.relation ? { relation: summary.parent.relation } : {}) };
  return { kind: 'manual' };
}

export function recordOfSummary(s: RunSummary, first?: EventEnvelope): RunRecord {
  return {
    ...s, trigger: triggerOf(s, first), agents: [], tasks: {}, result: null,
    durationMs: s.completedAt ? Date.parse(s.completedAt) - Date.parse(s.startedAt) : null,
  };
}

function summaryOf(events: EventEnvelope[]): RunSummary | null {
  const first = events[0];
  const last = events.at(-1);
  if (!first || !last) return null;
  const status = last.state.status as WorkflowStatus;
  const src = first.type === 'run.started' ? first.data.source : undefined;
  return {
    runId: first.runId, workflowId: first.workflowId, version: first.version, status, startedAt: first.time,
    completedAt: SETTLED_STATUSES.includes(status) ? last.time : null, lastSeq: last.seq,
    ...(src?.parent ? { parent: { runId: src.parent.runId, ...(src.parent.task !== undefined ? { task: src.parent.task } : {}), ...(src.parent.relation ? { relation: src.parent.relation } : {}) } } : {}),
    ...(src?.schedule ? { schedule: { trigger: src.schedule.trigger, slot: src.schedule.slot } } : {}),
  };
}

function matches(r: RunRecord, q: RunQuery): boolean {
  if (q.runId && !r.runId.startsWith(q.runId)) return false;
  if (q.since && r.startedAt < q.since) return false;
  if (q.until && r.startedAt > q.until) return false;
  if (q.trigger) {
    const [kind, id] = q.trigger.split(/:(.*)/s);
    if (r.trigger.kind !== kind) return false;
    if (id !== undefined && id !== '') {
      const t = r.trigger as { id?: string; slot?: string; runId?: string };
      if (t.id !== id && t.slot !== id && t.runId !== id) return false;
    }
  }
  return true;
}

/**
 * A run index over the store's listRuns. `watch`: a directory whose changes
 * mean runs changed (the file store's runs/); `changes`: a store-specific
 * change feed (NATS: the events subjects) giving the run ids that changed.
 */
export function openRunIndex(opts: {
  store: EventStore;
  storeDir?: string;
  changes?: (onRun: (runId: string) => void) => () => void;
}): RunIndex {
  const { store } = opts;
  const listeners = new Set<(r: RunRecord) => void>();
  let stopFeed: (() => void) | null = null;
  let watcher: FSWatcher | null = null;
  const pending = new Set<string>();
  let flushTimer: ReturnType<typeof setTimeout> | null = null;

  const recordOf = async (runId: string): Promise<RunRecord | null> => {
    const events = await store.read(runId, {}).catch(() => [] as EventEnvelope[]);
    const s = summaryOf(events);
    return s ? recordOfSummary(s, events[0]) : null;
  };
  // Changes are gathered for a moment: a busy run appends many times a second, its record is sent once.
  const changed = (runId: string) => {
    if (listeners.size === 0) return;
    pending.add(runId);
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      const ids = [...pending];
      pending.clear();
      void (async () => {
        for (const id of ids) {
          const r = await recordOf(id);
          if (r) for (const l of listeners) l(r);
        }
      })();
    }, 100);
  };
  const startFeed = () => {
    if (opts.changes) { stopFeed = opts.changes(changed); return; }
    if (opts.storeDir) {
      try {
        watcher = watch(join(opts.storeDir, 'runs'), { persistent: false }, (_e, name) => {
          const file = name === null ? '' : String(name);
          if (file.endsWith('.jsonl')) changed(file.slice(0, -6));
        });
        watcher.on('error', () => { watcher?.close(); watcher = null; });
      } catch {
        watcher = null; // no runs/ yet: nothing to follow until the next subscribe
      }
    }
  };

  return {
    async query(q) {
      const summaries = await store.listRuns({ ...(q.workflow ? { workflowId: q.workflow } : {}), ...(q.status ? { status: q.status } : {}), onCorrupt: () => undefined });
      // Only the event-started runs need their first event read to tell their trigger: the summary says the rest.
      const all = summaries.map((s) => recordOfSummary(s)).filter((r) => matches(r, { ...q, trigger: q.trigger?.startsWith('event') ? undefined : q.trigger }));
      all.reverse(); // newest first
      let rows = all;
      if (q.trigger?.startsWith('event')) {
        const withFirst: RunRecord[] = [];
        for (const r of all) {
          const first = (await store.read(r.runId, { toSeq: 1 }))[0];
          const rec = recordOfSummary(r, first);
          if (matches(rec, q)) withFirst.push(rec);
        }
        rows = withFirst;
      }
      const from = q.cursor ? Number(q.cursor) : 0;
      const page = rows.slice(from, from + q.limit);
      // The page's rows get their trigger from their first event (an event id, a retry): one read per row shown.
      const runs = await Promise.all(page.map(async (r) => (r.trigger.kind === 'event' ? r : recordOfSummary(r, (await store.read(r.runId, { toSeq: 1 }))[0]))));
      return { runs, nextCursor: from + q.limit < rows.length ? String(from + q.limit) : null, total: rows.length };
    },
    get: recordOf,
    async children(runId) {
      const all = await store.listRuns({ onCorrupt: () => undefined });
      return all.filter((r) => r.parent?.runId === runId).map((r) => recordOfSummary(r));
    },
    subscribe(onChange) {
      listeners.add(onChange);
      if (listeners.size === 1) startFeed();
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0) { stopFeed?.(); stopFeed = null; watcher?.close(); watcher = null; }
      };
    },
    async close() {
      listeners.clear();
      stopFeed?.();
      watcher?.close();
      if (flushTimer) clearTimeout(flushTimer);
    },
  };
}
