/**
 * The file store's writer: group commit. Appends from any number of runs queue here; the writer takes the store's
 * writer lock (`<store>/journal/writer.lock`, lock.ts rules) and commits what has queued as one batch: each append is
 * checked against its run's log (dedup id, expected sequence), the accepted lines of every run go to the journal in one
 * write and one fdatasync (journal.ts), then each line is added to its run's log, and only then do the appends resolve.
 * Appends that arrive while a batch is being synced make up the next one, so under load one fdatasync serves many runs;
 * alone, an append costs one.
 *
 * Pipelined: the next batch is written to the journal and its sync started while the previous batch's sync is still
 * under way (at most MAX_IN_FLIGHT batches), so the disk waits while the engine computes instead of after it. Batches
 * finish in the order they were written: none is applied nor acknowledged before every earlier one, and a run has
 * appends in at most one batch in flight (its later appends wait for that one), so no batch in flight depends on
 * another. A sync that fails cuts the journal back to where its batch began, and that batch and every later one in
 * flight fail. When to start the next batch: see canStart().
 *
 * One writer per store at a time, other processes taking the lock in turn (writer-lock.ts, which this extends): held
 * at most MAX_HOLD_MS of continuous use, then let go for YIELD_MS, so another process's append waits at most that long.
 *
 * Outcomes: a conflict or duplicate affects only its own append; a journal write or sync that fails rejects the whole
 * batch and leaves nothing of it (no run log was touched yet); a run log that refuses its line rejects that run's
 * appends in the batch, voids their journal records and takes the line back out of the log.
 *
 * The writes themselves (journal and run logs) are synchronous calls: they only reach the page cache, a few
 * microseconds each, where a trip through libuv's thread pool costs several times that in CPU; the fdatasync, which
 * waits for the disk, goes through the pool.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppendRequest, AppendResult } from './port.js';
import type { CheckedAppend } from './common.js';
import { storeIoError } from './io-errors.js';
import { SEGMENT_BYTES } from './journal.js';
import { OpenLogs } from './open-logs.js';
import { applyRun, planBatch, recordsOf, rejectPlans, type Pending } from './run-plans.js';
import { errorMessage } from '../errors/index.js';
import { WriterLock } from './writer-lock.js';

export type { RunCache } from './run-plans.js';

const MAX_BATCH = 512;
const MAX_HOLD_MS = 200;
const YIELD_MS = 5;

/** Batches written to the journal whose sync (or the applying of their lines) is not finished yet, at most (default). */
const MAX_IN_FLIGHT = 2;

/** A batch in the journal, not yet settled. */
interface Flight {
  /** Where its records start in the journal. */
  at: number;
  runs: string[];
  /** The sync's error (its records then cut again), null once durable. */
  settled: Promise<unknown>;
  /** Every append of it settled. */
  done: Promise<void>;
}

export class GroupWriter extends WriterLock {
  private queue: Pending[] = [];
  private readonly logs = new OpenLogs();
  /** Batches in the journal not yet settled, oldest first; `tail` settles after all of them. */
  private readonly flights: Flight[] = [];
  private tail: Promise<void> = Promise.resolve();
  /** Runs with appends in a batch in flight: their next appends wait for it. */
  private readonly busy = new Set<string>();
  /** Where a failed sync cut the journal back to (every batch from there on fails), and why; cleared when nothing is in flight. */
  private cutAt: number | null = null;
  private cutError: unknown = null;
  private cutting: Promise<void> = Promise.resolve();
  /** Voids being written: no batch starts meanwhile. */
  private voiding = 0;
  /** Runs whose appends were just acknowledged and that have not appended again in this turn of the event loop (canStart). */
  private readonly awaited = new Set<string>();
  private wakeUp: (() => void) | null = null;
  private turn: NodeJS.Immediate | null = null;
  /** The active segment is full: a new one starts once the batches in flight are done. */
  private rotateDue = false;

