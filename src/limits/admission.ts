/**
 * Concurrency limits and priority (`concurrency:` / `priority:` on a workflow,
 * docs/limits.md#concurrency-limits-and-priority), for every executor: the in-process Engine's start
 * (executor/start-commit.ts), the commits that settle a run (local and NATS alike) and resume/serve call these. Who
 * holds a slot is what the runs' logs say (a run holds one from its start or run.admitted until its log says it
 * settled, however that happened, so a dead process never keeps one); a start and a settle read it from the slot
 * document that projects them (admission-slots.ts), anything else reads the logs (slotsOf). Every decision is taken
 * under the store's `exclusive` lock for (workflow, key), so two processes or engines never both take the last slot
 * (admission-batch.ts takes it once for every decision waiting in a process).
 */
import { DEFAULT_PRIORITY, MAX_PRIORITY, type Definition, type OnLimit } from '../definition/index.js';
import { UsageError, clippedValue, quoteValue } from '../errors/index.js';
import { canonicalJson, resolveTemplate } from '../expressions/index.js';
import { SETTLED_STATUSES, type PendingEvent } from '../events/index.js';
import { applyEvent, envelopeOf, foldEvents } from '../runtime/index.js';
import type { EventStore, RunSummary } from '../store/index.js';
import { appendCommit, commitWithRetry, type Clock } from '../executor/commit.js';
import { foldLoaded } from '../executor/payloads.js';
import { cachedFacts, rememberFacts, settledRunsOf } from './admission-cache.js';

/** What a start of a workflow with `concurrency:` is subject to. */
export interface Admission {
  limit: number;
  key: string | null;
  onLimit: OnLimit;
  priority: number;
}

/** The admission of a start (`priority`: the start's override, checked), or null when the workflow has no `concurrency:`. */
export function admissionOf(def: Definition, input: Record<string, unknown>, priority?: number): Admission | null {
  const c = def.concurrency;
  if (!c) return null;
  return {
    limit: c.limit,
    key: concurrencyKey(def, input),
    onLimit: c.onLimit,
    priority: checkPriority(priority) ?? def.priority ?? DEFAULT_PRIORITY,
  };
}

/**
 * A start's priority (`--priority`, the API's `priority`, the HTTP start's), checked at the boundary:
 * a whole number 0..99 (text of one from a flag); undefined when none was given. A UsageError naming `what` otherwise.
 */
export function checkPriority(value: unknown, what = 'priority'): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,2}$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_PRIORITY) return n;
  throw new UsageError(
    `invalid ${what} ${quoteValue(value)}: expected a whole number from 0 to ${MAX_PRIORITY} (higher is admitted first)`,
    { option: what, value: clippedValue(value) },
  );
}

/** The value of `concurrency.key` for a run's input (text; a value that is not text as canonical JSON); null without a key. */
export function concurrencyKey(def: Definition, input: Record<string, unknown>): string | null {
  const template = def.concurrency?.key;
  if (template === undefined) return null;
  const v = resolveTemplate(template, { input, workflow: { id: def.id, runId: '', version: def.version }, tasks: {} });
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : canonicalJson(v);
}

/** A queued run, in the order admission takes them: higher priority first, then earlier run.queued, then run id. */
export interface QueuedRun {
  runId: string;
  priority: number;
  queuedAt: string;
}

/** Who holds the slots of (workflow, key), and who waits for one. */
export interface Slots {
  holders: string[];
  queued: QueuedRun[];
}

interface RunFacts {
  key: string | null;
  queued: QueuedRun | null;
}

async function factsOf(store: EventStore, def: Definition, runId: string): Promise<RunFacts | null> {
  const cacheKey = `${runId}\u0000${def.id}\u0000${def.concurrency?.key ?? ''}`;
  const hit = cachedFacts<RunFacts>(cacheKey);
  if (hit) return hit;
  // run.queued follows run.started (and a fork's run.forked) in the start commit.
  const [first, ...next] = await store.read(runId, { toSeq: 3 });
  if (first?.type !== 'run.started') return null;
  const second = next.find((e) => e.type === 'run.queued');
  const queued =
    second?.type === 'run.queued' ? { runId, priority: second.data.priority, queuedAt: second.time } : null;
  const facts = { key: concurrencyKey(def, first.data.input), queued };
  rememberFacts(cacheKey, facts);
  return facts;
}

