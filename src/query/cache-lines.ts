/**
 * The file store's index cache, `<store>/index/runs.jsonl`: a first line `{"version":7}`, then one line a run: its
 * file's size, mtime and inode, and its record (or why its log is corrupt), the record last on the line; then the settled runs' figures
 * (cache-figures.ts), a line of every run id held (cache-ids.ts) and a last line, the trailer (cache-tail.ts). The settled runs' lines come first, in start order (oldest first), the others
 * after them: the newest page is read from the end of that first part without reading the rest. Read and
 * written a line at a time, never whole: at 100,000 runs the file is 70 MB, and a reader that parsed it in one piece
 * (the format before, one JSON object in `runs.json`) held it three times over at once.
 *
 * A reader keeps the file open and refers to each record's bytes in it (cold-records.ts) instead of keeping the record;
 * a writer writes a new file and renames it over the old one, so a reader holding the old one still reads what it
 * referred to. A line that does not parse or check is skipped (its run is read from its log again); a file of another
 * version is no cache.
 */
import { close as closeCb, open as openCb, read as readCb, write as writeCb } from 'node:fs';
import { rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { SETTLED_STATUSES, WorkflowStatus } from '../events/index.js';
import { unlessMissing } from '../store/index.js';
import { FiguresTally } from './cache-figures.js';
import { idsLine } from './cache-ids.js';
import type { RunRecord } from './record.js';
import { RunRecordSchema, SlimFieldsSchema } from './record-schema.js';
import type { SlimFields } from './record-set.js';

/**
 * 2: a run's agents include who reported its attempts' outcomes. 3: records hold search attributes
 * (`search`, `searchTypes`). 4: one line a run (`runs.jsonl`; `runs.json` before): read and written a line at a time. 5: an encrypted run's record is
 * folded from its opened events, its values sealed (record-values.ts). 6: settled runs first in start order, then a
 * trailer (cache-tail.ts). 7: the figures and ids lines before the trailer. A cache of 5 or 6 is read as it is (and
 * written again as 7); an earlier one is rebuilt from the logs.
 */
export const CACHE_VERSION = 7;
/** The cache file of an index directory, and the one of versions 1–3 (removed when a new cache is written). */
export const cacheFileIn = (indexDir: string): string => join(indexDir, 'runs.jsonl');
const OLD_CACHE = 'runs.json';
/** Bytes read, or gathered before a write, at once. */
const CHUNK = 1 << 20;
const NEWLINE = 0x0a;
/** What precedes a line's record: the first `"record":` of a line is its key (no string holds an unescaped quote, and the keys before it are fixed). */
const RECORD_KEY = Buffer.from('"record":');
const CLOSE = Buffer.from('}');
// Numeric descriptors, not FileHandles: a reader keeps the file open for its records (cold-records.ts closes it by number).
const openFd = promisify(openCb);
const readFd = promisify(readCb);
const writeFd = promisify(writeCb);
const closeFd = promisify(closeCb);

/**
 * The cache's last line, `{"trailer":{...}}`: where the settled runs' lines (in start order) begin and end, where the
 * others end, how many lines hold a record, and the mtime of `runs/` when its listing was written here (null: it had
 * changed too lately to vouch for it). What a page read from the end starts from (cache-tail.ts).
 */
export interface Trailer {
  sortedFrom: number;
  sortedEnd: number;
  hotEnd?: number;
  /** Where the figures line (cache-figures.ts) and the ids line end, the latter the trailer's offset: absent before 7. */
  figuresEnd?: number;
  idsEnd?: number;
  runs: number;
  dirMtimeMs: number | null;
}
/** Lines are Uint8Array in what the package declares (its .d.ts names no Node type); read as a Buffer, copied never. */
const asBuffer = (line: Uint8Array): Buffer => Buffer.from(line.buffer, line.byteOffset, line.byteLength);
/** Whether a line begins with `{"<key>":`: the trailer, and the figures and ids lines before it, are told so. */
const keyedLine = (key: string) => {
  const head = Buffer.from(`{"${key}":`);
  return (line: Uint8Array): boolean =>
    line.length >= head.length && asBuffer(line).compare(head, 0, head.length, 0, head.length) === 0;
};
export const isTrailer = keyedLine('trailer');
const isFiguresLine = keyedLine('figures');
const isIdsLine = keyedLine('ids');
const TrailerSchema = z.object({
  trailer: z.object({
    sortedFrom: z.number().int(),
    sortedEnd: z.number().int(),
    hotEnd: z.number().int(),
    figuresEnd: z.number().int().optional(),
    idsEnd: z.number().int().optional(),
    runs: z.number().int(),
    dirMtimeMs: z.number().nullable(),
  }),
});
/** The trailer a line holds (null: not one that checks). */
export function trailerOf(line: Uint8Array): (Trailer & { hotEnd: number }) | null {
  return parseLine(asBuffer(line), TrailerSchema)?.trailer ?? null;
}

/** The last event (and the status it led to) this index recorded of a run. */
export interface Recorded {
  seq: number;
  status: WorkflowStatus;
}

/** A run's line without its record. */
export interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  corrupt: { file: string; reason: string } | null;
  /**
   * The log is shorter than this index once recorded it (damage.ts): what it recorded, kept until the log reaches that
   * event again or `reindex` forgets it. Absent when the log is whole.
   */
  damaged?: Recorded;
}

