/**
 * The projection that keeps KV LF_RUNS_INDEX: every engine pulls from one
 * durable consumer on the log's stream (shared: each commit goes to one
 * engine) and applies each commit to its run's value with compare-and-set on
 * the key's revision. A commit that continues the value is folded onto it; one
 * already in it (redelivered, or a record rebuilt past it) is skipped; any
 * other (a gap: commits handled out of order by two engines, a value with no
 * fold kept) rebuilds the record from the run's log. `reindex` rebuilds the
 * whole bucket from the log (jetstream-reindex.ts). Nothing here is the only copy of anything.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import {
  AckPolicy,
  DeliverPolicy,
  KvCas,
  commitIssues,
  nanos,
  jetstream,
  jetstreamManager,
  pullNow,
} from '../store/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import { CorruptRunError, errorMessage } from '../errors/index.js';
import { CommitSchema, type EventEnvelope } from '../events/index.js';
import { compiledForRun, latestWorkflow } from '../runtime/index.js';
import type { JetStreamEventStore } from '../store/index.js';
import {
  openBucket,
  decodeValue,
  encodeValue,
  isCasConflict,
  isNotFound,
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
  type BucketSettings,
  type IndexValue,
} from './jetstream-bucket.js';
import {
  advance,
  canContinue,
  persistTracked,
  restoreTracked,
  track,
  type FoldedAfter,
  type TrackedRun,
} from './record.js';
import { trimOldest } from '../bounded.js';

export { RUNS_INDEX_BUCKET } from './jetstream-bucket.js';

export interface ProjectionOptions extends BucketSettings {
  store: JetStreamEventStore;
  log?: (line: string) => void;
  /** Commits applied at once (of different runs; one run's are applied in turn here). Default 16. */
  concurrency?: number;
}

export interface RunIndexProjection {
  /**
   * `fromMemory`: commits taken as this process wrote them (see `stored`), not parsed from their message;
   * `fromRead`: runs' first commits taken as this process read them (a client's start it drives).
   */
  readonly stats: {
    applied: number;
    rebuilt: number;
    skipped: number;
    corrupt: number;
    conflicts: number;
    failures: number;
    fromMemory: number;
    fromRead: number;
  };
  /**
   * A commit this process wrote, at stream sequence `position`: when the consumer delivers it, its
   * events are taken from here instead of parsing and validating the message again (they are what
   * was written). Kept for a while, then forgotten: a delivery not found here is parsed. `after`: the
   * run's fold after these events, as this process folded them: the record takes it instead of folding
   * them again (record.ts FoldedAfter).
   */
  stored(runId: string, events: EventEnvelope[], position: number, after?: FoldedAfter): void;
  stop(): Promise<void>;
}

const MAX_ROUNDS = 10;

/**
 * How long a running run's commits wait for its next ones before they are written (one
 * write per run's burst of commits, mostly one per short run, instead of one per commit). Below the
 * readers' look (pollMs, 1 s), so a follower sees the ack floor move between two looks.
 */
const COALESCE_MS = 500;
/** Commits held waiting at most (the consumer lets 1,000 go unacknowledged): past this every waiting run is written. */
const COALESCE_MAX_HELD = 512;
/** Runs taken in hand at most (waiting for commits, or applying). */
const MAX_RUNS_IN_HAND = 1024;
const FETCH_BATCH = 256;
/**
 * How long the projection waits after a pull that emptied the consumer: commits are taken in batches this far
 * apart at most, not each as it is stored (pull-now.ts). Well below COALESCE_MS, and the readers' look.
 */
const PULL_PAUSE_MS = 50;
/** A pull that brings nothing, not even a status, in this long has failed (a consumer gone answers nothing). */
const PULL_TIMEOUT_MS = 2000;

/** A commit as pulled: its message, and its events (or why it is not a commit). */
interface Item {
  m: JsMsg;
  events: EventEnvelope[] | Error;
  after?: FoldedAfter | undefined;
}

/** Commits of this process kept for their delivery at most (see `stored`); the oldest are forgotten first. */
const LOCAL_KEPT = 4096;

/** How long, and for how many runs, the projection remembers what it wrote (see `written`). */
const WRITTEN_KEPT_MS = 10_000;
const WRITTEN_KEPT = 10_000;