export function byAdmissionOrder(a: QueuedRun, b: QueuedRun): number {
  return (
    b.priority - a.priority ||
    (a.queuedAt < b.queuedAt ? -1 : a.queuedAt > b.queuedAt ? 1 : 0) ||
    (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0)
  );
}

/** The slots of `def`'s workflow for `key`, read from the store: every run not settled holds one, unless it is QUEUED. */
export async function slotsOf(store: EventStore, def: Definition, key: string | null): Promise<Slots> {
  const holders: string[] = [];
  const queued: QueuedRun[] = [];
  for (const run of await unsettledRuns(store, def.id)) {
    const facts = await factsOf(store, def, run.runId);
    if (!facts || facts.key !== key) continue;
    if (run.status === 'QUEUED')
      queued.push(facts.queued ?? { runId: run.runId, priority: DEFAULT_PRIORITY, queuedAt: run.startedAt });
    else holders.push(run.runId);
  }
  return { holders, queued: queued.sort(byAdmissionOrder) };
}

/** Run summaries read at once when looking for a workflow's unsettled runs. */
const SUMMARY_READS = 32;

/** A store whose runs can be listed by id and summarised one at a time (FileEventStore). */
interface ListsOneByOne {
  runIds(): Promise<string[]>;
  summary(runId: string): Promise<RunSummary | null>;
}

/** The runs of `workflowId` that have not settled: read from their logs, skipping runs this process has seen settled. */
async function unsettledRuns(store: EventStore, workflowId: string): Promise<RunSummary[]> {
  const byOne = store as Partial<ListsOneByOne>;
  if (typeof byOne.runIds !== 'function' || typeof byOne.summary !== 'function') {
    return (await store.listRuns({ workflowId })).filter((r) => !SETTLED_STATUSES.includes(r.status));
  }
  // Runs known settled never go again, so a store that lists runs one by one (the file store) skips reading them.
  const known = settledRunsOf(store);
  const out: RunSummary[] = [];
  const ids = (await byOne.runIds.call(store)).filter((id) => !known.has(id));
  // Read SUMMARY_READS at a time: the reads are the file system's, and most are one stat (store/summary-cache.ts).
  for (let i = 0; i < ids.length; i += SUMMARY_READS) {
    const summaries = await Promise.all(
      ids.slice(i, i + SUMMARY_READS).map((id) => byOne.summary!.call(store, id).catch(() => null)),
    );
    for (const s of summaries) {
      if (!s) continue;
      if (SETTLED_STATUSES.includes(s.status)) known.add(s.runId);
      else if (s.workflowId === workflowId) out.push(s);
    }
  }
  return out;
}

/**
 * What admitting a queued run came to: admitted now; holding a slot already (admitted before, by a process that died
 * before it wrote the slot document); or gone (no log, settled, cancelled meanwhile).
 */
type AdmitOutcome = 'admitted' | 'holding' | 'gone';

/** Appends run.admitted to a run still QUEUED. */
export async function admitOne(store: EventStore, clock: Clock, runId: string, by?: string): Promise<AdmitOutcome> {
  return commitWithRetry(runId, async () => {
    const events = await store.read(runId);
    if (events.length === 0) return 'gone';
    const blobs = store.blobs?.();
    const { compiled, snapshot, seq } = await foldLoaded(blobs, () => foldEvents(events));
    if (snapshot.status !== 'active') return 'gone';
    if (snapshot.context.queued !== true) return 'holding';
    const ev: PendingEvent = {
      type: 'run.admitted',
      time: new Date(clock.now()).toISOString(),
      data: by ? { by } : {},
    };
    const r = await foldLoaded(blobs, () => applyEvent(compiled, snapshot, ev));
    if (!r.accepted) return 'gone';
    await appendCommit(store, runId, seq, 'admit', [envelopeOf(runId, seq + 1, ev, r.snapshot)]);
    return 'admitted';
  });
}
