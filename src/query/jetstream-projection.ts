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
import { AckPolicy, DeliverPolicy, nanos, type JsMsg, type KV } from 'nats';
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

/** How long, and for how many runs, the projection remembers what it wrote (see `written`). */
const WRITTEN_KEPT_MS = 10_000;
const WRITTEN_KEPT = 10_000;

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

  /**
   * The value after this commit, or null when it is already in `had` (or the run is gone); with the
   * tracked run it was folded from, when it was (`mine`: the one this engine folded last, which
   * spares restoring it from its stored form).
   */
  const next = async (runId: string, events: EventEnvelope[], had: IndexValue | null, mine?: TrackedRun): Promise<{ value: IndexValue; tracked?: TrackedRun } | null> => {
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    if (had && 'record' in had) {
      if (had.record.lastSeq >= last) return null;
      if (had.record.lastSeq === first - 1 && canContinue(had)) {
        const compiled = mine ? null : had.fold ? await compiledOf(runId, had.definitionHash) : null;
        const t = mine ?? restoreTracked(had, compiled);
        if (t) { const tracked = advance(t, events); return { value: persistTracked(tracked, had.definitionHash), tracked }; }
      }
    }
    if (had && 'record' in had) {
      const rebuilt = await rebuild(runId);
      return rebuilt ? { value: rebuilt } : null;
    }
    if (!had && first === 1 && events[0]!.type === 'run.started') { const tracked = track(events); return { value: valueOf(tracked, events[0]!), tracked }; }
    const rebuilt = await rebuild(runId);
    return rebuilt ? { value: rebuilt } : null;
  };

  /**
   * The value and revision this engine last wrote for a run, kept a few seconds: the run's next
   * commit (mostly handled here too) is written at that revision without reading the key first. A
   * write that finds another revision reads the key, as without it.
   */
  const written = new Map<string, { value: IndexValue; revision: number; at: number; tracked?: TrackedRun }>();
  const remembered = (runId: string) => {
    const w = written.get(runId);
    if (w && Date.now() - w.at <= WRITTEN_KEPT_MS) return w;
    if (w) written.delete(runId);
    return undefined;
  };

  /** A commit's events, or the reason it is not one. */
  const eventsOf = (m: JsMsg): EventEnvelope[] | Error => {
    try {
      const parsed = CommitSchema.safeParse(JSON.parse(m.string()));
      if (!parsed.success) throw new Error(parsed.error.message);
      return parsed.data.events;
    } catch (err) {
      return err as Error;
    }
  };

  /** Applies one commit's events (or several consecutive commits' of one run, as one). */
  const apply = async (runId: string, events: EventEnvelope[]): Promise<void> => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const mine = round === 0 ? remembered(runId) : undefined;
      let had: IndexValue | null;
      let revision: number | null;
      if (mine) {
        had = mine.value;
        revision = mine.revision;
      } else {
        const entry = await (await bucket()).get(runId);
        had = entry && entry.operation === 'PUT' ? decodeValue(entry.string()) : null;
        revision = entry ? entry.revision : null;
      }
      const made = await next(runId, events, had, mine?.tracked);
      if (!made) { stats.skipped++; return; }
      const { value, tracked } = made;
      const rev = await cas(runId, value, revision);
      if (rev !== null) {
        stats.applied++;
        written.delete(runId);
        if (!('record' in value) || value.record.status === 'RUNNING' || value.record.status === 'WAITING' || value.record.status === 'PAUSED' || value.record.status === 'QUEUED') {
          written.set(runId, { value, revision: rev, at: Date.now(), ...(tracked ? { tracked } : {}) });
          if (written.size > WRITTEN_KEPT) written.delete(written.keys().next().value!);
        }
        return;
      }
      written.delete(runId);
      stats.conflicts++;
    }
    throw new Error(`run ${runId}: its index value kept changing under ${MAX_ROUNDS} attempts`);
  };

  const write = async (runId: string, value: IndexValue) => {
    written.delete(runId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const entry = await (await bucket()).get(runId);
      if ((await cas(runId, value, entry ? entry.revision : null)) !== null) return;
    }
  };

  /** Writes at the revision read (null: the key must not exist); the new revision, or null when someone else wrote first. */
  const cas = async (runId: string, value: IndexValue, revision: number | null): Promise<number | null> => {
    const b = await bucket();
    try {
      return revision !== null ? await b.update(runId, encodeValue(value), revision) : await b.create(runId, encodeValue(value));
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  };

  /** Commits waiting for their run's chain, taken together when it reaches them (consecutive ones are applied as one write). */
  const waiting = new Map<string, JsMsg[]>();

  /** Applies the commits `msgs` of one run in order: runs of consecutive ones as one write, a commit that does not parse alone. */
  const applyAll = async (runId: string, msgs: JsMsg[]): Promise<void> => {
    let batch: EventEnvelope[] = [];
    const flush = async () => { if (batch.length > 0) { const b = batch; batch = []; await apply(runId, b); } };
    for (const m of msgs) {
      const events = eventsOf(m);
      if (events instanceof Error) {
        await flush();
        // Not a commit: the run cannot be read; say so in its value (the reader reports it), rebuilding would fail the same way.
        stats.corrupt++;
        await write(runId, { corrupt: { runId, file: `${store.stream} message ${m.seq}`, reason: events.message } });
        continue;
      }
      if (batch.length > 0 && batch.at(-1)!.seq + 1 !== events[0]!.seq) await flush();
      batch.push(...events);
    }
    await flush();
  };

  const handle = (m: JsMsg): Promise<void> => {
    const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    // One run's commits in turn (fewer conflicts); different runs at once. A commit that arrives while
    // its run's chain is busy joins the ones waiting, and they are applied together.
    const queued = waiting.get(runId);
    if (queued) { queued.push(m); return runChains.get(runId)!; }
    waiting.set(runId, [m]);
    const prev = runChains.get(runId) ?? Promise.resolve();
    const p = prev.then(async () => {
      const msgs = waiting.get(runId)!;
      waiting.delete(runId);
      try {
        await applyAll(runId, msgs);
        for (const q of msgs) q.ack();
      } catch (err) {
        stats.failures++;
        written.delete(runId);
        if (isNotFound(err)) kv = null; // the bucket was deleted (reindex): open (create) it again
        if (!stopped) log(`run index: commits ${msgs.map((q) => q.seq).join(', ')} of run ${runId}: ${(err as Error).message}; tried again later`);
        for (const q of msgs) q.nak(1000);
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
