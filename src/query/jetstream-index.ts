/**
 * The run index on JetStream, read side. Records come from KV LF_RUNS_INDEX
 * in one ordered pass. The bucket is trusted only as far as the engines'
 * projection has caught up: when its consumer has nothing pending the bucket
 * is current; otherwise (engines behind, or none running, or no bucket yet)
 * one headers-only pass over the log says where each run ends, and the runs
 * the bucket lacks or holds behind are read from the log and folded here. So
 * `list` is right with or without engines; the index only makes it fast.
 */
import { AckPolicy, DeliverPolicy, nanos, type JetStreamClient, type JetStreamManager } from 'nats';
import { CorruptRunError } from '../errors/index.js';
import { RUN_ID_PATTERN } from '../events/index.js';
import type { CorruptRun, JetStreamEventStore } from '../store/index.js';
import { readBucket, RUNS_INDEX_CONSUMER } from './jetstream-bucket.js';
import type { RunIndex, RunIndexOptions } from './port.js';
import { pageOf, type RunPage, type RunQuery } from './query.js';
import { recordOf, type RunRecord } from './record.js';

/** Past this many runs to read from the log, one pass over the whole stream is cheaper than a read per run. */
const READ_EACH_LIMIT = 200;
const READ_BATCH = 16;

export class JetStreamRunIndex implements RunIndex {
  private readonly subs = new Set<() => void>();
  /** How the last query got its records: for tests and operators. */
  lastLoad: { fromIndex: number; fromLog: number; fresh: boolean } | null = null;

  constructor(private readonly store: JetStreamEventStore, private readonly opts: RunIndexOptions = {}) {}

  async query(q: RunQuery): Promise<RunPage> {
    const { records, corrupt } = await this.load();
    for (const c of corrupt) this.opts.onCorrupt?.(c);
    return pageOf(records.values(), q, 'newest');
  }

  async get(runId: string): Promise<RunRecord | null> {
    if (!RUN_ID_PATTERN.test(runId)) return null;
    const events = await this.store.read(runId);
    return events.length > 0 ? recordOf(events) : null;
  }

  subscribe(onChange: (r: RunRecord) => void): { close(): void } {
    let stopped = false;
    let known = new Map<string, number>();
    let first = true;
    const look = async () => {
      try {
        const { records } = await this.load();
        const now = new Map<string, number>();
        for (const [id, r] of records) {
          now.set(id, r.lastSeq);
          if (!first && known.get(id) !== r.lastSeq && !stopped) onChange(r);
        }
        known = now;
        first = false;
      } catch (err) {
        process.emitWarning(`ledgerflow: run index on ${this.store.stream}: ${(err as Error).message}`, 'LedgerflowIndexWarning');
      }
    };
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void look().finally(() => { running = false; });
    }, this.opts.pollMs ?? 1000);
    timer.unref();
    const close = () => { stopped = true; clearInterval(timer); this.subs.delete(close); };
    this.subs.add(close);
    return { close };
  }

  async close(): Promise<void> {
    for (const close of [...this.subs]) close();
  }

  /** Every run's record: from the bucket, and from the log for what the bucket does not have yet. */
  private async load(): Promise<{ records: Map<string, RunRecord>; corrupt: CorruptRun[] }> {
    const nc = await this.store.connection();
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager();
    const projected = await this.projectionCurrent(jsm);
    const indexed = await readBucket(js, jsm);
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
    const stale = [...ends].filter(([id, last]) => (records.get(id)?.lastSeq ?? 0) < last && !corrupt.some((c) => c.runId === id)).map(([id]) => id);
    const onCorrupt = (c: CorruptRun) => { records.delete(c.runId); corrupt.push(c); };
    if (stale.length > READ_EACH_LIMIT) {
      const wanted = new Set(stale);
      for await (const run of this.store.readAll({ onCorrupt })) if (wanted.has(run.runId)) records.set(run.runId, recordOf(run.events));
    } else {
      for (let i = 0; i < stale.length; i += READ_BATCH) {
        await Promise.all(stale.slice(i, i + READ_BATCH).map(async (runId) => {
          try {
            const events = await this.store.read(runId);
            if (events.length > 0) records.set(runId, recordOf(events));
          } catch (err) {
            if (!(err instanceof CorruptRunError)) throw err;
            onCorrupt({ runId, file: err.where, reason: err.reason });
          }
        }));
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
      if (/consumer not found|stream not found/i.test((err as Error).message ?? '')) return false;
      throw err;
    }
  }

  /** Run id → its last event seq, from the last message of each run's subject (headers only: Lf-Last-Seq). */
  private async runEnds(js: JetStreamClient, jsm: JetStreamManager): Promise<Map<string, number>> {
    const ends = new Map<string, number>();
    let ci;
    try {
      ci = await jsm.consumers.add(this.store.stream, {
        ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.LastPerSubject, filter_subject: `${this.store.subjectPrefix}.*.*`,
        headers_only: true, inactive_threshold: nanos(60_000), mem_storage: true, num_replicas: 1,
      });
    } catch (err) {
      if (/stream not found/i.test((err as Error).message ?? '')) return ends;
      throw err;
    }
    try {
      let remaining = ci.num_pending;
      const consumer = js.consumers.getPullConsumerFor(ci);
      while (remaining > 0) {
        let got = 0;
        const batch = await consumer.fetch({ max_messages: Math.min(remaining, 10_000), expires: 5000 });
        for await (const m of batch) {
          got++;
          remaining--;
          const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
          const last = Number(m.headers?.get('Lf-Last-Seq'));
          // A message without the header (written by hand?) is read from the log: it counts as past any record.
          ends.set(runId, Number.isSafeInteger(last) && last > 0 ? last : Number.MAX_SAFE_INTEGER);
          if (remaining === 0) break;
        }
        if (got === 0) throw new Error(`read where each run ends on ${this.store.stream}: the server stopped delivering with ${remaining} messages left; try again`);
      }
    } finally {
      void jsm.consumers.delete(this.store.stream, ci.name).catch(() => undefined);
    }
    return ends;
  }
}
