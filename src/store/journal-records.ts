/**
 * The journal's bytes (journal.ts): its records, how they are encoded, and how a reader finds them in a segment, which
 * is a header line, the records, then zeros written ahead of them. Apart from the writer because readers that hold no
 * lock (recovery, the journal as a witness, the store's change mark) read segments with these alone.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const MAGIC = 'ledgerflow journal 1';
/** Zeros written ahead at a time at most (journal.ts): also the piece zero bytes are compared in. */
export const ZEROS_MAX = 1024 * 1024;
/** ZEROS_MAX zero bytes: resident only once a process writes or compares them (the system maps them when first read). */
export const ZEROS = Buffer.alloc(ZEROS_MAX);

export interface JournalRecord {
  kind: 'C' | 'V';
  runId: string;
  /** Where the line starts in the run's log. */
  offset: number;
  /** The commit line, newline included (C); empty (V). */
  bytes: Buffer;
}

export function encodeRecord(
  kind: 'C' | 'V',
  runId: string,
  offset: number,
  bytes: Buffer = Buffer.alloc(0),
): Buffer[] {
  return [Buffer.from(`${kind} ${runId} ${offset} ${bytes.length}\n`), bytes];
}

const RECORD_HEAD = /^([CV]) ([A-Za-z0-9_-]{1,128}) (\d{1,15}) (\d{1,10})$/;

/** A segment's records up to the first that is cut short or unreadable (`end`: where that one starts). */
export function parseSegment(buf: Buffer): { boot: string | null; records: JournalRecord[]; end: number } {
  const first = buf.indexOf(0x0a);
  let boot: string | null = null;
  try {
    const h = JSON.parse(buf.subarray(0, first).toString('utf8')) as { journal?: unknown; boot?: unknown };
    if (first > 0 && h.journal === MAGIC && typeof h.boot === 'string') boot = h.boot;
  } catch {
    // no header (cut short while the segment was made): nothing in it
  }
  if (boot === null) return { boot, records: [], end: 0 };
  return { boot, ...parseRecords(buf, first + 1) };
}

/** The whole records in `buf` from `pos` (a record's start), up to the first cut short or unreadable (`end`). */
export function parseRecords(buf: Buffer, pos: number): { records: JournalRecord[]; end: number } {
  const records: JournalRecord[] = [];
  // A zero byte where a record would start: the space written ahead (see above), nothing more is in it.
  while (pos < buf.length && buf[pos] !== 0) {
    const nl = buf.indexOf(0x0a, pos);
    const m = nl < 0 ? null : RECORD_HEAD.exec(buf.subarray(pos, nl).toString('latin1'));
    if (!m) break;
    const len = Number(m[4]);
    if (nl + 1 + len > buf.length) break;
    records.push({
      kind: m[1] as 'C' | 'V',
      runId: m[2]!,
      offset: Number(m[3]),
      bytes: buf.subarray(nl + 1, nl + 1 + len),
    });
    pos = nl + 1 + len;
  }
  return { records, end: pos };
}

/** Whether `buf` holds nothing but zeros from `from` on: the space a writer wrote ahead of its records (see zeroAhead). */
export function zerosFrom(buf: Buffer, from: number): boolean {
  for (let at = from; at < buf.length; at += ZEROS_MAX) {
    const n = Math.min(ZEROS_MAX, buf.length - at);
    if (!buf.subarray(at, at + n).equals(ZEROS.subarray(0, n))) return false;
  }
  return true;
}

/**
 * Where the records of the segment at `path` end, for a reader that holds no lock (a change mark): its first zero byte,
 * found by halving (records hold none, and only zeros follow them), or its size. Null when it is gone.
 */
export function recordsEndSync(path: string): number | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const one = Buffer.alloc(1);
    let lo = 0;
    let hi = fstatSync(fd).size;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (readSync(fd, one, 0, 1, mid) === 1 && one[0] !== 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  } finally {
    closeSync(fd);
  }
}
