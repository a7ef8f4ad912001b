/**
 * Reading the file store's run logs: `<runId>.jsonl`, one commit per line. A line counts only once its terminating
 * newline is there: anything after the last newline is a write in progress (another process) or a torn write (a killed
 * process) and is never parsed. Every complete line is validated (CommitSchema, run id, seqs continuing the previous
 * line); a bad one is a StoreError naming file and line, never skipped, because skipping would silently rewrite a run's
 * history.
 */
import { close as closeFd, constants, open as openFd, read as readFd } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Commit, EventEnvelope } from '../events/index.js';
import { parseStoredCommit } from './common.js';
import { newCursor, type Cursor } from './cursor.js';
import { CorruptRunError } from '../errors/index.js';

const NL = 0x0a;

/**
 * Run logs are opened without following a symbolic link: `runs/<id>.jsonl` planted as a link to a file outside
 * the store (a users file, a key) would otherwise be read, and its first bytes quoted in the corrupt-log error that
 * `status`, `list` and the dashboard show. The writer refuses links the same way (open-logs.ts).
 */
const READ_NO_LINK = constants.O_RDONLY | constants.O_NOFOLLOW;

/** A link where a run log should be: corrupt, said without reading a byte of what it points to. */
function linkRefused(err: unknown, path: string, runId: string): unknown {
  if ((err as NodeJS.ErrnoException | null)?.code !== 'ELOOP') return err;
  const reason =
    'a symbolic link, not a run log: left unread (the store reads and writes no link; put the run file itself there, or remove the link)';
  return new CorruptRunError(`${path}: corrupt run log: ${reason}`, runId, path, reason, { file: path });
}

async function openLog(path: string, runId: string): Promise<FileHandle> {
  return open(path, READ_NO_LINK).catch((err: unknown) => {
    throw linkRefused(err, path, runId);
  });
}

export { newCursor, type Cursor } from './cursor.js';

/**
 * Parses and checks one line. `where` locates it for messages: a 1-based line number, or a byte offset when the line
 * was found without counting. `prevSeq` is the seq the previous line ended at; null when unknown (then only the line's
 * own events must be consecutive).
 */
export function parseCommitLine(
  text: string,
  file: string,
  where: { line: number } | { byte: number },
  runId: string,
  prevSeq: number | null,
): Commit {
  const at = 'line' in where ? `${file}:${where.line}` : `${file} (line at byte ${where.byte})`;
  const fail = (why: string, cause?: unknown): never => {
    throw new CorruptRunError(
      `${at}: corrupt run log: ${why}`,
      runId,
      file,
      'line' in where ? `line ${where.line}: ${why}` : `line at byte ${where.byte}: ${why}`,
      { file, ...where },
      cause === undefined ? undefined : { cause },
    );
  };
  return parseStoredCommit(text, runId, prevSeq, 'in the log', fail);
}

/**
 * Consumes the complete lines in `buf` (the file's bytes from cursor.offset) and advances the cursor. Returns the
 * commits in order and whether bytes after the last newline remain (an unfinished or torn line).
 */
function consume(buf: Buffer, cursor: Cursor, file: string, runId: string): { commits: Commit[]; partial: boolean } {
  const end = buf.lastIndexOf(NL);
  const commits: Commit[] = [];
  if (end < 0) return { commits, partial: buf.length > 0 };
  // Split bytes, not decoded text: offsets must stay byte offsets.
  const lines = buf.subarray(0, end).toString('utf8').split('\n');
  for (const text of lines) {
    cursor.line += 1;
    if (text.trim() === '') continue; // a blank line (e.g. an editor's) holds no data
    const commit = parseCommitLine(text, file, { line: cursor.line }, runId, cursor.lastSeq);
    cursor.lastSeq += commit.events.length;
    commits.push(commit);
  }
  cursor.offset += end + 1;
  return { commits, partial: end + 1 < buf.length };
}

/** The commits of whole log bytes kept elsewhere (the archive's copy of a run's file), checked as a log's. */
export function commitsOf(buf: Buffer, file: string, runId: string): Commit[] {
  return consume(buf, newCursor(), file, runId).commits;
}

export async function readAt(fh: FileHandle, pos: number, len: number): Promise<Buffer> {
  const buf = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
    if (bytesRead === 0) break; // the file shrank under us; use what we have
    got += bytesRead;
  }
  return got === len ? buf : buf.subarray(0, got);
}

/**
 * Reads what was appended after the cursor. `size` is the file size from a
 * stat made by the caller (bytes after it are left for the next call).
 */
