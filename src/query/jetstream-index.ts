/**
 * The run index on JetStream, read side. Records come from KV LF_RUNS_INDEX in one ordered pass. The bucket is trusted
 * only as far as the engines' projection has caught up: when its consumer has nothing pending the bucket is current;
 * otherwise (engines behind, or none running, or no bucket yet) one headers-only pass over the log says where each run
 * ends, and the runs the bucket lacks or holds behind are read from the log and folded here. So `list` is right with or
 * without engines; the index only makes it fast.
 *
 * A long-lived reader (`live`, or any subscription) keeps the records in memory: a KV watch on the bucket (updates
 * only, started before the first load so nothing falls between) puts each value the projection writes, and a look every
 * `pollMs` loads again only when the projection is stuck (no consumer, or its ack floor did not move while commits
 * wait) and the log grew since the last load. Its queries answer from memory.
 */
import type { QueuedIterator } from '@nats-io/nats-core';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV, KvEntry } from '@nats-io/kv';
import { KvWatchInclude, Kvm, isArchiveMarkerMsg, jetstream, jetstreamManager } from '../store/index.js';
import { CorruptRunError, errorMessage, permissionDenied } from '../errors/index.js';
import type { CorruptRun, JetStreamEventStore } from '../store/index.js';
import {
  decodeValue,
  isNotFound,
  lastPerSubject,
  readBucket,
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
} from './jetstream-bucket.js';
import type { RunIndexOptions } from './port.js';
import { bucketPoint, JetStreamKeptOrder, type PageCacheDeps } from './jetstream-kept-order.js';
import type { KeptVersion } from './cache-figures.js';
import type { RunPage } from './paging.js';
import { pagesOnly, type RunQuery } from './query.js';
import { HeldRunIndex } from './held-index.js';
import { recordOf, type RunRecord } from './record.js';
import { RecordSet } from './record-set.js';

/** Past this many runs to read from the log, one pass over the whole stream is cheaper than a read per run. */
const READ_EACH_LIMIT = 200;
const READ_BATCH = 16;

export class JetStreamRunIndex extends HeldRunIndex {
  private corrupt = new Map<string, CorruptRun>();
  private started: Promise<void> | null = null;
  private following: {
    timer: NodeJS.Timeout;
    watch: QueuedIterator<KvEntry> | null;
    loadedAt: number;
    floor: number | null;
  } | null = null;
  /** How the last load got its records: for tests and operators. */
  lastLoad: { fromIndex: number; fromLog: number; fresh: boolean } | null = null;

  private readonly pageCache: JetStreamKeptOrder | null;

  constructor(
    private readonly store: JetStreamEventStore,
    opts: RunIndexOptions = {},
  ) {
    super(store, opts);
    this.pageCache = opts.pageCacheDir ? new JetStreamKeptOrder(opts.pageCacheDir, store.stream) : null;
  }

  /**
   * A first page with no filter, asked once (`list`), from the kept start order and what the bucket changed since
   * (jetstream-kept-order.ts) while the projection is current; else, and for every other query, the whole look (which
   * then keeps the order and figures, as of where the bucket stood before it read: `stats` asks one).
   */
  override async query(q: RunQuery): Promise<RunPage> {
    const first = pagesOnly(q) && q.cursor === undefined;
    return this.fromKept(first ? (cache, point, deps, onCorrupt) => cache.page(q, point, deps, onCorrupt) : null, () =>
      super.query(q),
    );
  }

  /** What `stats` reads of a workflow (port.ts): from the kept figures and what changed since, as `query`'s first page. */
  async keptFigures(workflowId: string): Promise<{ kept: Record<string, KeptVersion>; others: RunRecord[] } | null> {
    return this.fromKept(
      (cache, point, deps, onCorrupt) => cache.figures(workflowId, point, deps, onCorrupt),
      async () => null,
    );
  }

  /**
   * `ask` answers from the kept order (null: it cannot, and the whole look keeps it anew); without one (a filtered
   * query) the whole look answers and keeps the order only where none is kept or it has fallen behind.
   */
  private async fromKept<T>(
    ask:
      | ((
          cache: JetStreamKeptOrder,
          point: { created: string; seq: number },
          deps: PageCacheDeps,
          onCorrupt: (c: CorruptRun) => void,
        ) => Promise<T | null>)
      | null,
    whole: () => Promise<T>,
  ): Promise<T> {
    const cache = this.pageCache;
    if (!cache || this.opts.live || this.following) return whole();
    const sealer = await this.sealerReady();
    const nc = await this.store.connection();
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const point = await bucketPoint(jsm);
    if (ask && point && (await this.projectionCurrent(jsm))) {
      let bound: Promise<KV> | undefined;
      const kv = () => (bound ??= new Kvm(js).create(RUNS_INDEX_BUCKET, { bindOnly: true }));
      const got = await ask(cache, point, { js, jsm, kv, sealer }, (c) => this.opts.onCorrupt?.(c));
      if (got !== null) return got;
    }
    const answer = await whole();
    if (point && this.lastLoad?.fresh) {
      // Records held whole here (no cold store on this index): the order and figures are kept of them.
      const records = [...this.set.values()].filter((r): r is RunRecord => 'tasks' in r);
      cache.keep(point, records, [...this.corrupt.values()], { whenBehind: ask === null });
    }
    return answer;
  }

