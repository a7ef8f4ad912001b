/**
 * The newest page of runs read from the end of the index cache (cache-lines.ts), for a query that only pages (no
 * filter: what `ledgerflow list` asks by default): the settled runs' lines lie in start order, so the page is the
 * newest of them read backwards, merged with the other lines (runs not settled, corrupt or damaged: as many as there is
 * work in flight). What it reads, parses and stats does not grow with the settled runs the store holds.
 *
 * It stands only while the cache is current, and says so (null) otherwise, for the whole look (file-index.ts) to answer:
 * the runs made since the cache's listing are read (when runs/'s mtime moved: a listing against the cache's ids line,
 * cache-ids.ts; at most MAX_MADE of them), the runs removed since are left out, and every line it answers from must
 * match its run file (size, mtime and inode, stat'ed: the runs not settled, and the settled runs on the page). A
 * settled run off the page is not stat'ed: a log cut or restored by hand is seen when it is shown, by
 * `status` and `history`, by `list --all` or a filtered `list`, and by `reindex` (docs/queries.md).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CorruptRun } from '../store/index.js';
import { compareRuns } from '../store/index.js';
import { keptFiguresOf, type KeptVersion } from './cache-figures.js';
import {
  dirMtime,
  idsOf,
  listedDirMtime,
  listingChanges,
  MAX_MADE,
  noteListed,
  type ListingChanges,
} from './cache-ids.js';
import {
  CACHE_VERSION,
  entryLine,
  isTrailer,
  trailerOf,
  type CacheEntry,
  type LoadedLine,
  type Trailer,
} from './cache-lines.js';
import { damageOf } from './file-index-disk.js';
import { newPager, type RunPage } from './paging.js';
import type { DamagedLog } from './port.js';
import type { RunQuery } from './query.js';
import type { RunRecord } from './record.js';
import { RunRecordSchema } from './record-schema.js';

/** Bytes read at once going backwards: a page of 50 settled runs is about 40 KB of lines. */
const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

export interface TailPage {
  page: RunPage;
  corrupt: CorruptRun[];
  damaged: DamagedLog[];
}

/** A line read, with its record's start and run id for ordering; `read`: a run made since the cache, read from its log. */
type Row = LoadedLine & { startedAt: string; runId: string; read?: RunRecord };

/** Runs not found in the cache as they are now, read from their logs (records with their values opened). */
export type ReadMade = (runIds: string[]) => Promise<{ records: RunRecord[]; corrupt: CorruptRun[] }>;
const rowOf = (l: LoadedLine & { record: { startedAt: string } }): Row =>
  Object.assign(l, { startedAt: l.record.startedAt, runId: l.id });

/** What a cache that vouches for itself says of the runs not in its settled part, read once for a page or the figures. */
interface Vouched {
  t: Trailer & { hotEnd: number; figuresEnd: number; idsEnd: number };
  changes: ListingChanges;
  /** The runs in flight (their lines fresh) and the runs read from their logs (made since, or moved on). */
  rows: Row[];
  corrupt: CorruptRun[];
  damaged: DamagedLog[];
  /** Of `rows`, those read again though the cache had a record of them (they count once in `t.runs`). */
  readAgain: number;
  /** Whether a line's run file is the one the line was read from. */
  fresh: (id: string, e: CacheEntry) => boolean;
}

