/**
 * The projection that keeps KV LF_RUNS_INDEX: every engine pulls from one
 * durable consumer on the log's stream (shared: each commit goes to one
 * engine) and applies each commit to its run's value with compare-and-set on
 * the key's revision. A commit that continues the value is folded onto it; one
 * already in it (redelivered, or a record rebuilt past it) is skipped; any
 * other (a gap: commits handled out of order by two engines, a value with no
 * fold kept) rebuilds the record from the run's log. `reindex` rebuilds the
 * whole bucket from the log. Nothing here is the only copy of anything.
 */
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type KV, type KvEntry } from 'nats';
import type { CompiledWorkflow } from '../compiler/index.js';
import { CorruptRunError } from '../errors/index.js';
import { CommitSchema, type EventEnvelope } from '../events/index.js';
import { compiledForRun } from '../runtime/index.js';
import type { CorruptRun, JetStreamEventStore } from '../store/index.js';
import { openBucket, decodeValue, encodeValue, isCasConflict, isNotFound, RUNS_INDEX_BUCKET, RUNS_INDEX_CONSUMER, type BucketSettings, type IndexValue } from './jetstream-bucket.js';
import { advance, canContinue, persistTracked, restoreTracked, track, type TrackedRun } from './record.js';

export { RUNS_INDEX_BUCKET, RUNS_INDEX_CONSUMER } from './jetstream-bucket.js';

export interface ProjectionOptions extends BucketSettings {
  store: JetStreamEventStore;
  log?: (line: string) => void;
  /** Commits applied at once (of different runs; one run's are applied in turn here). Default 16. */
  concurrency?: number;
}

export interface RunIndexProjection {
  readonly stats: { applied: number; rebuilt: number; skipped: number; corrupt: number; conflicts: number; failures: number };
  stop(): Promise<void>;
}

const MAX_ROUNDS = 10;

/** Creates the projection's durable consumer if missing: from `startSeq` (default: the stream's first message). */
export async function ensureProjectionConsumer(store: JetStreamEventStore, startSeq?: number): Promise<void> {
  const jsm = await (await store.connection()).jetstreamManager();
  try {
    await jsm.consumers.info(store.stream, RUNS_INDEX_CONSUMER);
    return;
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message ?? '')) throw err;
  }
  await jsm.consumers.add(store.stream, {
    durable_name: RUNS_INDEX_CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: nanos(30_000), max_ack_pending: 1000,
    filter_subject: `${store.subjectPrefix}.>`,
    ...(startSeq ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq } : { deliver_policy: DeliverPolicy.All }),
  });
}