const EntrySchema = z.object({
  id: z.string().min(1),
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  corrupt: z.object({ file: z.string(), reason: z.string() }).nullable(),
  damaged: z.object({ seq: z.number(), status: WorkflowStatus }).optional(),
});
/** A run not settled: its whole record (kept whole, it changes). */
const LineSchema = EntrySchema.extend({ record: RunRecordSchema.nullable() });
/** A settled run: what its slim row holds (the whole record is checked when it is read back: 40% of a load was checking it here). */
const SettledLineSchema = EntrySchema.extend({ record: SlimFieldsSchema });
/**
 * A line's head: its entry and, before the record, the record's last seq, status and end (null without a record). What
 * the log witness and `serve`'s first scan read: parsed without the record (a tenth of the bytes).
 */
const HeadSchema = z.object({
  id: z.string().min(1),
  size: z.number(),
  mtimeMs: z.number(),
  ino: z.number(),
  damaged: z.object({ seq: z.number(), status: WorkflowStatus }).optional(),
  seq: z.number().nullable(),
  status: WorkflowStatus.nullable(),
  completedAt: z.string().nullable(),
});

/** A line read back: the entry, its record (a settled run's: what its slim row holds), and where the record's text lies in the file. */
export type LoadedLine = { id: string; entry: CacheEntry; at: number; len: number; raw: unknown } & (
  | { settled: false; record: RunRecord | null }
  | { settled: true; record: SlimFields }
);

/**
 * Reads the cache a line at a time, giving each line that checks to `onLine`. Returns the file, still open (the caller
 * refers to record texts in it and closes it), or null when there is no cache of this version.
 */
export function loadCache(
  file: string,
  onLine: (line: LoadedLine) => void,
  onTrailer?: (t: Trailer) => void,
): Promise<number | null> {
  return eachEntry(
    file,
    (line, at) => {
      const got = entryLine(line, at);
      if (got) onLine(got);
      return true;
    },
    onTrailer,
  );
}

/** One run's line parsed and checked (null: a damaged line, whose run is read from its log again). `at`: its offset. */
export function entryLine(bytes: Uint8Array, at: number): LoadedLine | null {
  const line = asBuffer(bytes);
  const raw = parseJson(line);
  const settled = isSettled(raw);
  const got = (settled ? SettledLineSchema : LineSchema).safeParse(raw);
  if (!got.success) return null;
  const { id, record } = got.data;
  // Field by field: every entry shares one hidden class (a rest pattern gave each its own).
  const entry: CacheEntry = {
    size: got.data.size,
    mtimeMs: got.data.mtimeMs,
    ino: got.data.ino,
    corrupt: got.data.corrupt,
  };
  if (got.data.damaged) entry.damaged = got.data.damaged;
  // The record's bytes: after its key, up to the line's closing brace.
  const start = line.indexOf(RECORD_KEY) + RECORD_KEY.length;
  const place = { id, entry, at: at + start, len: line.length - 1 - start };
  return settled
    ? { ...place, settled, record: record as SlimFields, raw: (raw as { record: unknown }).record }
    : { ...place, settled, record: record as RunRecord | null, raw: (raw as { record: unknown }).record };
}