/** Opens the cache at `cacheFile` for `fn` (null: no cache). */
async function withCache<T>(cacheFile: string, fn: (fd: number) => Promise<T | null>): Promise<T | null> {
  let fd: number;
  try {
    fd = openSync(cacheFile, 'r');
  } catch {
    return null;
  }
  try {
    return await fn(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The page `q` asks for from the cache at `cacheFile`, or null when the cache cannot vouch for it (no trailer, another
 * version, more runs made or moved on since than a page reads, a line that does not check, a log cut or replaced).
 * `pagesOnly(q)` must hold.
 */
export function pageFromTail(
  cacheFile: string,
  runsDir: string,
  q: RunQuery,
  readMade: ReadMade,
  reveal: (r: RunRecord) => RunRecord | null = (r) => r,
): Promise<TailPage | null> {
  return withCache(cacheFile, async (fd) => {
    const v = await vouch(fd, cacheFile, runsDir, readMade);
    return v && tailPage(fd, v, q, reveal);
  });
}

/**
 * What `stats` reads of a workflow from the cache at `cacheFile`: the kept figures of its settled runs, and the records
 * of its runs not among them (in flight, or made since). Null when the cache cannot vouch for itself, or a run was
 * removed since it was written (what it counted of that run is not known here).
 */
export function figuresFromTail(
  cacheFile: string,
  runsDir: string,
  workflowId: string,
  readMade: ReadMade,
): Promise<{ kept: Record<string, KeptVersion>; others: RunRecord[]; corrupt: CorruptRun[] } | null> {
  return withCache(cacheFile, async (fd) => {
    const v = await vouch(fd, cacheFile, runsDir, readMade);
    if (!v || v.changes.gone.size > 0) return null;
    const kept = keptFiguresOf(readAt(fd, v.t.hotEnd, v.t.figuresEnd - v.t.hotEnd - 1));
    if (!kept) return null;
    const others = v.rows.map((r) => r.read ?? (r.record as RunRecord)).filter((r) => r.workflowId === workflowId);
    return { kept: kept[workflowId] ?? {}, others, corrupt: v.corrupt };
  });
}

async function vouch(fd: number, cacheFile: string, runsDir: string, readMade: ReadMade): Promise<Vouched | null> {
  const cache = fstatSync(fd);
  const size = cache.size;
  const head = readAt(fd, 0, Math.min(64, size));
  if (!head.toString('utf8').startsWith(`{"version":${CACHE_VERSION}}\n`)) return null;
  const end = readAt(fd, Math.max(0, size - CHUNK), Math.min(CHUNK, size));
  const lastNl = end.lastIndexOf(NEWLINE, end.length - 2);
  const last = end.subarray(lastNl + 1, end.length - 1);
  if (end.at(-1) !== NEWLINE || !isTrailer(last)) return null;
  const trailer = trailerOf(last);
  // A cache edited since it was written (its lines no longer where the trailer says): not vouched for.
  if (!trailer || trailer.figuresEnd === undefined || trailer.idsEnd !== size - last.length - 1) return null;
  const t = trailer as Vouched['t'];
  // A run made or removed since the cache's listing moves runs/'s mtime: the listing is compared with the cache's ids
  // (and, when it matches them exactly, that mtime noted for the next reader: cache-ids.ts).
  let changes: ListingChanges = { made: [], gone: new Set() };
  const dirNow = dirMtime(runsDir);
  if (dirNow === null || (dirNow !== t.dirMtimeMs && dirNow !== listedDirMtime(cacheFile, cache))) {
    const known = idsOf(readAt(fd, t.figuresEnd, t.idsEnd - t.figuresEnd - 1));
    const got = known && listingChanges(runsDir, known);
    if (!got) return null;
    changes = got;
    if (dirNow !== null && got.made.length === 0 && got.gone.size === 0)
      noteListed(cacheFile, cache, dirNow, Date.now());
  }
  /** 'same': the file the line was read from; 'grew': appended to since; 'other': cut, replaced or gone. */
  const look = (id: string, e: CacheEntry): 'same' | 'grew' | 'other' => {
    const st = statSync(join(runsDir, `${id}.jsonl`), { throwIfNoEntry: false });
    if (st === undefined || st.ino !== e.ino || st.size < e.size) return 'other';
    return st.size === e.size && st.mtimeMs === e.mtimeMs ? 'same' : 'grew';
  };
  const fresh = (id: string, e: CacheEntry) => look(id, e) === 'same';

  // The lines after the settled runs': every one read and its run file stat'ed (they are the runs in flight).
  // A run in flight whose log moved on since the cache (a busy store's are) is read again, as a run made since is.
  const rows: Row[] = [];
  const corrupt: CorruptRun[] = [];
  const damaged: DamagedLog[] = [];
  const again: string[] = [];
  const hot = readAt(fd, t.sortedEnd, t.hotEnd - t.sortedEnd);
  for (let from = 0, nl = hot.indexOf(NEWLINE); nl >= 0; from = nl + 1, nl = hot.indexOf(NEWLINE, from)) {
    const l = entryLine(hot.subarray(from, nl), t.sortedEnd + from);
    if (!l) return null;
    if (changes.gone.has(l.id)) continue;
    const now = look(l.id, l.entry);
    if (now !== 'same') {
      // A log cut or replaced, or one already found short: the whole look tells (and keeps) what it lost (damage.ts).
      if (now === 'other' || l.entry.damaged || again.length + changes.made.length >= MAX_MADE) return null;
      again.push(l.id);
      continue;
    }
    if (l.entry.corrupt) corrupt.push({ runId: l.id, ...l.entry.corrupt });
    else if (!l.record)
      return null; // a line kept without its record: the whole look knows what to do with it
    else {
      rows.push(rowOf(l as LoadedLine & { record: RunRecord }));
      if (l.entry.damaged) damaged.push(damageOf(l.id, l.entry.damaged, l.record.lastSeq, cacheFile, runsDir));
    }
  }
  const read = again.length + changes.made.length > 0 ? await readMade([...changes.made, ...again]) : null;
  for (const r of read?.records ?? []) rows.push(madeRow(r));
  corrupt.push(...(read?.corrupt ?? []));
  return { t, changes, rows, corrupt, damaged, readAgain: countRecords(again, read), fresh };
}

function tailPage(fd: number, v: Vouched, q: RunQuery, reveal: (r: RunRecord) => RunRecord | null): TailPage | null {
  const { t, changes, rows, corrupt, damaged, fresh } = v;
  // The settled runs' lines from the newest back, until the page and one more past the cursor are found.
  const after = q.cursor;
  const pager = newPager<Row>({ ...(after !== undefined ? { cursor: after } : {}), limit: q.limit! + 1 }, 'newest');
  for (const l of backwards(fd, t.sortedFrom, t.sortedEnd)) {
    if (!l) return null;
    if (changes.gone.has(l.runId)) continue;
    rows.push(l);
    pager.add(l);
    if (pager.page().runs.length > q.limit!) break;
  }

  rows.sort((a, b) => compareRuns(b, a));
  const page = newPager<Row>(q, 'newest');
  for (const r of rows) page.add(r);
  const got = page.page();
  // The rows shown answer for their run files; the rows of runs in flight were stat'ed above.
  for (const r of got.runs) if (!r.read && r.at < t.sortedEnd && !fresh(r.id, r.entry)) return null;
  const runs: RunRecord[] = [];
  for (const r of got.runs) {
    // A record with values sealed by a key not loaded here: the whole look reads its run from its log.
    const whole = r.read ?? reveal(RunRecordSchema.parse(r.raw) as RunRecord);
    if (!whole) return null;
    runs.push(whole);
  }
  // Removed runs are counted as runs (a removed corrupt log: one too few), which only a whole look tells apart.
  const made = rows.filter((r) => r.read).length;
  const total = t.runs - changes.gone.size + made - v.readAgain;
  return { page: { ...got, runs, total }, corrupt, damaged };
}

/** Of the runs in flight read again, how many had a record in the cache (all that were read: a corrupt one has none). */
function countRecords(again: string[], read: { records: RunRecord[] } | null): number {
  if (!read || again.length === 0) return 0;
  const ids = new Set(again);
  return read.records.filter((r) => ids.has(r.runId)).length;
}

/** A run made since the cache, as a row: its record read from its log, nothing in the cache to check. */
const madeRow = (record: RunRecord): Row =>
  ({
    id: record.runId,
    entry: { size: 0, mtimeMs: 0, ino: 0, corrupt: null },
    at: Number.POSITIVE_INFINITY,
    len: 0,
    raw: null,
    settled: false,
    record,
    startedAt: record.startedAt,
    runId: record.runId,
    read: record,
  }) as Row;

/** The settled runs' lines in [from, to), last first, each parsed (null: one that does not check). */
function* backwards(fd: number, from: number, to: number): Generator<Row | null> {
  const row = (line: Buffer, at: number) => {
    const l = entryLine(line, at);
    return l?.record ? rowOf(l as LoadedLine & { record: { startedAt: string } }) : null;
  };
  let end = to;
  let carry: Buffer = Buffer.alloc(0);
  while (end > from) {
    const start = Math.max(from, end - CHUNK);
    const data =
      carry.length > 0 ? Buffer.concat([readAt(fd, start, end - start), carry]) : readAt(fd, start, end - start);
    // data ends with a whole line's newline; the bytes before the first newline may be part of an earlier line.
    let stop = data.length - 1;
    for (let nl = data.lastIndexOf(NEWLINE, stop - 1); nl >= 0; nl = data.lastIndexOf(NEWLINE, stop - 1)) {
      yield row(data.subarray(nl + 1, stop), start + nl + 1);
      stop = nl;
    }
    carry = Buffer.from(data.subarray(0, stop + 1));
    end = start;
  }
  if (carry.length > 1) yield row(carry.subarray(0, carry.length - 1), from);
}

function readAt(fd: number, at: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len);
  let done = 0;
  while (done < len) {
    const n = readSync(fd, buf, done, len - done, at + done);
    if (n === 0) break;
    done += n;
  }
  return buf.subarray(0, done);
}