export async function startRunIndexProjection(o: ProjectionOptions): Promise<RunIndexProjection> {
  const { store } = o;
  const log = o.log ?? (() => {});
  const nc = await store.connection();
  const js = nc.jetstream();
  await ensureProjectionConsumer(store);
  let kv: KV | null = await openBucket(js, o);
  const bucket = async () => (kv ??= await openBucket(js, o));
  const stats = { applied: 0, rebuilt: 0, skipped: 0, corrupt: 0, conflicts: 0, failures: 0 };
  const compiledByHash = new Map<string, CompiledWorkflow>();
  let stopped = false;
  const runChains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  const limit = o.concurrency ?? 16;

  /** The machine of a run's definition: remembered by hash, else read from the run's run.started. */
  const compiledOf = async (runId: string, hash: string): Promise<CompiledWorkflow | null> => {
    const known = compiledByHash.get(hash);
    if (known) return known;
    const [first] = await store.read(runId, { toSeq: 1 });
    if (!first || first.type !== 'run.started' || first.data.definitionHash !== hash) return null;
    const compiled = compiledForRun(first);
    if (compiledByHash.size > 100) compiledByHash.clear();
    compiledByHash.set(hash, compiled);
    return compiled;
  };

  const rebuild = async (runId: string): Promise<IndexValue | null> => {
    stats.rebuilt++;
    try {
      const events = await store.read(runId);
      return events.length === 0 ? null : valueOf(track(events), events[0]!);
    } catch (err) {
      if (!(err instanceof CorruptRunError)) throw err;
      return { corrupt: { runId, file: err.where, reason: err.reason } };
    }
  };

  /** The value after this commit, or null when it is already in `had` (or the run is gone). */
  const next = async (runId: string, events: EventEnvelope[], had: IndexValue | null): Promise<IndexValue | null> => {
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    if (had && 'record' in had) {
      if (had.record.lastSeq >= last) return null;
      if (had.record.lastSeq === first - 1 && canContinue(had)) {
        const compiled = had.fold ? await compiledOf(runId, had.definitionHash) : null;
        const t = restoreTracked(had, compiled);
        if (t) return persistTracked(advance(t, events), had.definitionHash);
      }
      return rebuild(runId);
    }
    if (!had && first === 1 && events[0]!.type === 'run.started') return valueOf(track(events), events[0]!);
    return rebuild(runId);
  };

  const apply = async (m: JsMsg): Promise<void> => {
    const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    let events: EventEnvelope[];
    try {
      const parsed = CommitSchema.safeParse(JSON.parse(m.string()));
      if (!parsed.success) throw new Error(parsed.error.message);
      events = parsed.data.events;
    } catch (err) {
      // Not a commit: the run cannot be read; say so in its value (the reader reports it), rebuilding would fail the same way.
      stats.corrupt++;
      await write(runId, { corrupt: { runId, file: `${store.stream} message ${m.seq}`, reason: (err as Error).message } });
      return;
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await (await bucket()).get(runId);
      const had = entry && entry.operation === 'PUT' ? decodeValue(entry.string()) : null;
      const value = await next(runId, events, had);
      if (!value) { stats.skipped++; return; }
      if (await cas(runId, value, entry)) { stats.applied++; return; }
      stats.conflicts++;
    }
    throw new Error(`run ${runId}: its index value kept changing under ${MAX_ROUNDS} attempts`);
  };

  const write = async (runId: string, value: IndexValue) => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await (await bucket()).get(runId);
      if (await cas(runId, value, entry)) return;
    }
  };

  /** Writes at the revision read; false when someone else wrote first. */
  const cas = async (runId: string, value: IndexValue, entry: KvEntry | null): Promise<boolean> => {
    const b = await bucket();
    try {
      if (entry) await b.update(runId, encodeValue(value), entry.revision);
      else await b.create(runId, encodeValue(value));
      return true;
    } catch (err) {
      if (isCasConflict(err)) return false;
      throw err;
    }
  };

  const handle = (m: JsMsg): Promise<void> => {
    const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    // One run's commits in turn (fewer conflicts); different runs at once.
    const prev = runChains.get(runId) ?? Promise.resolve();
    const p = prev.then(async () => {
      try {
        await apply(m);
        m.ack();
      } catch (err) {
        stats.failures++;
        if (isNotFound(err)) kv = null; // the bucket was deleted (reindex): open (create) it again
        if (!stopped) log(`run index: commit ${m.seq} of run ${runId}: ${(err as Error).message}; tried again later`);
        m.nak(1000);
      }
    });
    runChains.set(runId, p);
    void p.then(() => { if (runChains.get(runId) === p) runChains.delete(runId); });
    return p;
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        const consumer = await js.consumers.get(store.stream, RUNS_INDEX_CONSUMER);
        while (!stopped) {
          const batch = await consumer.fetch({ max_messages: limit, expires: 1000 });
          for await (const m of batch) {
            const p = handle(m);
            inflight.add(p);
            void p.finally(() => inflight.delete(p));
            if (inflight.size >= limit) await Promise.race(inflight);
          }
        }
      } catch (err) {
        if (stopped) break;
        log(`run index: ${(err as Error).message}; pulling again in 1 s`);
        await new Promise((r) => setTimeout(r, 1000));
        try { await ensureProjectionConsumer(store); } catch { /* the next round reports it */ }
      }
    }
  })();

  return {
    stats,
    async stop() {
      stopped = true;
      await loop;
      await Promise.allSettled([...inflight]);
    },
  };
}

function valueOf(t: TrackedRun, first: EventEnvelope): IndexValue {
  return persistTracked(t, first.type === 'run.started' ? first.data.definitionHash : '');
}

export interface ReindexReport {
  /** What was rebuilt: the KV bucket's name (NATS) or the cache file's path (file store). */
  index: string;
  runs: number;
  corrupt: CorruptRun[];
  ms: number;
}

/**
 * Rebuilds LF_RUNS_INDEX from the log: the bucket is deleted and made again,
 * then every run is read (one pass over the stream) and its record written.
 * The projection's consumer is made again at the log's end as it was before
 * the read, so it holds exactly the commits the rebuild may have missed and
 * readers can tell whether the index has fallen behind. Engines running
 * meanwhile pull from the new consumer; a record one of them wrote first is
 * kept (it is as new).
 */
export async function reindex(store: JetStreamEventStore, o: BucketSettings & { onProgress?: (runs: number) => void } = {}): Promise<ReindexReport> {
  const started = Date.now();
  const nc = await store.connection();
  const js = nc.jetstream();
  const jsm = await nc.jetstreamManager();
  const end = (await jsm.streams.info(store.stream)).state.last_seq;
  try {
    await jsm.streams.delete(`KV_${RUNS_INDEX_BUCKET}`);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const kv = await openBucket(js, o);
  // The projection starts again after what this rebuild reads: engines pulling meanwhile move to the new consumer.
  try {
    await jsm.consumers.delete(store.stream, RUNS_INDEX_CONSUMER);
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message ?? '')) throw err;
  }
  await ensureProjectionConsumer(store, end + 1);
  const corrupt: CorruptRun[] = [];
  let runs = 0;
  let pending: Promise<void>[] = [];
  const create = async (runId: string, value: IndexValue) => {
    try {
      await kv.create(runId, encodeValue(value));
    } catch (err) {
      if (!isCasConflict(err)) throw err; // else an engine's projection wrote it first
    }
  };
  for await (const run of store.readAll({ onCorrupt: (c) => { corrupt.push(c); pending.push(create(c.runId, { corrupt: c })); } })) {
    pending.push(create(run.runId, valueOf(track(run.events), run.events[0]!)));
    runs++;
    if (pending.length >= 256) { await Promise.all(pending); pending = []; }
    if (runs % 1000 === 0) o.onProgress?.(runs);
  }
  await Promise.all(pending);
  o.onProgress?.(runs);
  return { index: RUNS_INDEX_BUCKET, runs, corrupt, ms: Date.now() - started };
}