/**
 * Writes a new cache from `lines` (each entry with its record's JSON text, or null) and renames it over the old one;
 * removes a cache of versions 1–3. `onPlaced` is told where each record's text lies in the new file, before the rename:
 * a caller re-points its references once `saveCache` returns the file, still open for reading.
 */
export async function saveCache(
  file: string,
  lines: Iterable<[string, CacheEntry, string | null, boolean]>,
  onPlaced: (id: string, at: number, len: number) => void,
  dirMtimeMs: number | null = null,
): Promise<number> {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fh = await openFd(tmp, 'wx+', 0o644);
  try {
    let chunk: Uint8Array[] = [];
    let chunkBytes = 0;
    let written = 0;
    const put = (b: Uint8Array) => {
      chunk.push(b);
      chunkBytes += b.length;
    };
    const flush = async () => {
      const all = Buffer.concat(chunk, chunkBytes);
      let done = 0;
      while (done < all.length) done += (await writeFd(fh, all, done, all.length - done, written + done)).bytesWritten;
      written += all.length;
      chunk = [];
      chunkBytes = 0;
    };
    put(Buffer.from(`${JSON.stringify({ version: CACHE_VERSION })}\n`));
    const trailer: Trailer = { sortedFrom: written + chunkBytes, sortedEnd: -1, runs: 0, dirMtimeMs };
    const ids: string[] = [];
    const figures = new FiguresTally();
    for (const [id, entry, record, sorted] of lines) {
      ids.push(id);
      if (sorted && record !== null) figures.add(record);
      if (!sorted && trailer.sortedEnd < 0) trailer.sortedEnd = written + chunkBytes;
      if (record !== null) trailer.runs++;
      const h = headOf(record);
      const head = Buffer.from(
        `${JSON.stringify({ id, ...entry, seq: h.seq, status: h.status, completedAt: h.completedAt }).slice(0, -1)},"record":`,
      );
      const body = Buffer.from(record ?? 'null');
      if (record !== null) onPlaced(id, written + chunkBytes + head.length, body.length);
      put(head);
      put(body);
      put(Buffer.from('}\n'));
      if (chunkBytes >= CHUNK) await flush();
    }
    if (trailer.sortedEnd < 0) trailer.sortedEnd = written + chunkBytes;
    trailer.hotEnd = written + chunkBytes;
    put(figures.line());
    trailer.figuresEnd = written + chunkBytes;
    put(idsLine(ids));
    trailer.idsEnd = written + chunkBytes;
    put(Buffer.from(`${JSON.stringify({ trailer })}\n`));
    await flush();
    await rename(tmp, file); // readers see the old cache or the new one, never half of one
  } catch (err) {
    await closeFd(fh);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await rm(join(file, '..', OLD_CACHE), { force: true });
  return fh;
}

/**
 * What the cache at `file` recorded of each run (null: no cache of this
 * version): how far each log reached when it was last read.
 */
export async function readRecorded(file: string): Promise<Map<string, Recorded> | null> {
  const out = new Map<string, Recorded>();
  const fh = await loadLines(file, (got) => {
    const best = recordedOfHead(got);
    if (best) out.set(got.id, best);
  });
  if (fh === null) return null;
  await closeFd(fh);
  return out;
}

/**
 * What the cache at `file` recorded of one run (null: no cache of this version, or the run is not in it), without
 * parsing the other lines: each line starts with its run's id (`{"id":"<runId>",`, saveCache writes it first), so a
 * line is compared by its first bytes and only the run's own is parsed. `status <id>` asks this of one run: parsing
 * every line's head cost it time in proportion to the runs the store holds (0.3 s at 10,000).
 */
export async function readRecordedOf(file: string, runId: string): Promise<Recorded | null> {
  const prefix = Buffer.from(`{"id":${JSON.stringify(runId)},`);
  let found: Recorded | null = null;
  const fh = await eachEntry(file, (line) => {
    if (line.length < prefix.length || line.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return true;
    headLine(line, (got) => {
      found = recordedOfHead(got);
    });
    return false; // one line a run
  });
  if (fh !== null) await closeFd(fh);
  return found;
}

/** The furthest a line's head says this index recorded its run: its record's last event, or a log since cut short. */
function recordedOfHead(got: z.infer<typeof HeadSchema>): Recorded | null {
  const r: Recorded | null = got.seq !== null && got.status !== null ? { seq: got.seq, status: got.status } : null;
  return r && got.damaged && got.damaged.seq > r.seq ? got.damaged : (r ?? got.damaged ?? null);
}

/** The head fields of a record's JSON text, read without parsing it whole: they are at its start (record.ts builds it in that order) or found by a parse. */
function headOf(record: string | null): { seq: number | null; status: string | null; completedAt: string | null } {
  if (record === null) return { seq: null, status: null, completedAt: null };
  const r = JSON.parse(record) as { lastSeq: number; status: string; completedAt: string | null };
  return { seq: r.lastSeq, status: r.status, completedAt: r.completedAt };
}

function loadLines(file: string, onLine: (got: z.infer<typeof HeadSchema>) => void): Promise<number | null> {
  return eachEntry(file, (line) => {
    headLine(line, onLine);
    return true;
  });
}

/** A line's head only: the bytes before the record's key, closed, parsed and checked (a line that does not: nothing). */
function headLine(line: Buffer, onHead: (got: z.infer<typeof HeadSchema>) => void): void {
  const cut = line.indexOf(RECORD_KEY);
  const got = cut < 0 ? null : parseLine(Buffer.concat([line.subarray(0, cut - 1), CLOSE]), HeadSchema);
  if (got) onHead(got);
}

/**
 * Each entry line of the cache after its version line, given to `onLine` with its offset until it says stop. Returns
 * the file, still open, or null (closed) when there is no cache of this version.
 */
async function eachEntry(
  file: string,
  onLine: (line: Buffer, at: number) => boolean,
  onTrailer?: (t: Trailer) => void,
): Promise<number | null> {
  const fh = await unlessMissing(openFd(file, 'r'));
  if (fh === null) return null;
  let first = true;
  let ok = true;
  try {
    await eachLine(fh, (line, at) => {
      if (isTrailer(line)) {
        const t = trailerOf(line);
        if (t) onTrailer?.(t);
        return false; // the last line
      }
      if (isIdsLine(line) || isFiguresLine(line)) return true; // read from the end only (cache-tail.ts)
      if (!first) return onLine(line, at);
      first = false;
      const v = versionOf(line);
      // Version 5's lines are 7's, in no order and with no trailer; 6's have no ids line: read as they are, written as 7.
      ok = v === CACHE_VERSION || v === 6 || v === 5;
      return ok;
    });
  } catch (err) {
    await closeFd(fh);
    throw err;
  }
  if (first || !ok) {
    await closeFd(fh);
    return null;
  }
  return fh;
}

/** Each whole line of the file with its first byte's offset, until `fn` says stop. A last line with no newline (a torn write) is not given. */
async function eachLine(fd: number, fn: (line: Buffer, at: number) => boolean): Promise<void> {
  let carry: Buffer = Buffer.alloc(0);
  let carryAt = 0;
  let pos = 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const { bytesRead } = await readFd(fd, buf, 0, CHUNK, pos);
    if (bytesRead === 0) return;
    pos += bytesRead;
    const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let from = 0;
    for (let nl = data.indexOf(NEWLINE, from); nl >= 0; nl = data.indexOf(NEWLINE, from)) {
      if (!fn(data.subarray(from, nl), carryAt + from)) return;
      from = nl + 1;
    }
    carryAt += from;
    carry = Buffer.from(data.subarray(from)); // copied: `buf` is read into again
  }
}

function versionOf(line: Buffer): number | null {
  const v = (parseJson(line) as { version?: unknown } | null)?.version;
  return typeof v === 'number' ? v : null;
}

function parseJson(line: Buffer): unknown {
  try {
    return JSON.parse(line.toString('utf8'));
  } catch {
    return null;
  }
}

function isSettled(raw: unknown): boolean {
  const status = (raw as { record?: { status?: unknown } } | null)?.record?.status;
  return typeof status === 'string' && (SETTLED_STATUSES as readonly string[]).includes(status);
}

function parseLine<S extends z.ZodType>(line: Buffer, schema: S): z.infer<S> | null {
  const parsed = schema.safeParse(parseJson(line));
  return parsed.success ? parsed.data : null;
}
