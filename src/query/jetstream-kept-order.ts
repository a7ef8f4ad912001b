/**
 * The newest page of runs on NATS without reading every record: what `ledgerflow list` asks by default. The whole look
 * (jetstream-index.ts) reads every value of KV LF_RUNS_INDEX, which grows with the runs the store holds (4 s at
 * 100,000 settled). This reader keeps, in a folder of its own (the CLI's cache folder), the start order of the runs
 * the bucket held at one point of its stream: each run's start time and id, and the runs found corrupt (nothing of a
 * payload; ids and times are clear in the index). A page reads what the bucket changed since that point (its stream
 * from there: the values written since, the keys deleted), merges it with the kept order and reads the page's records
 * by key: what it reads grows with what changed since, not with what the store holds. It answers only while the
 * engines' projection is current (the bucket is then the whole truth, as for the whole look) and the bucket is the one
 * the order was kept from (its stream's creation time: `reindex` makes a new one); a record the page needs that is not
 * where the order says is a miss, and the whole look answers and keeps the order anew. Beside the order it keeps the
 * figures of the settled runs (cache-figures.ts, as the file store's cache does), so `stats` reads the runs changed
 * since and those in flight instead of every record.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { DeliverPolicy, compareRuns, drainConsumer, throwAway } from '../store/index.js';
import type { CorruptRun } from '../store/index.js';
import { decodeValueLoading, RUNS_INDEX_BUCKET } from './jetstream-bucket.js';
import { FiguresTally, keptFiguresOf, type KeptVersion } from './cache-figures.js';
import { fileOf, keptPoint, readKept, writeKept, type Kept, type Row } from './jetstream-kept-file.js';
import { newPager, type RunPage } from './paging.js';
import type { RunQuery } from './query.js';
import type { RunRecord } from './record.js';
import { SETTLED_STATUSES } from '../events/index.js';
import type { IndexSealer } from './record-values.js';

const KV_STREAM = `KV_${RUNS_INDEX_BUCKET}`;
const PREFIX = `$KV.${RUNS_INDEX_BUCKET}.`;
/** Past this many changes read since the kept point, the whole look answers (and keeps the order anew at its point). */
const KEEP_AFTER = 512;
/** A whole look writes the order anew once it is this many changes behind (a page then reads at most this many). */
const RENEW_AFTER = 64;

/** What the bucket changed since the kept point: each run's record now (null: deleted or corrupt), the corrupt runs. */
interface Since {
  changed: Map<string, RunRecord | null>;
  corrupt: Map<string, CorruptRun>;
}

export interface PageCacheDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: () => Promise<KV>;
  sealer: IndexSealer | null;
}

/** The bucket's stream as it stands: its creation time and last sequence; null without a bucket. */
export async function bucketPoint(jsm: JetStreamManager): Promise<{ created: string; seq: number } | null> {
  const info = await jsm.streams.info(KV_STREAM).catch(() => null);
  return info ? { created: info.created, seq: info.state.last_seq } : null;
}

export class JetStreamKeptOrder {
  constructor(
    private readonly dir: string,
    private readonly stream: string,
  ) {}

  /**
   * Keeps the order of `records` (and the corrupt runs, and the settled runs' figures) as of the bucket's `point`, read
   * before they were. `whenBehind`: only where no order of this bucket is kept or it is RENEW_AFTER changes behind.
   * A filtered `list` or a `stats --since` reads every record anyway; an order kept a moment ago serves the next page
   * as well as a new one, and writing it again each time cost a write of the whole order (5 MB at 100,000 runs).
   */
  keep(
    point: { created: string; seq: number },
    records: Iterable<RunRecord>,
    corrupt: CorruptRun[],
    opts: { whenBehind?: boolean } = {},
  ): void {
    const file = fileOf(this.dir, this.stream, point.created);
    const at = opts.whenBehind ? keptPoint(file) : null;
    // One kept ahead of this point (by another reader since) is newer than what this would write.
    if (at && at.created === point.created && point.seq - at.seq <= RENEW_AFTER) return;
    const tally = new FiguresTally();
    const rows: Row[] = [];
    for (const r of records) {
      const settled = SETTLED_STATUSES.includes(r.status);
      if (settled) tally.addRecord(r);
      rows.push({ startedAt: r.startedAt, runId: r.runId, workflowId: r.workflowId, settled });
    }
    const figures = keptFiguresOf(tally.line());
    if (!figures) return;
    writeKept(file, {
      ...point,
      rows: rows.sort(compareRuns),
      corrupt,
      figures,
    });
  }

