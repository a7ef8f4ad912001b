/**
 * The file the NATS kept order lives in (jetstream-kept-order.ts), one a bucket in the reader's cache folder: a header
 * line (the bucket's creation time and stream sequence the order is as of, the corrupt runs, the runs in flight), the
 * settled runs' figures, then a row a run, oldest first. Written beside and renamed into place; read lazily.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { compareRuns } from '../store/index.js';
import type { CorruptRun } from '../store/index.js';
import { keptFiguresOf, type KeptVersion } from './cache-figures.js';

const VERSION = 3;

/** A run's place in start order, its workflow, and whether it was settled (so in the figures) when kept. */
export interface Row {
  startedAt: string;
  runId: string;
  workflowId: string;
  settled: boolean;
}

export interface Kept {
  /** The bucket's stream's creation time: another bucket (reindex) is another order. */
  created: string;
  /** The bucket's stream sequence the order is as of. */
  seq: number;
  /** How many runs the order holds. */
  count: number;
  /** The rows, read when first asked (null: the file was kept anew since, or does not read as an order). */
  rows(): KeptRows | null;
  corrupt: CorruptRun[];
  /** The runs not settled when kept (as many as the work in flight), with their workflow. */
  flight: [string, string][];
  figures: Record<string, Record<string, KeptVersion>>;
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
export class KeptRows {
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
export function fileOf(dir: string, stream: string, created: string): string {
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

/** The header line as written by this version, or null (then the whole look keeps the order anew). */
function headerOf(line: string): Header | null {
  let h: Header | null;
  try {
    h = JSON.parse(line) as Header | null;
  } catch {
    return null;
  }
  return h?.v === VERSION &&
    typeof h.created === 'string' &&
    Number.isSafeInteger(h.seq) &&
    Number.isSafeInteger(h.count) &&
    Array.isArray(h.corrupt) &&
    Array.isArray(h.flight)
    ? h
    : null;
}

/**
 * The first `n` lines of `file` (without their newlines), read a chunk at a time from its start, or null (no file, or
 * fewer whole lines within HEADER_MAX). The header lists the runs in flight (about 60 bytes each), so it can be longer
 * than a chunk: with thousands of runs in flight, taking that as stale wrote the whole order again at every filtered
 * `list`.
 */
function leadingLines(file: string, n: number): string[] | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    let buf = Buffer.alloc(HEADER_CHUNK);
    let have = 0;
    for (;;) {
      const got = readSync(fd, buf, have, buf.length - have, have);
      have += got;
      const lines: string[] = [];
      for (let at = 0; lines.length < n; ) {
        const nl = buf.subarray(0, have).indexOf(10, at);
        if (nl < 0) break;
        lines.push(buf.subarray(at, nl).toString('utf8'));
        at = nl + 1;
      }
      if (lines.length === n) return lines;
      if (got === 0 || have >= HEADER_MAX) return null; // no whole lines: written anew, as if stale
      if (have === buf.length) {
        const more = Buffer.alloc(buf.length * 2);
        buf.copy(more, 0, 0, have);
        buf = more;
      }
    }
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
/** leadingLines reads this much at first, twice as much each time after, and gives up past HEADER_MAX. */
const HEADER_CHUNK = 64 * 1024;
/** About 250,000 runs in flight: past that the order is written anew each time, which is then the lesser cost. */
const HEADER_MAX = 16 * 1024 * 1024;

/** Where the order kept in `file` stands (its header alone), or null. */
export function keptPoint(file: string): { created: string; seq: number } | null {
  const lines = leadingLines(file, 1);
  const h = lines && headerOf(lines[0]!);
  return h && { created: h.created, seq: h.seq };
}

/**
 * The kept order, or null when there is none or it does not read as one (then the whole look keeps it anew). Only
 * its header and figures are read here (what `stats` needs when nothing changed since): the rows, 5 MB at 100,000 runs,
 * when `rows()` is first asked, from the file as it is then; null when it has been kept anew since (its header is
 * not the one read here) or does not read as one.
 */
export function readKept(file: string): Kept | null {
  const head = leadingLines(file, 2);
  if (!head) return null;
  const h = headerOf(head[0]!);
  if (!h) return null;
  const figures = keptFiguresOf(Buffer.from(head[1]!));
  if (!figures) return null;
  let rows: KeptRows | null | undefined;
  const readRows = (): KeptRows | null => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return null;
    }
    const nl = text.indexOf('\n');
    const nl2 = nl < 0 ? -1 : text.indexOf('\n', nl + 1);
    if (nl2 < 0 || text.slice(0, nl) !== head[0]) return null;
    return new KeptRows(text, nl2 + 1, h.count);
  };
  return {
    created: h.created,
    seq: h.seq,
    count: h.count,
    rows: () => (rows === undefined ? (rows = readRows()) : rows),
    corrupt: h.corrupt,
    flight: h.flight,
    figures,
  };
}

/** What a keep writes: the rows oldest first. */
type Keeping = Omit<Kept, 'rows' | 'flight' | 'count'> & { rows: Row[] };

/** Written beside and renamed into place: a reader never sees half an order. A folder that cannot take it keeps none. */
export function writeKept(file: string, k: Keeping): void {
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