  protected corruptRuns(): Iterable<CorruptRun> {
    return this.corrupt.values();
  }

  /** Live or subscribed: the records held (loaded once, then followed). Else: loaded now. */
  protected async current(): Promise<void> {
    if (this.opts.live || this.following) return this.ready();
    const { records, corrupt } = await this.load();
    this.set = new RecordSet();
    this.set.putAll(records.values());
    this.corrupt = new Map(corrupt.map((c) => [c.runId, c]));
  }

  protected ready(): Promise<void> {
    this.started ??= (async () => {
      const timer = setInterval(
        () => void this.look().catch((err: unknown) => this.warn(err)),
        this.opts.pollMs ?? 1000,
      );
      timer.unref();
      this.following = { timer, watch: null, loadedAt: -1, floor: null };
      await this.watchBucket();
      await this.reload();
    })().catch((err: unknown) => {
      this.unfollow();
      throw err;
    });
    return this.started;
  }

  protected unfollow(): void {
    const f = this.following;
    if (!f) return;
    clearInterval(f.timer);
    f.watch?.stop();
    this.following = null;
    this.started = null;
  }

  protected warn(err: unknown): void {
    process.emitWarning(
      `ledgerflow: run index on ${this.store.stream}: ${errorMessage(err)}`,
      'LedgerflowIndexWarning',
    );
  }

  /** Watches the bucket's updates; false when there is no bucket yet (no engine ever ran: the log is loaded instead). */
  private async watchBucket(): Promise<boolean> {
    const f = this.following;
    if (!f || f.watch) return true;
    await this.sealerReady();
    const js = jetstream(await this.store.connection());
    let kv;
    try {
      kv = await new Kvm(js).create(RUNS_INDEX_BUCKET, { bindOnly: true });
    } catch {
      return false;
    }
    let w: QueuedIterator<KvEntry>;
    try {
      w = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    } catch (err) {
      // bindOnly looks nothing up: a bucket no engine has made yet (a UI started before its engines) is found missing here.
      if (isNotFound(err)) return false;
      throw err;
    }
    f.watch = w;
    void (async () => {
      try {
        for await (const e of w) this.applyValue(e);
      } catch (err) {
        this.warn(err);
      } finally {
        if (this.following?.watch === w) this.following.watch = null; // bucket deleted (reindex): the next look watches again
      }
    })();
    return true;
  }

  private applyValue(e: KvEntry): void {
    if (e.operation === 'DEL' || e.operation === 'PURGE') {
      this.set.delete(e.key);
      this.corrupt.delete(e.key);
      return;
    }
    const v = decodeValue(e.string(), this.sealer);
    if (!v) return; // not a value of ours: the next load reads that run from the log
    if ('corrupt' in v) {
      this.corrupt.set(e.key, v.corrupt);
      this.set.delete(e.key);
      return;
    }
    this.corrupt.delete(e.key);
    if (this.set.put(v.record)) for (const l of this.listeners) l(v.record);
  }

  /** A follower's look: watch the bucket if not yet; load again when the projection is stuck and the log grew. */
  private async look(): Promise<void> {
    const f = this.following;
    if (!f) return;
    const watching = await this.watchBucket();
    const jsm = await jetstreamManager(await this.store.connection());
    const info = await jsm.streams.info(this.store.stream).catch(() => null);
    const last = info?.state.last_seq ?? 0;
    let stuck = !watching;
    if (!stuck) {
      const ci = await jsm.consumers.info(this.store.stream, RUNS_INDEX_CONSUMER).catch(() => null);
      const waiting = ci ? ci.num_pending + ci.num_ack_pending : 0;
      const floor = ci?.ack_floor.stream_seq ?? null;
      stuck = !ci || (waiting > 0 && floor === f.floor);
      f.floor = floor;
    }
    if (stuck && last !== f.loadedAt) await this.reload();
  }

  /** Loads every record (bucket, and the log for what it lacks) and keeps what is newer than what is held. */
  private async reload(): Promise<void> {
    const f = this.following;
    const jsm = await jetstreamManager(await this.store.connection());
    const last = (await jsm.streams.info(this.store.stream).catch(() => null))?.state.last_seq ?? 0;
    const { records, corrupt } = await this.load();
    if (f) f.loadedAt = last;
    for (const c of corrupt) {
      this.corrupt.set(c.runId, c);
      this.set.delete(c.runId);
    }
    const changed =
      this.set.size === 0 ? this.set.putAll(records.values()) : [...records.values()].filter((r) => this.set.put(r));
    for (const r of changed) for (const l of this.listeners) l(r);
  }