  /**
   * The first page of `q` (no filter, no cursor) from the kept order and what changed since; null when it cannot be
   * answered so (no order kept, another bucket, a value that is not one of ours, a record not where the order says).
   * `onCorrupt`: each run found corrupt, as the whole look tells them.
   */
  async page(
    q: RunQuery,
    point: { created: string; seq: number },
    d: PageCacheDeps,
    onCorrupt: (c: CorruptRun) => void,
  ): Promise<RunPage | null> {
    if (q.limit === undefined) return null;
    const kept = this.kept(point);
    const since = kept && (await this.since(kept, point, d));
    if (!kept || !since) return null;
    const { changed, corrupt } = since;
    const rows = kept.rows();
    if (!rows) return null;
    const inKept = rows.lookup([...changed.keys()]);
    let total = rows.count;
    for (const [id, r] of changed) total += (r ? 1 : 0) - (inKept.has(id) ? 1 : 0);
    // Newest first: the kept rows not changed since, merged with the records changed since.
    const fresh = [...changed.values()].filter((r): r is RunRecord => r !== null).sort((a, b) => compareRuns(b, a));
    const walk = rows.newest();
    /** The next kept row not changed since; null past the oldest, false when the rows do not read as an order. */
    const next = (): Row | null | false => {
      for (;;) {
        const n = walk.next();
        if (n.done) return null;
        if (n.value === null) return false;
        if (!changed.has(n.value.runId)) return n.value;
      }
    };
    const want = q.limit + 1;
    const order: (Row | RunRecord)[] = [];
    let row = next();
    for (let f = 0; order.length < want && (row || f < fresh.length); ) {
      if (row === false) return null;
      const rec = fresh[f] ?? null;
      if (row && (!rec || compareRuns(row, rec) > 0)) {
        order.push(row);
        row = next();
      } else if (rec) {
        order.push(rec);
        f++;
      }
    }
    if (row === false) return null;
    const records = await Promise.all(order.map((r) => ('tasks' in r ? r : this.record(d, r.runId))));
    if (records.some((r) => r === null)) return null;
    for (const c of corrupt.values()) onCorrupt(c);
    const pager = newPager(q, 'newest');
    for (const r of records) pager.add(r!);
    return { ...pager.page(), total };
  }

  /**
   * What `stats` reads of `workflowId` (RunIndex.keptFigures): the kept figures of its settled runs, and the records of
   * its others (in flight when kept, or changed since); null when the whole look must answer, as for `page`, or when a
   * run already in the figures changed since (its old part cannot be taken out).
   */
  async figures(
    workflowId: string,
    point: { created: string; seq: number },
    d: PageCacheDeps,
    onCorrupt: (c: CorruptRun) => void,
  ): Promise<{ kept: Record<string, KeptVersion>; others: RunRecord[] } | null> {
    const kept = this.kept(point);
    const since = kept && (await this.since(kept, point, d));
    if (!kept || !since) return null;
    const { changed, corrupt } = since;
    const others: (RunRecord | Promise<RunRecord | null>)[] = [];
    // Whether a run changed since was already in the figures: the rows are read only when something changed.
    if (changed.size > 0) {
      const rows = kept.rows();
      if (!rows) return null;
      for (const r of rows.lookup([...changed.keys()]).values())
        if (r.settled && r.workflowId === workflowId) return null;
    }
    for (const [runId, w] of kept.flight)
      if (w === workflowId && !changed.has(runId)) others.push(this.record(d, runId));
    for (const r of changed.values()) if (r && r.workflowId === workflowId) others.push(r);
    const read = await Promise.all(others);
    if (read.some((r) => r === null)) return null;
    for (const c of corrupt.values()) onCorrupt(c);
    return { kept: kept.figures[workflowId] ?? {}, others: read as RunRecord[] };
  }

  /** The order kept of the bucket at `point` (the same bucket, not ahead of it), or null. */
  private kept(point: { created: string; seq: number }): Kept | null {
    const kept = readKept(fileOf(this.dir, this.stream, point.created));
    return kept && kept.created === point.created && kept.seq <= point.seq ? kept : null;
  }

  /** What the bucket changed since `kept` was kept; null past KEEP_AFTER changes or with a value not of ours. */
  private async since(kept: Kept, point: { created: string; seq: number }, d: PageCacheDeps): Promise<Since | null> {
    const changed = new Map<string, RunRecord | null>();
    const corrupt = new Map(kept.corrupt.map((c) => [c.runId, c]));
    if (point.seq === kept.seq) return { changed, corrupt };
    const ci = await d.jsm.consumers.add(KV_STREAM, {
      ...throwAway(),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: kept.seq + 1,
      filter_subject: `${PREFIX}>`,
    });
    if (ci.num_pending > KEEP_AFTER) {
      await d.jsm.consumers.delete(KV_STREAM, ci.name).catch(() => undefined);
      return null;
    }
    for await (const m of drainConsumer(
      d.js,
      d.jsm,
      KV_STREAM,
      ci,
      5000,
      `read ${RUNS_INDEX_BUCKET} since ${kept.seq}`,
    )) {
      const key = m.subject.slice(PREFIX.length);
      const op = m.headers?.get('KV-Operation');
      if (op === 'DEL' || op === 'PURGE') {
        changed.set(key, null);
        corrupt.delete(key);
        continue;
      }
      const v = await decodeValueLoading(m.string(), d.sealer);
      if (!v) return null; // not a value of ours: the whole look reads that run from the log
      if ('corrupt' in v) {
        corrupt.set(key, v.corrupt);
        changed.set(key, null);
      } else {
        corrupt.delete(key);
        changed.set(key, v.record);
      }
    }
    return { changed, corrupt };
  }

  /** A kept row's record, read by key; null when it is not a record of ours now (deleted, corrupt: the order is stale). */
  private async record(d: PageCacheDeps, runId: string): Promise<RunRecord | null> {
    const e = await (await d.kv()).get(runId);
    if (!e || e.operation !== 'PUT') return null;
    const v = await decodeValueLoading(e.string(), d.sealer);
    return v && 'record' in v ? v.record : null;
  }
}
