/**
 * One batch of the file store's writer (group-commit.ts), run by run: which queued appends of a run are accepted (dedup
 * id, expected sequence), the journal records of those, and, once the journal holds them durably, adding their lines to
 * the run's log and settling the appends. Apart from the writer, which decides when batches start and in what order
 * they finish.
 */
import { writeSync } from 'node:fs';
import { truncate, unlink } from 'node:fs/promises';
import { AppendConflictError } from '../errors/index.js';
import type { AppendRequest, AppendResult } from './port.js';
import type { CheckedAppend } from './common.js';
import { newCursor, type Cursor } from './jsonl.js';
import { errnoOf, storeIoError } from './io-errors.js';
import { encodeRecord } from './journal.js';
import type { OpenLogs } from './open-logs.js';

/** What the writer knows of a run without re-reading it: where its log ends, its last seq and its dedup ids. */
export interface RunCache extends Cursor {
  dedup: Map<string, { firstSeq: number; lastSeq: number }>;
  /** The writer's session in which this was last brought up to date (see GroupWriter.session), if any. */
  session?: number;
  /** The writer's hold of the lock in which this was last the log's end (see GroupWriter.currentHold), if any. */
  hold?: number;
}

export interface Pending {
  req: AppendRequest;
  checked: CheckedAppend;
  resolve(r: AppendResult): void;
  reject(err: unknown): void;
}

/** An accepted append: its line, where it goes in its run's log, and retries of it in the same batch. */
interface Slot {
  p: Pending;
  offset: number;
  bytes: Buffer;
  dups: Pending[];
}

interface RunPlan {
  runId: string;
  cache: RunCache;
  slots: Slot[];
}

interface ApplyHost {
  /** The run's cache brought up to date with its log; the writer holds the lock. */
  refresh(runId: string): Promise<RunCache>;
  /** The run's cache as it stands, unchecked (trusted within the session it was checked in). */
  cached(runId: string): RunCache | undefined;
  fileOf(runId: string): string;
  forget(runId: string): void;
  added(runId: string, ino: number, from: number, to: number, json: string, hold: number, lastSeq: number): void;
}

/**
 * Checks a batch run by run against the logs (a run's cache is read again
 * once per writer session: see GroupWriter.session); settles the appends
 * that need no write (duplicates, conflicts) and returns the plans of the rest.
 */
export async function planBatch(batch: Pending[], host: ApplyHost, session: number, hold: number): Promise<RunPlan[]> {
  const byRun = new Map<string, Pending[]>();
  for (const p of batch) {
    const list = byRun.get(p.req.runId);
    if (list) list.push(p);
    else byRun.set(p.req.runId, [p]);
  }
  const plans: RunPlan[] = [];
  await Promise.all(
    [...byRun].map(async ([runId, list]) => {
      let cache = host.cached(runId);
      if (cache?.session !== session) {
        try {
          cache = await host.refresh(runId);
        } catch (err) {
          for (const p of list) p.reject(err);
          return;
        }
        cache.session = session;
        cache.hold = hold;
      }
      const plan = planRun(runId, cache, list);
      if (plan.slots.length > 0) plans.push(plan);
    }),
  );
  return plans;
}

/** Checks a run's queued appends in order against its log and each other: duplicates, conflicts, and the lines to write. */
function planRun(runId: string, cache: RunCache, list: Pending[]): RunPlan {
  let offset = cache.offset;
  let lastSeq = cache.lastSeq;
  const slots: Slot[] = [];
  const mine = new Map<string, Slot>();
  for (const p of list) {
    // Checked before expectedSeq: a retry of an append that did land must
    // report success, not a conflict with its own write (as JetStream does).
    const dup = cache.dedup.get(p.req.dedupId);
    if (dup) {
      p.resolve({ ...dup, duplicate: true });
      continue;
    }
    const same = mine.get(p.req.dedupId);
    if (same) {
      same.dups.push(p);
      continue;
    }
    if (lastSeq !== p.req.expectedSeq) {
      p.reject(new AppendConflictError(runId, p.req.expectedSeq, lastSeq));
      continue;
    }
    const slot: Slot = { p, offset, bytes: Buffer.from(p.checked.json + '\n', 'utf8'), dups: [] };
    slots.push(slot);
    mine.set(p.req.dedupId, slot);
    offset += slot.bytes.length;
    lastSeq = p.checked.lastSeq;
  }
  return { runId, cache, slots };
}