export async function readNew(
  path: string,
  cursor: Cursor,
  size: number,
  runId: string,
): Promise<{ commits: Commit[]; partial: boolean }> {
  if (size <= cursor.offset) return { commits: [], partial: false };
  const fh = await openLog(path, runId);
  try {
    const buf = await readAt(fh, cursor.offset, size - cursor.offset);
    return consume(buf, cursor, path, runId);
  } finally {
    await fh.close();
  }
}

const openP = promisify(openFd);
const readP = promisify(readFd);
const closeP = promisify(closeFd);

/**
 * The commits in the first `size` bytes of a run file (a size the caller stat'ed; a partial last line is left out, as
 * readNew leaves it), `cursor` (a new one by default) advanced past them. Through a plain file descriptor, not a
 * FileHandle: the run index reads every run file of a store this way, and a FileHandle's open/read/close costs about
 * twice as much per file (its object, its close through a promise).
 */
export async function readPrefix(
  path: string,
  size: number,
  ino: number,
  runId: string,
  cursor: Cursor = newCursor(ino),
): Promise<Commit[]> {
  if (size <= 0) return [];
  const fd = await openP(path, READ_NO_LINK).catch((err: unknown) => {
    throw linkRefused(err, path, runId);
  });
  let buf = Buffer.alloc(size);
  try {
    let got = 0;
    while (got < size) {
      const { bytesRead } = await readP(fd, buf, got, size - got, got);
      if (bytesRead === 0) break; // the file shrank under us; use what we have
      got += bytesRead;
    }
    if (got < size) buf = buf.subarray(0, got);
  } finally {
    await closeP(fd);
  }
  return consume(buf, cursor, path, runId).commits;
}

const TAIL_BYTES = 64 * 1024;

/**
 * The first and last events of a run without parsing the whole file: the first line from the head, the last complete
 * line from the tail 64 KiB. Falls back to a full read when a line is longer than the window. Returns null when the
 * file holds no complete line yet.
 */
export async function readEnds(
  path: string,
  runId: string,
): Promise<{ first: EventEnvelope; last: EventEnvelope } | null> {
  const fh = await openLog(path, runId);
  try {
    const { size } = await fh.stat();
    // A small log is read whole, once; still only its first and last lines are parsed, as of a large one (parsing
    // every commit of each run was most of what listing a store of short runs cost).
    const whole = size <= TAIL_BYTES ? await readAt(fh, 0, size) : null;
    const everything = async () =>
      endsOf(consume(whole ?? (await readAt(fh, 0, size)), newCursor(), path, runId).commits);
    const head = whole ?? (await readAt(fh, 0, TAIL_BYTES));
    const tailStart = whole ? 0 : size - TAIL_BYTES;
    const tail = whole ?? (await readAt(fh, tailStart, TAIL_BYTES));
    const firstEnd = head.indexOf(NL);
    const lastEnd = tail.lastIndexOf(NL);
    // (a negative offset would count from the end); in a log read whole, a last line with no newline before it is its first.
    const lastStart = lastEnd <= 0 ? -2 : tail.lastIndexOf(NL, lastEnd - 1);
    if (
      firstEnd < 0 ||
      lastStart === -2 ||
      (lastStart < 0 && !whole) ||
      head.subarray(0, firstEnd).toString().trim() === ''
    )
      return everything();
    const first = parseCommitLine(head.subarray(0, firstEnd).toString('utf8'), path, { line: 1 }, runId, 0).events[0]!;
    const lastText = tail.subarray(lastStart + 1, lastEnd).toString('utf8');
    if (lastText.trim() === '') return everything();
    // The lines in between are not read here, so the last line is checked on
    // its own (read() and append() check every line against the previous one).
    const commit = parseCommitLine(
      lastText,
      path,
      whole ? { line: linesBefore(whole, lastStart + 1) + 1 } : { byte: tailStart + lastStart + 1 },
      runId,
      null,
    );
    return { first, last: commit.events[commit.events.length - 1]! };
  } finally {
    await fh.close();
  }
}

/** How many lines end before byte `end` of `buf`. */
function linesBefore(buf: Buffer, end: number): number {
  let n = 0;
  for (let at = buf.indexOf(NL); at >= 0 && at < end; at = buf.indexOf(NL, at + 1)) n++;
  return n;
}

function endsOf(commits: Commit[]): { first: EventEnvelope; last: EventEnvelope } | null {
  const first = commits[0]?.events[0];
  const lastCommit = commits[commits.length - 1];
  const last = lastCommit?.events[lastCommit.events.length - 1];
  return first && last ? { first, last } : null;
}