  /**
   * Every run's record: from the bucket, and from the log for what the bucket does not have yet. A person's user may
   * read neither the bucket nor the projection's consumer (users/nats-conf-grants.ts): every record from the log then,
   * which the store reads by message gets for such a user (store/jetstream/gets-only.ts).
   */
  private async load(): Promise<{ records: Map<string, RunRecord>; corrupt: CorruptRun[] }> {
    try {
      return await this.loadIndexed();
    } catch (err) {
      if (permissionDenied(err) === null) throw err;
    }
    const records = new Map<string, RunRecord>();
    const corrupt: CorruptRun[] = [];
    for await (const run of this.store.readAll({ onCorrupt: (c) => corrupt.push(c) })) {
      const events = await this.folded(run.runId, run.events);
      records.set(run.runId, await this.loaded(() => recordOf(events)));
    }
    this.lastLoad = { fromIndex: 0, fromLog: records.size, fresh: false };
    return { records, corrupt };
  }

  private async loadIndexed(): Promise<{ records: Map<string, RunRecord>; corrupt: CorruptRun[] }> {
    const sealer = await this.sealerReady();
    const nc = await this.store.connection();
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const projected = await this.projectionCurrent(jsm);
    const indexed = await readBucket(js, jsm, sealer);
    // No bucket (never made, or deleted): whatever the consumer says, the records are in the log only.
    const fresh = projected && indexed !== null;
    const records = new Map<string, RunRecord>();
    const corrupt: CorruptRun[] = [];
    for (const [id, v] of indexed ?? []) {
      if ('corrupt' in v) corrupt.push(v.corrupt);
      else records.set(id, v);
    }
    if (fresh) {
      this.lastLoad = { fromIndex: records.size, fromLog: 0, fresh };
      return { records, corrupt };
    }
    // Behind, or no engine: where each run ends, from the log's headers.
    const ends = await this.runEnds(js, jsm);
    for (const id of [...records.keys()]) if (!ends.has(id)) records.delete(id); // gone from the log (retention)
    const stale = [...ends]
      .filter(([id, last]) => (records.get(id)?.lastSeq ?? 0) < last && !corrupt.some((c) => c.runId === id))
      .map(([id]) => id);
    const onCorrupt = (c: CorruptRun) => {
      records.delete(c.runId);
      corrupt.push(c);
    };
    if (stale.length > READ_EACH_LIMIT) {
      const wanted = new Set(stale);
      for await (const run of this.store.readAll({ onCorrupt }))
        if (wanted.has(run.runId)) {
          const events = await this.folded(run.runId, run.events);
          records.set(run.runId, await this.loaded(() => recordOf(events)));
        }
    } else {
      for (let i = 0; i < stale.length; i += READ_BATCH) {
        await Promise.all(
          stale.slice(i, i + READ_BATCH).map(async (runId) => {
            try {
              const events = await this.store.read(runId);
              if (events.length > 0) {
                const opened = await this.folded(runId, events);
                records.set(runId, await this.loaded(() => recordOf(opened)));
              }
            } catch (err) {
              if (!(err instanceof CorruptRunError)) throw err;
              onCorrupt({ runId, file: err.where, reason: err.reason });
            }
          }),
        );
      }
    }
    this.lastLoad = { fromIndex: records.size - stale.length, fromLog: stale.length, fresh };
    return { records, corrupt };
  }

  /** Whether the engines' projection has applied every commit in the log (its consumer has nothing pending or unacknowledged). */
  private async projectionCurrent(jsm: JetStreamManager): Promise<boolean> {
    try {
      const ci = await jsm.consumers.info(this.store.stream, RUNS_INDEX_CONSUMER);
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    } catch (err) {
      if (/consumer not found|stream not found/i.test(errorMessage(err) ?? '')) return false;
      throw err;
    }
  }

  /** Run id → its last event seq, from the last message of each run's subject (headers only: Lf-Last-Seq). */
  private async runEnds(js: JetStreamClient, jsm: JetStreamManager): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    await lastPerSubject(
      js,
      jsm,
      this.store.stream,
      {
        filter: `${this.store.subjectPrefix}.*.*`,
        headersOnly: true,
        what: `read where each run ends on ${this.store.stream}`,
      },
      (m) => {
        if (isArchiveMarkerMsg(m)) return; // the run is moving to the archive (store/jetstream/compare-purge.ts)
        const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
        const last = Number(m.headers?.get('Lf-Last-Seq'));
        // A message without the header (written by hand?) is read from the log: it counts as past any record.
        ends.set(runId, Number.isSafeInteger(last) && last > 0 ? last : Number.MAX_SAFE_INTEGER);
      },
    );
    return ends;
  }
}
