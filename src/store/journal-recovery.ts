/**
 * Putting back what the run logs lack after a crash. The writer syncs a batch's lines to the journal (journal.ts) and
 * then adds each to its run's log without syncing it; a process killed in between leaves a log without lines the
 * journal holds (or with one cut short), and a machine that lost power may lose any unsynced line of a log. Either way
 * the journal is what was made durable, and wins: each of its lines is put where it says, after keeping in
 * `<runId>.jsonl.torn` whatever other bytes were there.
 *
 * Run by the writer lock's holder, before it writes, when the lock's last holder died or the journal was written in
 * another boot.
 */
import { constants } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCommitLine, readAt } from './jsonl.js';
import { BOOT, parseSegment, sameBoot, zerosFrom, type Journal, type JournalRecord } from './journal.js';
import { leftByDead } from './lock.js';

export interface RecoveryHost {
  runsDir: string;
  forgetAll(): void;
  fileOf(runId: string): string;
  /** Keeps bytes [from, to) of the run's log in its .torn file before they are overwritten. */
  keepTorn(runId: string, path: string, from: number, to: number): Promise<void>;
  warn(message: string): void;
}

/** Whether what the journal holds must be put back before anything is read: it was written in another boot, or the writer lock was left by a process that died on this host. */
export async function leftToRecover(journal: Journal, lockPath: string): Promise<boolean> {
  const boot = await journal.newestBoot();
  return (boot !== null && !sameBoot(boot, BOOT)) || leftByDead(lockPath);
}

/** Recovery by the writer that just took the lock (its last holder died, or another boot wrote the journal). */
export async function recoverLeftJournal(journal: Journal, host: RecoveryHost, otherBoot: boolean): Promise<void> {
  if ((await recoverJournal(journal, host)) > 0) host.forgetAll();
  journal.forget();
  await journal.attach();
  if (otherBoot) {
    // Written before a reboot: start a segment of this boot, and sync the logs the old ones name before dropping them.
    await journal.rotate();
    await journal.checkpoint(host.runsDir, host.fileOf);
  }
}

/** Puts back every line the journal holds that its run log lacks; returns how many were put back. */
async function recoverJournal(journal: Journal, host: RecoveryHost): Promise<number> {
  let putBack = 0;
  const names = await journal.segments();
  for (const [i, name] of names.entries()) {
    const path = join(journal.dir, name);
    const buf = await readFile(path).catch((err: unknown) =>
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : Promise.reject(err),
    );
    if (!buf) continue; // checkpointed meanwhile: its lines are on disk
    const { records, end } = parseSegment(buf);
    const voided = new Set(records.filter((r) => r.kind === 'V').map((r) => `${r.runId}@${r.offset}`));
    let validEnd = end;
    for (const r of records) {
      if (r.kind !== 'C' || voided.has(`${r.runId}@${r.offset}`)) continue;
      if (!isCommitLine(r, host.fileOf(r.runId))) {
        // Garbage where a record should be (a power cut mid-write): the segment ends here; nothing after it was acknowledged.
        validEnd = recordStart(buf, r);
        break;
      }
      if (await putLine(r, host)) putBack++;
    }
    // Zeros after the records are space written ahead of them, not damage.
    if (validEnd < buf.length && !zerosFrom(buf, validEnd)) {
      if (i === names.length - 1) {
        await cut(path, validEnd);
        journal.forget();
      } else {
        host.warn(`journal segment ${path} is unreadable from byte ${validEnd}; the lines before it were checked`);
      }
    }
  }
  if (putBack > 0)
    host.warn(
      `the file store's journal put back ${putBack} commit line${putBack === 1 ? '' : 's'} its run logs lacked after a crash`,
    );
  return putBack;
}

function isCommitLine(r: JournalRecord, file: string): boolean {
  if (r.bytes.length === 0 || r.bytes[r.bytes.length - 1] !== 0x0a) return false;
  try {
    parseCommitLine(r.bytes.subarray(0, -1).toString('utf8'), file, { byte: r.offset }, r.runId, null);
    return true;
  } catch {
    return false;
  }
}

/** Where a parsed record's head starts in its segment (its bytes are a view into `buf`). */
function recordStart(buf: Buffer, r: JournalRecord): number {
  const bytesAt = r.bytes.byteOffset - buf.byteOffset;
  return buf.lastIndexOf(0x0a, bytesAt - 2) + 1;
}

async function cut(path: string, size: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(size);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Makes the run's log hold the record's line at its offset; true when it had to be written. */
async function putLine(r: JournalRecord, host: RecoveryHost): Promise<boolean> {
  const path = host.fileOf(r.runId);
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (r.offset !== 0) {
      host.warn(`the file store's journal holds line at byte ${r.offset} of ${path}, which is gone; not put back`);
      return false;
    }
    fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o666); // the run's first line never reached its log
  }
  try {
    const { size } = await fh.stat();
    if (size < r.offset) {
      host.warn(
        `the file store's journal holds a line at byte ${r.offset} of ${path}, which ends at byte ${size}; not put back`,
      );
      return false;
    }
    const there = await readAt(fh, r.offset, Math.min(r.bytes.length, size - r.offset));
    if (there.length === r.bytes.length && there.equals(r.bytes)) return false;
    // Other bytes than a start of this very line (cut short by the crash) are kept before they are overwritten.
    const tornOfOurs = size === r.offset + there.length && r.bytes.subarray(0, there.length).equals(there);
    if (size > r.offset && !tornOfOurs) await host.keepTorn(r.runId, path, r.offset, size);
    await fh.truncate(r.offset);
    for (let off = 0; off < r.bytes.length; )
      off += (await fh.write(r.bytes, off, r.bytes.length - off, r.offset + off)).bytesWritten;
    return true;
  } finally {
    await fh.close();
  }
}
