/**
 * The newest page of runs read from the end of the index cache (cache-lines.ts), for a query that only pages (no
 * filter: what `ledgerflow list` asks by default): the settled runs' lines lie in start order, so the page is the
 * newest of them read backwards, merged with the other lines (runs not settled, corrupt or damaged: as many as there is
 * work in flight). What it reads, parses and stats does not grow with the settled runs the store holds.
 *
 * It stands only while the cache is current, and says so (null) otherwise, for the whole look (file-index.ts) to answer:
 * runs/ must not have changed since the cache's listing (its mtime, kept in the trailer), and every line it answers
 * from must match its run file (size, mtime and inode, stat'ed: the runs not settled, and the settled runs on the
 * page). A settled run off the page is not stat'ed: a log cut or restored by hand is seen when it is shown, by
 * `status` and `history`, by `list --all` or a filtered `list`, and by `reindex` (docs/queries.md).
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { CorruptRun } from '../store/index.js';
import { compareRuns } from '../store/index.js';
import { CACHE_VERSION, entryLine, isTrailer, trailerOf, type CacheEntry, type LoadedLine } from './cache-lines.js';
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

/** Whether the query only pages (no filter, a limit, no `before`): the queries a page from the end answers. */
export function pagesOnly(q: RunQuery): boolean {
  if (q.limit === undefined || q.before !== undefined) return false;
  return (
    q.workflow === undefined &&
    q.status === undefined &&
    q.trigger === undefined &&
    q.agent === undefined &&
    q.since === undefined &&
    q.until === undefined &&
    q.outputContains === undefined &&
    q.runId === undefined &&
    (q.where === undefined || q.where.length === 0)
  );
}

/** A line read, with its record's start and run id for ordering. */
type Row = LoadedLine & { startedAt: string; runId: string };
const rowOf = (l: LoadedLine & { record: { startedAt: string } }): Row =>
  Object.assign(l, { startedAt: l.record.startedAt, runId: l.id });

/**
 * The page `q` asks for from the cache at `cacheFile`, or null when the cache cannot vouch for it (no trailer, another
 * version, runs/ changed, a line that does not check, a run file that changed). `pagesOnly(q)` must hold.
 */
export function pageFromTail(
  cacheFile: string,
  runsDir: string,
  q: RunQuery,
  reveal: (r: RunRecord) => RunRecord | null = (r) => r,
): TailPage | null {
  let fd: number;
  try {
    fd = openSync(cacheFile, 'r');
  } catch {
    return null;
  }
  try {
    return tailPage(fd, cacheFile, runsDir, q, reveal);
  } finally {
    closeSync(fd);
  }
}

function tailPage(
  fd: number,
  cacheFile: string,
  runsDir: string,
  q: RunQuery,
  reveal: (r: RunRecord) => RunRecord | null,
): TailPage | null {
  const size = fstatSync(fd).size;
  const head = readAt(fd, 0, Math.min(64, size));
  if (!head.toString('utf8').startsWith(`{"version":${CACHE_VERSION}}\n`)) return null;
  const end = readAt(fd, Math.max(0, size - CHUNK), Math.min(CHUNK, size));
  const lastNl = end.lastIndexOf(NEWLINE, end.length - 2);
  const last = end.subarray(lastNl + 1, end.length - 1);
  if (end.at(-1) !== NEWLINE || !isTrailer(last)) return null;
  const t = trailerOf(last);
  // A cache edited since it was written (its lines no longer where the trailer says): not vouched for.
  if (!t || t.dirMtimeMs === null || t.hotEnd !== size - last.length - 1) return null;
  // A run made or removed since the cache's listing moves runs/'s mtime: that listing no longer stands.
  if (statSync(runsDir, { throwIfNoEntry: false })?.mtimeMs !== t.dirMtimeMs) return null;
  const fresh = (id: string, e: CacheEntry) => {
    const st = statSync(join(runsDir, `${id}.jsonl`), { throwIfNoEntry: false });
    return st !== undefined && st.size === e.size && st.mtimeMs === e.mtimeMs && st.ino === e.ino;
  };

  // The lines after the settled runs': every one read and its run file stat'ed (they are the runs in flight).
  const rows: Row[] = [];
  const corrupt: CorruptRun[] = [];
  const damaged: DamagedLog[] = [];
  const hot = readAt(fd, t.sortedEnd, t.hotEnd - t.sortedEnd);
  for (let from = 0, nl = hot.indexOf(NEWLINE); nl >= 0; from = nl + 1, nl = hot.indexOf(NEWLINE, from)) {
    const l = entryLine(hot.subarray(from, nl), t.sortedEnd + from);
    if (!l || !fresh(l.id, l.entry)) return null;
    if (l.entry.corrupt) corrupt.push({ runId: l.id, ...l.entry.corrupt });
    else if (!l.record)
      return null; // a line kept without its record: the whole look knows what to do with it
    else {
      rows.push(rowOf(l as LoadedLine & { record: RunRecord }));
      if (l.entry.damaged) damaged.push(damageOf(l.id, l.entry.damaged, l.record.lastSeq, cacheFile, runsDir));
    }
  }

  // The settled runs' lines from the newest back, until the page and one more past the cursor are found.
  const after = q.cursor;
  const pager = newPager<Row>({ ...(after !== undefined ? { cursor: after } : {}), limit: q.limit! + 1 }, 'newest');
  for (const l of backwards(fd, t.sortedFrom, t.sortedEnd)) {
    if (!l) return null;
    rows.push(l);
    pager.add(l);
    if (pager.page().runs.length > q.limit!) break;
  }

  rows.sort((a, b) => compareRuns(b, a));
  const page = newPager<Row>(q, 'newest');
  for (const r of rows) page.add(r);
  const got = page.page();
  // The rows shown answer for their run files; the rows of runs in flight were stat'ed above.
  for (const r of got.runs) if (r.at < t.sortedEnd && !fresh(r.id, r.entry)) return null;
  const runs: RunRecord[] = [];
  for (const r of got.runs) {
    // A record with values sealed by a key not loaded here: the whole look reads its run from its log.
    const whole = reveal(RunRecordSchema.parse(r.raw) as RunRecord);
    if (!whole) return null;
    runs.push(whole);
  }
  return { page: { ...got, runs, total: t.runs }, corrupt, damaged };
}

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
