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
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { DeliverPolicy, compareRuns, drainConsumer, throwAway } from '../store/index.js';
import type { CorruptRun } from '../store/index.js';
import { decodeValue, RUNS_INDEX_BUCKET } from './jetstream-bucket.js';
import { FiguresTally, keptFiguresOf, type KeptVersion } from './cache-figures.js';
import { newPager, type RunPage } from './paging.js';
import type { RunQuery } from './query.js';
import type { RunRecord } from './record.js';
import { SETTLED_STATUSES } from '../events/index.js';
import type { IndexSealer } from './record-values.js';

const KV_STREAM = `KV_${RUNS_INDEX_BUCKET}`;
const PREFIX = `$KV.${RUNS_INDEX_BUCKET}.`;
const VERSION = 3;
/** Past this many changes read since the kept point, the whole look answers (and keeps the order anew at its point). */
const KEEP_AFTER = 512;

/** A run's place in start order, its workflow, and whether it was settled (so in the figures) when kept. */
interface Row {
  startedAt: string;
  runId: string;
  workflowId: string;
  settled: boolean;
}

interface Kept {
  /** The bucket's stream's creation time: another bucket (reindex) is another order. */
  created: string;
  /** The bucket's stream sequence the order is as of. */
  seq: number;
  rows: KeptRows;
  corrupt: CorruptRun[];
  /** The runs not settled when kept (as many as the work in flight), with their workflow. */
  flight: [string, string][];
  figures: Record<string, Record<string, KeptVersion>>;
}

/** What the bucket changed since the kept point: each run's record now (null: deleted or corrupt), the corrupt runs. */
interface Since {
  changed: Map<string, RunRecord | null>;
  corrupt: Map<string, CorruptRun>;
}

interface Header {
  v: number;
  created: string;
  seq: number;
  count: number;
  corrupt: CorruptRun[];
  flight: [string, string][];
}

/** Past this many runs to look up, one pass over every row is cheaper than a search for each. */
const SEARCH_LIMIT = 64;

function rowOf(line: string): Row | null {
  const cols = line.split('\t');
  if (cols.length !== 4 || !cols[0] || !cols[1] || !cols[2] || (cols[3] !== '1' && cols[3] !== '0')) return null;
  return { runId: cols[0], startedAt: cols[1], workflowId: cols[2], settled: cols[3] === '1' };
}

/**
 * The kept rows as written (`runId\tstartedAt\tworkflowId\t1|0` lines, oldest first), read only where asked: a page
 * reads the newest few and looks up the runs changed since, not every row (parsing 100,000 rows was most of a page).
 */
class KeptRows {
  constructor(
    private readonly text: string,
    /** Where the first row begins (just after a newline). */
    private readonly start: number,
    readonly count: number,
  ) {}

  /** Newest first; a null once a row does not read as one or is out of order (then there is no order to trust). */
  *newest(): Generator<Row | null> {
    let end = this.text.endsWith('\n') ? this.text.length - 1 : this.text.length;
    let prev: Row | null = null;
    while (end > this.start) {
      const from = Math.max(this.text.lastIndexOf('\n', end - 1) + 1, this.start);
      const row = rowOf(this.text.slice(from, end));
      if (!row || (prev && compareRuns(row, prev) >= 0)) {
        yield null;
        return;
      }
      yield (prev = row);
      end = from - 1;
    }
  }

  /** The rows of the runs `ids` that are kept: a search each, or one pass over every row past SEARCH_LIMIT. */
  lookup(ids: string[]): Map<string, Row> {
    const out = new Map<string, Row>();
    if (ids.length > SEARCH_LIMIT) {
      const wanted = new Set(ids);
      for (let at = this.start; at < this.text.length; ) {
        const tab = this.text.indexOf('\t', at);
        const end = this.text.indexOf('\n', at);
        const stop = end < 0 ? this.text.length : end;
        if (tab > at && tab < stop && wanted.has(this.text.slice(at, tab))) {
          const row = rowOf(this.text.slice(at, stop));
          if (row) out.set(row.runId, row);
        }
        at = stop + 1;
      }
      return out;
    }
    for (const id of ids) {
      // A row begins after a newline (the figures line ends with one just before `start`) with its run id and a tab.
      const at = this.text.indexOf(`\n${id}\t`, this.start - 1);
      if (at < 0) continue;
      const end = this.text.indexOf('\n', at + 1);
      const row = rowOf(this.text.slice(at + 1, end < 0 ? this.text.length : end));
      if (row) out.set(id, row);
    }
    return out;
  }
}

