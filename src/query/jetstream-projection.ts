/**
 * The projection that keeps KV LF_RUNS_INDEX: one engine at a time pulls from one durable consumer on the log's stream
 * and applies each commit to its run's value with compare-and-set on the key's revision. Which engine is a role
 * (store/jetstream/role.ts): the others stand by and take it over within seconds of its holder's stop, or ROLE_STALE_MS
 * of its loss; unacknowledged commits come back to the new holder. With every engine pulling, each run's commits were
 * split between them, each found gaps and rebuilt records from the log: two engines lost 16% of their throughput to it.
 * Two holders at once (a stalled one, back) are still right, as every engine pulling was.
 *
 * A commit that continues the value is folded onto it; one already in it (redelivered, or a record rebuilt past it) is
 * skipped; any other (a gap: commits handled out of order by two holders, a value with no fold kept) rebuilds the
 * record from the run's log. How a value is made and written is jetstream-writes.ts; this file pulls, holds a run's
 * commits together and acks. `reindex` rebuilds the whole bucket from the log (jetstream-reindex.ts).
 * Nothing here is the only copy of anything.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { KvCas, commitIssues, jetstream, pullNow, ROLE_RENEW_MS, storeAtRest } from '../store/index.js';
import { errorMessage } from '../errors/index.js';
import { CommitSchema, type EventEnvelope } from '../events/index.js';
import { isArchiveMarkerMsg, type JetStreamEventStore } from '../store/index.js';
import {
  ensureProjectionConsumer,
  openBucket,
  isNotFound,
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
  type BucketSettings,
} from './jetstream-bucket.js';
import type { FoldedAfter } from './record.js';
import { IndexSealer } from '../encryption/index.js';
import { projectionWriter } from './jetstream-writes.js';
import { trimOldest } from '../bounded.js';
import { PullPause } from './pull-pause.js';

export { ensureProjectionConsumer, RUNS_INDEX_BUCKET, RUNS_INDEX_CONSUMER } from './jetstream-bucket.js';

export interface ProjectionOptions extends BucketSettings {
  store: JetStreamEventStore;
  log?: (line: string) => void;
  /** Commits applied at once (of different runs; one run's are applied in turn here). Default 16. */
  concurrency?: number;
  /** How long a running run's commits wait for its next ones before they are written (COALESCE_MS; tests set it). */
  coalesceMs?: number;
}

/** The role of the engine that pulls (store/jetstream/role.ts). */
export const PROJECTION_ROLE = 'runs-index-projection';

export interface RunIndexProjection {
  /**
   * `fromMemory`: commits taken as this process wrote them (see `stored`), not parsed from their message;
   * `fromRead`: runs' first commits taken as this process read them (a client's start it drives);
   * `pulls`: pulls of the consumer (fewer while it stays empty: IDLE_PAUSE_MAX_MS);
   * `waiting`: commits of running runs held for their runs' next ones now (at most COALESCE_MAX_HELD).
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
    pulls: number;
    waiting: number;
  };
  /** Whether this process pulls now (it holds the projection's role). */
  pulling(): boolean;
  /**
   * A commit this process wrote, at stream sequence `position`: when the consumer delivers it, its events are taken
   * from here instead of parsing and validating the message again (they are what was written). Kept for a while, then
   * forgotten: a delivery not found here is parsed. `after`: the run's fold after these events, as this process folded
   * them: the record takes it instead of folding them again (record.ts FoldedAfter).
   */
  stored(runId: string, events: EventEnvelope[], position: number, after?: FoldedAfter): void;
  stop(): Promise<void>;
}

/**
 * How long a running run's commits wait for its next ones before they are written (one
 * write per run's burst of commits, mostly one per short run, instead of one per commit). Below the
 * readers' look (pollMs, 1 s), so a follower sees the ack floor move between two looks.
 */
const COALESCE_MS = 500;
/**
 * Commits held waiting at most (the consumer lets 1,000 go unacknowledged): past this the runs waiting longest are
 * written until COALESCE_LOW_HELD wait. Writing every run then wrote most twice at 64 in flight (1.4 KV writes a run).
 */
const COALESCE_MAX_HELD = 768;
const COALESCE_LOW_HELD = 512;
/** Runs taken in hand at most (waiting for commits, or applying). */
const MAX_RUNS_IN_HAND = 1024;
const FETCH_BATCH = 256;
/**
 * How long the projection waits after a pull that emptied the consumer: commits are taken in batches this far
 * apart at most, not each as it is stored (pull-now.ts). Well below COALESCE_MS, and the readers' look.
 */
const PULL_PAUSE_MS = 50;
/**
 * Pulls that find the consumer empty double the pause, up to this: an idle engine pulls four times a second, not
 * twenty (each pull a request the server answers: 5% of a core between an idle engine and its server). A commit this
 * process stores cuts the pause back to PULL_PAUSE_MS; one of another process waits this long at most, which keeps
 * its write (COALESCE_MS later) within the readers' look.
 */
const IDLE_PAUSE_MAX_MS = 250;
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