/** Creates the projection's durable consumer if missing: from `startSeq` (default: the stream's first message). */
export async function ensureProjectionConsumer(store: JetStreamEventStore, startSeq?: number): Promise<void> {
  const jsm = await jetstreamManager(await store.connection());
  try {
    await jsm.consumers.info(store.stream, RUNS_INDEX_CONSUMER);
    return;
  } catch (err) {
    if (!/consumer not found/i.test(errorMessage(err) ?? '')) throw err;
  }
  await jsm.consumers.add(store.stream, {
    durable_name: RUNS_INDEX_CONSUMER,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_ack_pending: 1000,
    filter_subject: `${store.subjectPrefix}.>`,
    ...(startSeq
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }
      : { deliver_policy: DeliverPolicy.All }),
  });
}

export async function startRunIndexProjection(o: ProjectionOptions): Promise<RunIndexProjection> {
  const { store } = o;
  // The runs this process reads at their start (an engine kicked by a client's start) are delivered here next: taken as read.
  store.keepFirstCommits();
  const log = o.log ?? (() => {});
  const nc = await store.connection();
  const js = jetstream(nc);
  await ensureProjectionConsumer(store);
  let kv: KV | null = await openBucket(js, o);
  const kvCas = new KvCas(nc, RUNS_INDEX_BUCKET);
  const bucket = async () => (kv ??= await openBucket(js, o));
  const stats = {
    applied: 0,
    rebuilt: 0,
    skipped: 0,
    corrupt: 0,
    conflicts: 0,
    failures: 0,
    fromMemory: 0,
    fromRead: 0,
  };
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
    if (!first || first.type !== 'run.started') return null;
    // A migrated run's definition is its latest run.migrated's (docs/runs.md#migrating-in-flight-runs).
    const compiled =
      first.data.definitionHash === hash ? compiledForRun(first) : latestWorkflow(await store.read(runId));
    if (compiled.hash !== hash) return null;
    if (compiledByHash.size > 100) compiledByHash.clear();
    compiledByHash.set(hash, compiled);
    return compiled;
  };

  const rebuild = async (runId: string): Promise<IndexValue | null> => {
    stats.rebuilt++;
    try {
      const events = await store.read(runId);
      return events.length === 0 ? null : indexValueOf(track(events), events[0]!);
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
  const next = async (
    runId: string,
    events: EventEnvelope[],
    had: IndexValue | null,
    mine?: TrackedRun,
    after?: FoldedAfter,
  ): Promise<{ value: IndexValue; tracked?: TrackedRun } | null> => {
    const first = events[0]!.seq;
    const last = events[events.length - 1]!.seq;
    if (had && 'record' in had) {
      if (had.record.lastSeq >= last) return null;
      if (had.record.lastSeq === first - 1 && canContinue(had)) {
        const compiled = mine ? null : had.fold ? await compiledOf(runId, had.definitionHash) : null;
        const t = mine ?? restoreTracked(had, compiled);
        if (t) {
          const tracked = advance(t, events, after);
          return { value: persistTracked(tracked, tracked.compiled?.hash ?? had.definitionHash), tracked };
        }
      }
    }
    if (had && 'record' in had) {
      const rebuilt = await rebuild(runId);
      return rebuilt ? { value: rebuilt } : null;
    }
    if (!had && first === 1 && events[0]!.type === 'run.started') {
      const tracked = track(events, after);
      return { value: indexValueOf(tracked, events[0]!), tracked };
    }
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
      if (!parsed.success) throw new Error(`not a valid commit: ${commitIssues(parsed.error.issues)}`);
      return parsed.data.events;
    } catch (err) {
      return err as Error;
    }
  };

  /** Applies one commit's events (or several consecutive commits' of one run, as one). */
  const apply = async (runId: string, events: EventEnvelope[], after?: FoldedAfter): Promise<void> => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const mine = round === 0 ? remembered(runId) : undefined;
      let had: IndexValue | null;
      let revision: number | null;
      if (mine) {
        had = mine.value;
        revision = mine.revision;
      } else if (round === 0 && events[0]!.seq === 1) {
        // A run's first commit: its key is not there yet, so it is created without reading it first (one
        // request less per run). If it is there after all (a redelivery, another engine), the create fails
        // and the next round reads it.
        had = null;
        revision = null;
      } else {
        const entry = await (await bucket()).get(runId);
        had = entry && entry.operation === 'PUT' ? decodeValue(entry.string()) : null;
        revision = entry ? entry.revision : null;
      }
      const made = await next(runId, events, had, mine?.tracked, after);
      if (!made) {
        stats.skipped++;
        return;
      }
      const { value, tracked } = made;
      const rev = await cas(runId, value, revision);
      if (rev !== null) {
        stats.applied++;
        written.delete(runId);
        if (
          !('record' in value) ||
          value.record.status === 'RUNNING' ||
          value.record.status === 'WAITING' ||
          value.record.status === 'PAUSED' ||
          value.record.status === 'QUEUED'
        ) {
          written.set(runId, { value, revision: rev, at: Date.now(), ...(tracked ? { tracked } : {}) });
          trimOldest(written, WRITTEN_KEPT);
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

  /**
   * Writes at the revision read (null: the key must not exist); the new revision, or null when someone else wrote
   * first (or a deleted key's marker is there: the next round reads it). On the store's reply subscription (kv-cas.ts).
   */
  const cas = async (runId: string, value: IndexValue, revision: number | null): Promise<number | null> => {
    await bucket();
    try {
      return await kvCas.put(runId, encodeValue(value), revision);
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  };

  /**
   * Commits waiting for their run's chain, taken together when it reaches them (consecutive ones are
   * applied as one write). A commit that leaves its run RUNNING waits up to COALESCE_MS for the run's
   * next ones (unacknowledged meanwhile, so readers see the index behind and read that run from the log);
   * one that leaves it anything else (WAITING, PAUSED, settled…) lets the run's write go at once.
   */
  const waiting = new Map<string, { items: Item[]; release(): void; timer: ReturnType<typeof setTimeout> | null }>();
  let held = 0;
  /** Applies at once to at most `limit` runs (KV writes in flight); runs waiting for their next commits are not counted. */
  let applying = 0;
  const slots: (() => void)[] = [];
  const slot = async (): Promise<void> => {
    if (applying < limit) {
      applying++;
      return;
    }
    await new Promise<void>((r) => slots.push(r));
  };
  const freeSlot = () => {
    const next = slots.shift();
    if (next) next();
    else applying--;
  };

  /** Applies the commits of one run in order: runs of consecutive ones as one write, a commit that does not parse alone. */
  const applyAll = async (runId: string, items: Item[]): Promise<void> => {
    let batch: EventEnvelope[] = [];
    // The fold after the batch's last commit, when this process wrote that commit and folded it.
    let after: FoldedAfter | undefined;
    const flush = async () => {
      if (batch.length > 0) {
        const b = batch;
        batch = [];
        await apply(runId, b, after);
      }
    };
    for (const { m, events, after: folded } of items) {
      if (events instanceof Error) {
        await flush();
        // Not a commit: the run cannot be read; say so in its value (the reader reports it), rebuilding would fail the same way.
        stats.corrupt++;
        await write(runId, { corrupt: { runId, file: `${store.stream} message ${m.seq}`, reason: events.message } });
        continue;
      }
      if (batch.length > 0 && batch.at(-1)!.seq + 1 !== events[0]!.seq) await flush();
      batch.push(...events);
      after = folded;
    }
    await flush();
  };

  /** Every run's waiting commits are written now (many held, or stopping). */
  const releaseAll = () => {
    for (const w of waiting.values()) w.release();
  };

  /** Commits this process wrote, by stream sequence (see `stored`). */
  const local = new Map<number, { runId: string; events: EventEnvelope[]; after?: FoldedAfter | undefined }>();
  const localOf = (m: JsMsg, runId: string): { events: EventEnvelope[]; after?: FoldedAfter | undefined } | null => {
    const mine = local.get(m.seq);
    if (!mine) {
      // A run's first commit that another process wrote (a client's start) and this one read to drive the run.
      const read = store.takeFirstCommit(m.seq, runId);
      if (read) stats.fromRead++;
      return read ? { events: read } : null;
    }
    local.delete(m.seq);
    if (mine.runId !== runId) return null;
    stats.fromMemory++;
    return mine;
  };

  const handle = (m: JsMsg): Promise<void> | null => {
    const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const mine = localOf(m, runId);
    const events = mine?.events ?? eventsOf(m);
    const after = mine?.after;
    const moving = !(events instanceof Error) && events.at(-1)?.state.status === 'RUNNING' && !stopped;
    // One run's commits in turn (fewer conflicts); different runs at once. A commit that arrives while
    // its run's write waits (for more commits, or for the run's chain) joins it, and they are applied together.
    const queued = waiting.get(runId);
    held++;
    if (queued) {
      queued.items.push({ m, events, after });
      if (!moving) queued.release();
      if (held >= COALESCE_MAX_HELD) releaseAll();
      return null;
    }
    let release!: () => void;
    const ready = new Promise<void>((r) => {
      release = r;
    });
    const w = {
      items: [{ m, events, after }] as Item[],
      release: () => {
        if (w.timer) clearTimeout(w.timer);
        w.timer = null;
        release();
      },
      timer: null as ReturnType<typeof setTimeout> | null,
    };
    waiting.set(runId, w);
    if (moving) w.timer = setTimeout(w.release, COALESCE_MS);
    else w.release();
    if (held >= COALESCE_MAX_HELD) releaseAll();
    const prev = runChains.get(runId) ?? Promise.resolve();
    const p = Promise.all([prev, ready]).then(async () => {
      await slot();
      const { items } = waiting.get(runId)!;
      waiting.delete(runId);
      held -= items.length;
      try {
        await applyAll(runId, items);
        for (const q of items) q.m.ack();
      } catch (err) {
        stats.failures++;
        written.delete(runId);
        if (isNotFound(err)) kv = null; // the bucket was deleted (reindex): open (create) it again
        if (!stopped)
          log(
            `run index: commits ${items.map((q) => q.m.seq).join(', ')} of run ${runId}: ${errorMessage(err)}; tried again later`,
          );
        for (const q of items) q.m.nak(1000);
      } finally {
        freeSlot();
      }
    });
    runChains.set(runId, p);
    void p.then(() => {
      if (runChains.get(runId) === p) runChains.delete(runId);
    });
    return p;
  };

  // The pause between pulls, cut short by stop().
  let pausing: { stop(): void } | null = null;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        pausing = null;
        resolve();
      }, ms);
      pausing = {
        stop: () => {
          clearTimeout(timer);
          pausing = null;
          resolve();
        },
      };
    });
  const loop = (async () => {
    while (!stopped) {
      try {
        while (!stopped) {
          // What is stored since the last pull, at once (pull-now.ts); a full batch is followed at once by the next.
          const batch = await pullNow(nc, store.stream, RUNS_INDEX_CONSUMER, FETCH_BATCH, PULL_TIMEOUT_MS);
          for (const m of batch) {
            const p = handle(m);
            if (!p) continue;
            inflight.add(p);
            void p.finally(() => inflight.delete(p));
            if (inflight.size >= MAX_RUNS_IN_HAND) await Promise.race(inflight);
          }
          if (batch.length < FETCH_BATCH && !stopped) await pause(PULL_PAUSE_MS);
        }
      } catch (err) {
        if (stopped) break;
        log(`run index: ${errorMessage(err)}; pulling again in 1 s`);
        await pause(1000);
        try {
          await ensureProjectionConsumer(store);
        } catch {
          /* the next round reports it */
        }
      }
    }
  })();

  return {
    stats,
    stored(runId, events, position, after) {
      if (stopped || events.length === 0) return;
      local.set(position, { runId, events, after });
      trimOldest(local, LOCAL_KEPT);
    },
    async stop() {
      stopped = true;
      pausing?.stop();
      releaseAll();
      await loop;
      releaseAll();
      await Promise.allSettled([...inflight]);
    },
  };
}

export function indexValueOf(t: TrackedRun, first: EventEnvelope): IndexValue {
  return persistTracked(t, t.compiled?.hash ?? (first.type === 'run.started' ? first.data.definitionHash : ''));
}