  /** Resolves once the append is durable in the journal and in its run's log. */
  append(req: AppendRequest, checked: CheckedAppend): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req, checked, resolve, reject });
      this.awaited.delete(req.runId);
      this.wake();
      if (this.linger) clearTimeout(this.linger);
      this.linger = null;
      this.draining ??= this.drain();
    });
  }

  /** Waits for queued appends, then lets the lock go. */
  async close(): Promise<void> {
    while (this.draining) await this.draining;
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    await this.release();
    await this.checkpointing;
    await this.journal.close();
    this.logs.closeAll();
  }

  /**
   * Runs `fn` holding the writer lock with no batch in flight nor started meanwhile (appends queue), after the journal
   * was emptied (rotated, the old segments' logs synced and the segments dropped): every line of the journal is then in
   * its log, so a log `fn` removes is not put back by a recovery. The archive moves runs so.
   */
  async quiesced<T>(fn: () => Promise<T>): Promise<T> {
    while (this.draining) await this.draining;
    let done!: () => void;
    // Set before anything is awaited: append() starts no drain while one is set.
    this.draining = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      await this.hold();
      await this.checkpointing;
      await this.journal.rotate();
      await this.journal.checkpoint(this.host.runsDir, this.host.fileOf);
      this.session++;
      return await fn();
    } finally {
      this.draining = null;
      done();
      if (this.queue.length > 0) this.draining = this.drain();
      else this.releaseWhenIdle();
    }
  }

  private async drain(): Promise<void> {
    this.session++;
    try {
      for (;;) {
        if (this.queue.length === 0 && this.flights.length === 0) break;
        if (this.stalled() || this.rotateDue) {
          // A failed sync being cut back, voids being written, or a full segment: the batches in flight finish first.
          await this.tail;
          if (this.rotateDue) {
            this.rotateDue = false;
            await this.afterBatch();
          }
          continue;
        }
        if (this.queue.length > 0 && this.held && Date.now() - this.heldSince >= MAX_HOLD_MS) {
          await this.tail;
          await this.release();
          await sleep(YIELD_MS); // another process polling for the lock gets its turn
          continue;
        }
        if (this.canStart()) {
          try {
            await this.hold(); // never synchronous: appends made in the same tick as the first join its batch
          } catch (err) {
            for (const p of this.take()) p.reject(err);
            continue;
          }
          await this.start(this.take());
          continue;
        }
        await this.nextWake();
      }
    } finally {
      // Synchronous with the loop's last look at the queue: an append queued later starts a new drain.
      this.draining = null;
      if (this.queue.length > 0) this.draining = this.drain();
      else this.releaseWhenIdle();
    }
  }

  /**
   * Whether to start a batch with the appends queued now. The runs whose appends the last batch acknowledged usually
   * append again within the same turn of the event loop (their next step is pure computation): with no batch in flight,
   * one starts once half of those are here, so that its sync runs while the other half computes; with one in flight,
   * once all of them are (or the turn ended: see nextWake). Two halves that take turns keep the disk and the CPU busy
   * at once; one run alone starts at once.
   */
  private canStart(): boolean {
    if (this.flights.length >= (this.host.maxInFlight ?? MAX_IN_FLIGHT)) return false;
    let ready = 0;
    for (const p of this.queue) if (!this.busy.has(p.req.runId)) ready++;
    if (ready === 0) return false;
    return this.flights.length === 0 ? ready >= this.awaited.size : this.awaited.size === 0;
  }

  private stalled(): boolean {
    return this.cutAt !== null || this.voiding > 0;
  }

  /**
   * Until an append arrives, a batch finishes, or (when appends wait only for awaited runs) this turn ends:
   * armed otherwise, a turn's end changes nothing and comes back at once, spinning the loop through the sync.
   */
  private nextWake(): Promise<void> {
    if (
      this.queue.length > 0 &&
      this.awaited.size > 0 &&
      this.flights.length < (this.host.maxInFlight ?? MAX_IN_FLIGHT) &&
      this.queue.some((p) => !this.busy.has(p.req.runId))
    ) {
      this.turn ??= setImmediate(() => {
        this.turn = null;
        this.awaited.clear(); // whoever has not appended by now is not coming at once
        this.wake();
      });
    }
    return new Promise((resolve) => {
      this.wakeUp = resolve;
    });
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** The queued appends of runs not in a batch in flight (up to MAX_BATCH), in their order; the others stay queued. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.queue) (batch.length < MAX_BATCH && !this.busy.has(p.req.runId) ? batch : rest).push(p);
    this.queue = rest;
    return batch;
  }

  /** Writes a batch to the journal and starts its sync; it settles in order after the batches before it. Never throws. */
  private async start(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    const plans = await planBatch(batch, this.host, this.session, this.holds);
    if (plans.length === 0) return;
    if (this.stalled()) {
      // A sync failed (or voids are due) while this batch was checked: it waits, in its order, for the next.
      this.queue.unshift(...plans.flatMap((pl) => pl.slots.flatMap((s) => [s.p, ...s.dups])));
      return;
    }
    const dir = this.host.journalDir;
    let at: number;
    try {
      at = this.journal.put(recordsOf(plans));
    } catch (err) {
      rejectPlans(
        plans,
        storeIoError(`cannot append to the journal in ${dir}`, err, { dir }, '; nothing was recorded'),
      );
      return;
    }
    if (this.journal.active.size >= SEGMENT_BYTES) this.rotateDue = true;
    const runs = plans.map((pl) => pl.runId);
    for (const r of runs) this.busy.add(r);
    const settled = this.journal.sync().then(
      () => null,
      async (err: unknown) => {
        // Not acknowledged, so not to be recovered either: cut back to where this batch began (and everything after it).
        if (this.cutAt === null || at < this.cutAt) {
          this.cutAt = at;
          this.cutError = err;
          await (this.cutting = this.cutting.then(() => this.journal.cut(at)));
        }
        return err;
      },
    );
    const prev = this.tail;
    const flight: Flight = { at, runs, settled, done: Promise.resolve() };
    flight.done = (async () => {
      const err = await settled;
      await prev;
      try {
        if (err !== null || (this.cutAt !== null && at >= this.cutAt)) {
          rejectPlans(
            plans,
            storeIoError(
              `cannot append to the journal in ${dir}`,
              err ?? this.cutError,
              { dir },
              '; nothing was recorded',
            ),
          );
          return;
        }
        const voids: Buffer[] = [];
        for (const r of runs) this.awaited.add(r); // before they are acknowledged: their next appends may come in the same tick
        await Promise.all(plans.map((pl) => applyRun(pl, this.host, this.logs, this.holds, voids)));
        if (voids.length > 0) await this.writeVoids(voids, at);
      } finally {
        for (const r of runs) this.busy.delete(r);
        this.flights.shift(); // the oldest: flights finish in order
        if (this.flights.length === 0) this.cutAt = null;
        this.wake();
      }
    })().catch((err: unknown) =>
      this.host.warn(`the file store's writer failed while settling a batch: ${errorMessage(err)}`),
    );
    this.flights.push(flight);
    this.tail = flight.done;
  }

  /** Voids the records of lines a log refused, once no later batch can still be cut back over them. */
  private async writeVoids(voids: Buffer[], at: number): Promise<void> {
    this.voiding++;
    try {
      await Promise.all(this.flights.filter((f) => f.at > at).map((f) => f.settled));
      // Without these a later recovery would put the refused lines back; failing that, the journal stops (journal.failed).
      await this.journal.append(voids).catch((err: unknown) => {
        this.journal.failed ??= new Error(
          `cannot void refused lines in the journal ${this.host.journalDir}: ${errorMessage(err)}; reopen the store`,
        );
      });
    } finally {
      this.voiding--;
    }
  }
}