export async function startRunIndexProjection(o: ProjectionOptions): Promise<RunIndexProjection> {
  // What the stream holds; the values in it are opened by the sealer below (record-values.ts), never stored clear.
  const store = storeAtRest(o.store);
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
    pulls: 0,
    waiting: 0,
  };
  let stopped = false;
  const runChains = new Map<string, Promise<void>>();
  const inflight = new Set<Promise<void>>();
  const limit = o.concurrency ?? 16;
  const coalesceMs = o.coalesceMs ?? COALESCE_MS;
  // With a key, the events are folded opened and what the index keeps of a value is sealed (record-values.ts).
  const sealer = await IndexSealer.of(o.store);
  const { apply, write, written } = projectionWriter(store, stats, bucket, kvCas, sealer, o.store.blobs?.());

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

  /**
   * The waits for a run's next commits still timed (not yet let go), oldest first: what releaseAll and releaseOldest
   * let go. Only these, not every entry of `waiting`: a walk of every run in hand at each commit taken was 2% of a
   * loaded process.
   */
  const timed = new Set<{ release(): void; items: Item[] }>();
  /** Every run's waiting commits are written now (stopping). */
  const releaseAll = () => {
    for (const w of timed) w.release();
  };
  /** Too many held: the oldest runs are written until COALESCE_LOW_HELD commits wait (what is let go stays `held`). */
  const releaseOldest = () => {
    for (const w of timed) {
      if (stats.waiting <= COALESCE_LOW_HELD) return;
      w.release();
    }
  };

  /** Commits this process wrote, by stream sequence (see `stored`). */
  const local = new Map<number, { runId: string; events: EventEnvelope[]; after?: FoldedAfter | undefined }>();
  const localOf = (m: JsMsg, runId: string): { events: EventEnvelope[]; after?: FoldedAfter | undefined } | null => {
    const mine = local.get(m.seq);
    if (!mine) {
      // A run's first commit that another process wrote (a client's start) and this one read to drive the run.
      const read = store.firstCommits.take(m.seq, runId);
      if (read) stats.fromRead++;
      return read ? { events: read } : null;
    }
    local.delete(m.seq);
    if (mine.runId !== runId) return null;
    stats.fromMemory++;
    return mine;
  };

  const handle = (m: JsMsg): Promise<void> | null => {
    // An archive's marker (store/jetstream/compare-purge.ts): no commit; the archive drops the run's record itself.
    if (isArchiveMarkerMsg(m)) {
      m.ack();
      return null;
    }
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
      if (queued.timer) stats.waiting++;
      if (!moving) queued.release();
      if (held >= COALESCE_MAX_HELD) releaseOldest();
      return null;
    }
    let release!: () => void;
    const ready = new Promise<void>((r) => {
      release = r;
    });
    const w = {
      items: [{ m, events, after }] as Item[],
      release: () => {
        if (w.timer) {
          clearTimeout(w.timer);
          timed.delete(w);
          stats.waiting -= w.items.length;
        }
        w.timer = null;
        release();
      },
      timer: null as ReturnType<typeof setTimeout> | null,
    };
    waiting.set(runId, w);
    if (moving) {
      w.timer = setTimeout(w.release, coalesceMs);
      timed.add(w);
      stats.waiting++;
    } else w.release();
    if (held >= COALESCE_MAX_HELD) releaseOldest();
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

  // The pause between pulls, cut short by stop(), and to PULL_PAUSE_MS by a commit of this process (`stored`).
  const pausing = new PullPause(PULL_PAUSE_MS);
  const pause = (ms: number) => pausing.wait(ms);
  let idle = PULL_PAUSE_MS;
  // One engine pulls at a time (see above); a standby looks again each time the holder renews, at once on taking it.
  // While the role cannot be known (its bucket refused to this engine's user, the server away) every engine pulls, as
  // before roles: slower, never wrong, and an index kept by nobody is what must not happen.
  const role = store.role(PROJECTION_ROLE, (line) => log(`run index: ${line}`));
  const pulling = () => role.held() || role.failing();
  /** Whether commits this process writes or reads are kept for their delivery here (see `stored`). */
  const taking = () => pulling() && !stopped;
  // The runs this process reads at their start (an engine kicked by a client's start) are delivered here next: taken as
  // read, while this process takes commits.
  store.firstCommits.keep(taking);
  role.onChange((held) => {
    if (held) pausing.hurry();
  });
  const loop = (async () => {
    while (!stopped) {
      try {
        while (!stopped) {
          if (!pulling()) {
            await pause(ROLE_RENEW_MS);
            continue;
          }
          // What is stored since the last pull, at once (pull-now.ts); a full batch is followed at once by the next.
          const batch = await pullNow(nc, store.stream, RUNS_INDEX_CONSUMER, FETCH_BATCH, PULL_TIMEOUT_MS);
          stats.pulls++;
          if (batch.length > 0) idle = PULL_PAUSE_MS;
          for (const m of batch) {
            const p = handle(m);
            if (!p) continue;
            inflight.add(p);
            void p.finally(() => inflight.delete(p));
            if (inflight.size >= MAX_RUNS_IN_HAND) await Promise.race(inflight);
          }
          if (batch.length < FETCH_BATCH && !stopped) {
            const ms = idle;
            if (batch.length === 0) idle = Math.min(idle * 2, IDLE_PAUSE_MAX_MS);
            await pause(ms);
          }
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
    pulling,
    stored(runId, events, position, after) {
      if (events.length === 0 || !taking()) return;
      local.set(position, { runId, events, after });
      trimOldest(local, LOCAL_KEPT);
      idle = PULL_PAUSE_MS;
      pausing.hurry();
    },
    async stop() {
      stopped = true;
      pausing.stop();
      releaseAll();
      await loop;
      releaseAll();
      await Promise.allSettled([...inflight]);
      // Given up only now: what this engine took is acknowledged (or handed back) before a standby pulls.
      await role.stop();
    },
  };
}