const FILE = /^nats-runs-[0-9a-f]{16}\.order$/;
/** Order files kept in a folder, the least recently written removed past it (each reindex makes a bucket anew). */
const FILES_KEPT = 8;

/** Where the order of the runs of log `stream` indexed in the bucket made at `created` is kept in `dir`. */
function fileOf(dir: string, stream: string, created: string): string {
  const id = createHash('sha256').update(`${stream}\n${created}`).digest('hex').slice(0, 16);
  return join(dir, `nats-runs-${id}.order`);
}

/** All but the FILES_KEPT order files written last in `dir` removed. */
function pruneKept(dir: string): void {
  try {
    const files = readdirSync(dir)
      .filter((f) => FILE.test(f))
      .map((f) => ({ f, at: statSync(join(dir, f)).mtimeMs }))
      .sort((a, b) => b.at - a.at);
    for (const { f } of files.slice(FILES_KEPT)) rmSync(join(dir, f), { force: true });
  } catch {
    // A folder that cannot be listed keeps what it has: nothing is read from a file of another bucket.
  }
}

/** The kept order, or null when there is none or it does not read as one (then the whole look keeps it anew). */
function readKept(file: string): Kept | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const nl = text.indexOf('\n');
  const nl2 = nl < 0 ? -1 : text.indexOf('\n', nl + 1);
  if (nl2 < 0) return null;
  let h: Header;
  try {
    h = JSON.parse(text.slice(0, nl)) as Header;
  } catch {
    return null;
  }
  if (
    h?.v !== VERSION ||
    typeof h.created !== 'string' ||
    !Number.isSafeInteger(h.seq) ||
    !Number.isSafeInteger(h.count) ||
    !Array.isArray(h.corrupt) ||
    !Array.isArray(h.flight)
  )
    return null;
  const figures = keptFiguresOf(Buffer.from(text.slice(nl + 1, nl2)));
  if (!figures) return null;
  const rows = new KeptRows(text, nl2 + 1, h.count);
  return { created: h.created, seq: h.seq, rows, corrupt: h.corrupt, flight: h.flight, figures };
}

/** What a keep writes: the rows oldest first. */
type Keeping = Omit<Kept, 'rows' | 'flight'> & { rows: Row[] };

/** Written beside and renamed into place: a reader never sees half an order. A folder that cannot take it keeps none. */
function writeKept(file: string, k: Keeping): void {
  const flight = k.rows.filter((r) => !r.settled).map((r): [string, string] => [r.runId, r.workflowId]);
  const header: Header = {
    v: VERSION,
    created: k.created,
    seq: k.seq,
    count: k.rows.length,
    corrupt: k.corrupt,
    flight,
  };
  const lines = [
    JSON.stringify(header),
    JSON.stringify({ figures: k.figures }),
    ...k.rows.map((r) => `${r.runId}\t${r.startedAt}\t${r.workflowId}\t${r.settled ? 1 : 0}`),
  ];
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${lines.join('\n')}\n`, { mode: 0o600 });
    renameSync(tmp, file);
    pruneKept(join(file, '..'));
  } catch {
    // No order kept: the next page looks at every record, as without a folder.
  }
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

  /** Keeps the order of `records` (and the corrupt runs, and the settled runs' figures) as of the bucket's `point`, read before they were. */
  keep(point: { created: string; seq: number }, records: Iterable<RunRecord>, corrupt: CorruptRun[]): void {
    const tally = new FiguresTally();
    const rows: Row[] = [];
    for (const r of records) {
      const settled = SETTLED_STATUSES.includes(r.status);
      if (settled) tally.addRecord(r);
      rows.push({ startedAt: r.startedAt, runId: r.runId, workflowId: r.workflowId, settled });
    }
    const figures = keptFiguresOf(tally.line());
    if (!figures) return;
    writeKept(fileOf(this.dir, this.stream, point.created), {
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
    const inKept = kept.rows.lookup([...changed.keys()]);
    let total = kept.rows.count;
    for (const [id, r] of changed) total += (r ? 1 : 0) - (inKept.has(id) ? 1 : 0);
    // Newest first: the kept rows not changed since, merged with the records changed since.
    const fresh = [...changed.values()].filter((r): r is RunRecord => r !== null).sort((a, b) => compareRuns(b, a));
    const walk = kept.rows.newest();
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
    for (const r of kept.rows.lookup([...changed.keys()]).values())
      if (r.settled && r.workflowId === workflowId) return null;
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
      const v = decodeValue(m.string(), d.sealer);
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
    const v = decodeValue(e.string(), d.sealer);
    return v && 'record' in v ? v.record : null;
  }
}