/** The journal records of a batch's accepted lines, all runs together. */
export function recordsOf(plans: RunPlan[]): Buffer {
  const parts: Buffer[] = [];
  for (const pl of plans) for (const s of pl.slots) parts.push(...encodeRecord('C', pl.runId, s.offset, s.bytes));
  return Buffer.concat(parts);
}

/** Settles every append of the plans with the same error (their batch was not made durable). */
export function rejectPlans(plans: RunPlan[], err: unknown): void {
  for (const pl of plans) for (const s of pl.slots) for (const p of [s.p, ...s.dups]) p.reject(err);
}

/**
 * Adds a run's accepted lines (durable in the journal) to its log and settles its appends. A log that refuses them: the
 * lines are taken back out, the appends rejected, and `voids` gets the records that void them in the journal.
 */
export async function applyRun(
  pl: RunPlan,
  host: ApplyHost,
  logs: OpenLogs,
  hold: number,
  voids: Buffer[],
): Promise<void> {
  const path = host.fileOf(pl.runId);
  const c = pl.cache;
  const bytes = pl.slots.length === 1 ? pl.slots[0]!.bytes : Buffer.concat(pl.slots.map((s) => s.bytes));
  let ino = c.ino;
  try {
    // An existing log is opened and written with nothing else running between: see open-logs.ts on descriptors.
    const known = c.offset > 0 ? c.ino : null;
    const log = logs.openNow(pl.runId, path, known) ?? (await logs.open(pl.runId, path, known));
    ino = log.ino;
    try {
      // One write of the whole line; a crash mid-way leaves a line without its newline, which recovery completes from the journal.
      for (let off = 0; off < bytes.length; ) off += writeSync(log.fd, bytes, off, bytes.length - off);
    } catch (err) {
      logs.drop(pl.runId);
      throw err;
    }
    logs.release(log);
  } catch (err) {
    host.forget(pl.runId); // outcome unknown: re-read the log next time
    for (const s of pl.slots) voids.push(...encodeRecord('V', pl.runId, s.offset));
    // Taken back out (under the lock): the run's first write leaves no log at all, a later one the lines before it.
    const undone =
      c.offset === 0
        ? await unlink(path).then(
            () => true,
            (e: unknown) => errnoOf(e) === 'ENOENT',
          )
        : await truncate(path, c.offset).then(
            () => true,
            () => false,
          );
    const e = storeIoError(
      `cannot append to ${path}`,
      err,
      { runId: pl.runId, file: path },
      undone && c.offset === 0 ? `; nothing was recorded of run ${pl.runId}` : '',
    );
    for (const s of pl.slots) for (const p of [s.p, ...s.dups]) p.reject(e);
    return;
  }
  if (c.ino !== ino) Object.assign(c, newCursor(ino));
  c.offset += bytes.length;
  c.line += pl.slots.length;
  for (const s of pl.slots) {
    const { firstSeq, lastSeq } = s.p.checked;
    c.lastSeq = lastSeq;
    c.dedup.set(s.p.req.dedupId, { firstSeq, lastSeq });
    host.added(pl.runId, ino, s.offset, s.offset + s.bytes.length, s.p.checked.json, hold, lastSeq);
    s.p.resolve({ firstSeq, lastSeq, duplicate: false });
    for (const d of s.dups) d.resolve({ firstSeq, lastSeq, duplicate: true });
  }
}
