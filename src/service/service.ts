/**
 * `ledgerflow serve`: the embedded store's long-running engine (the NATS engine's counterpart), a class the CLI wraps.
 *
 * - One per store: it holds `<store>/serve.lock` (lock.ts rules: a lock whose holder died on this host is broken at
 *   once). Another Service on the same store stands by, polling the lock, and takes over when the holder is gone.
 * - It drives every unsettled run nobody else drives: each run under its per-run lease (FileEventStore.leaseRun), so a
 *   run `ledgerflow run` is driving stays with it (RunBusyError: looked at again on the next scan) and one whose driver
 *   died is taken over. Runs are driven until they settle (Engine.drive with `untilSettled`): timers fire on time,
 *   however far, and approvals, signals, pause/resume/cancel written by other processes are acted on as they land (the
 *   driver follows the run's log).
 * - Runs started meanwhile (`emit`, `run --max-wait 0`, a scheduler's starts) are found by a watch on the runs
 *   directory plus a periodic rescan.
 * - Every tick (default 1 s) it calls the `onTick` hooks with the time (the scheduler's `fireDue` goes there); runs
 *   they start are found as above.
 * - stop(): graceful. Nothing new is taken or started, the attempts in flight get `graceMs` to finish (recorded), then
 *   the rest is stopped: what did not finish stays in flight in the log, and the next serve or resume records its
 *   task.restarted (reason resumed).
 *
 * A sub-workflow's child run (source.parent.task) is left to its parent's driver while the parent is unsettled: driving
 * it from here too would leave the parent's attempt waiting on a child it no longer hears from.
 *
 * A run waiting on the outside world (a person, a signal, a far timer) with nothing running here is parked: its lease
 * kept, its log followed, no driver held (parked.ts), so that a serve holds 100,000 waiting runs in bounded memory.
 *
 * Its options and notices are options.ts; which runs a scan looks at, candidates.ts; reading lock and lease holders,
 * holders.ts; how one run is driven and parked (the class it extends), run-drives.ts; its state and bookkeeping,
 * service-base.ts.
 */
import { type FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../errors/index.js';
import { tryLock } from '../store/lock.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { candidateRuns, namedRun, parentDrives } from './candidates.js';
import type { CorruptRun } from '../store/index.js';
import { holderText } from './holders.js';
import type { StopReport } from './options.js';
import { RunDrives } from './run-drives.js';

/** Settled runs looked at at once (lookNext). */
const LOOKS = 8;
/**
 * The rescan comes at least this often, however long the last scan took: a run whose watch events were lost waits for
 * it (a scan that read 90,000 runs during a take-up put the next off by minutes).
 */
const RESCAN_AT_MOST_MS = 30_000;

export class Service extends RunDrives {
  /** When the periodic rescan may run next (ms): later the longer the last scan took. */
  private nextRescan = 0;
  /** Runs a watch event named being read now; `true` once another event named the run meanwhile (read it again after). */
  private readonly naming = new Map<string, boolean>();
  /** Its store's runs folder watched (private: the package's types name nothing of node:fs). */
  private watcher: FSWatcher | undefined;
  /**
   * Takes the store (standing by while another service holds it) and starts driving. Resolves once this service is the
   * active one; false when stop() was called while standing by.
   */
  start(): Promise<boolean> {
    this.starting ??= this.begin();
    return this.starting;
  }

  private async begin(): Promise<boolean> {
    if (!(await this.acquire())) return false;
    this.say({
      kind: 'serving',
      message: `serving store ${this.opts.storeDir} (pid ${process.pid})`,
      pid: process.pid,
    });
    try {
      this.watcher = watch(join(this.opts.storeDir, 'runs'), { persistent: false }, (_e, name) => {
        // The runs driven here change all the time: only a change elsewhere is worth a scan.
        const file = name === null ? null : String(name);
        if (file === null) {
          this.scanSoon();
          return;
        }
        const runId = file.endsWith('.jsonl') ? file.slice(0, -6) : file.endsWith('.driver') ? file.slice(0, -7) : null;
        // A parked run's own follow wakes it; another is looked at alone, not by a scan of the whole store.
        if (runId !== null && !this.driving.has(runId) && !this.parked.has(runId)) void this.lookAtNamed(runId);
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // the rescan still finds everything
    }
    // The rescan is the watch's fallback: on a store so large that a scan takes long, it comes less often (a tenth of
    // the time at most goes to scanning: 100,000 runs held, a scan is a readdir of 200,000 names).
    this.rescanTimer = setInterval(() => {
      if (Date.now() >= this.nextRescan) this.scanSoon();
    }, this.opts.rescanMs ?? 1000);
    if (this.ticks.length > 0) this.tickTimer = setInterval(() => void this.tick(), this.opts.tickMs ?? 1000);
    this.scanSoon();
    if (this.ticks.length > 0) void this.tick();
    return true;
  }

  /** Waits for serve.lock: at once when free or its holder is dead, else polling as a standby. */
  private async acquire(): Promise<boolean> {
    await mkdir(join(this.opts.storeDir, 'runs'), { recursive: true });
    let said = false;
    for (;;) {
      if (this.stopping) return false;
      const got = await tryLock(this.lockPath, Number.POSITIVE_INFINITY);
      if ('release' in got) {
        this.release = got.release;
        return true;
      }
      if (!said) {
        said = true;
        this.say({
          kind: 'standby',
          pid: got.holder.pid,
          message: `standing by: ${holderText(got.holder)} serves this store (${this.lockPath}); taking over when it stops`,
        });
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.opts.standbyPollMs ?? 250);
        this.wakeStandby = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wakeStandby = null;
    }
  }

  private scanSoon(): void {
    if (this.stopping) return;
    if (this.scanning) {
      this.scanAgain = true;
      return;
    }
    this.scanning = true;
    void (async () => {
      try {
        do {
          this.scanAgain = false;
          const began = Date.now();
          await this.scan();
          this.nextRescan = Date.now() + Math.min(9 * (Date.now() - began), RESCAN_AT_MOST_MS);
        } while (this.scanAgain && !this.stopping);
      } catch (err) {
        this.say({ kind: 'run.error', message: `cannot scan the store: ${errorMessage(err)}` });
      } finally {
        this.scanning = false;
      }
    })();
  }

  /**
   * A run a change in the runs folder named, not held here: an active one is queued to be taken up (at once when a
   * take-up slot is free). A settled one is left to the next scan (the notifications it may owe), a child run or a
   * store other than the file store to a scan now.
   */
  private async lookAtNamed(runId: string): Promise<void> {
    if (this.stopping || this.settled.has(runId) || this.corrupt.has(runId)) return;
    // A read of it under way may have come too early (a new log before its first line): it reads again once done.
    if (this.naming.has(runId)) {
      this.naming.set(runId, true);
      return;
    }
    if (this.toTakeIds.has(runId) && this.toTakeAt < this.toTake.length) return; // already queued
    this.naming.set(runId, false);
    try {
      const run = await namedRun(this.opts.engine, runId);
      if (run === null || this.driving.has(runId) || this.parked.has(runId)) return;
      if (run === undefined || run.parent?.task !== undefined) return this.scanSoon();
      if (SETTLED_STATUSES.includes(run.status)) return;
      if (!this.toTakeIds.has(runId) || this.toTakeAt >= this.toTake.length) {
        this.toTake.push({ runId });
        this.toTakeIds.add(runId);
      }
      this.fill();
    } catch (err) {
      this.say({ kind: 'run.error', runId, message: `cannot read run ${runId}: ${errorMessage(err)}` });
      this.scanSoon();
    } finally {
      const again = this.naming.get(runId);
      this.naming.delete(runId);
      // An event dropped here was the run's only word until the next rescan (seconds apart on a large store).
      if (again && !this.driving.has(runId) && !this.parked.has(runId)) void this.lookAtNamed(runId);
    }
  }

  /** Every unsettled run nobody drives is taken up; a settled one that may owe something is queued to be looked at. */
  private async scan(): Promise<void> {
    // A run driven or parked here is not read: its log is followed (one that settles leaves both and is read next scan).
    // Nor is one still queued to be taken up: a scan during the take-up of 100,000 runs read every one not yet taken
    // again (taking it up reads it anyway).
    const queued = new Set(this.toTake.slice(this.toTakeAt).map((r) => r.runId));
    const here = { has: (runId: string) => this.driving.has(runId) || this.parked.has(runId) };
    const onCorrupt = (c: CorruptRun) => {
      if (this.corrupt.has(c.runId)) return;
      this.corrupt.add(c.runId);
      this.say({
        kind: 'run.error',
        runId: c.runId,
        message: `run ${c.runId} is corrupt and left alone: ${c.file}: ${c.reason}`,
      });
    };
    const { active, newlySettled, queuedListed } = await candidateRuns(
      this.opts.engine,
      this.settled,
      here,
      onCorrupt,
      queued,
    );
    const now = this.clock.now();
    for (const run of newlySettled) {
      if (this.stopping) return;
      if (this.driving.has(run.runId) || this.corrupt.has(run.runId)) continue;
      // A FAILED run whose process died before it started its failure workflow: driveOne starts that (looked at once).
      // A run settled lately may owe notifications (its process died before delivering them): looked at once too.
      const failed = run.status === 'FAILED' && !this.failedSeen.has(run.runId);
      const notify =
        this.opts.notifier !== undefined &&
        !this.settledSeen.has(run.runId) &&
        run.completedAt !== null &&
        now - Date.parse(run.completedAt) <= (this.opts.notifyLookbackMs ?? 24 * 3600_000);
      this.settledSeen.add(run.runId);
      if (!failed && !notify) continue;
      this.failedSeen.add(run.runId);
      this.looks.push(run.runId);
    }
    this.lookNext();
    // Only what taking up needs is kept of each (100,000 runs to take up: not 100,000 summaries). What is still queued
    // (fill went on during the scan) keeps its place, ahead of what the scan found.
    // A run queued before the scan and gone from the store since (archived) is dropped; one queued during it is kept.
    const rest = this.toTake
      .slice(this.toTakeAt)
      .filter((r) => queuedListed === null || !queued.has(r.runId) || queuedListed.has(r.runId));
    const restIds = new Set(rest.map((r) => r.runId));
    const found = active.filter((r) => !restIds.has(r.runId));
    this.toTake = [...rest, ...found.map(({ runId, parent }) => (parent ? { runId, parent } : { runId }))];
    this.toTakeAt = 0;
    this.toTakeIds = new Set(this.toTake.map((r) => r.runId));
    this.fill();
  }

  /**
   * Takes up the runs the last scan found, TAKE_UPS at a time (run-drives.ts): each is driven until it parks, settles
   * or has run a while, and the next is taken as one of those ends.
   */
  protected fill(): void {
    const now = this.clock.now();
    // Unsettled: read so by the last scan, or held here and not a settled run being looked at.
    const unsettled = (runId: string) =>
      this.toTakeIds.has(runId) || this.parked.has(runId) || (this.driving.has(runId) && !this.lookedAt.has(runId));
    while (this.toTakeAt < this.toTake.length && this.freshSlots() > 0 && !this.stopping) {
      const run = this.toTake[this.toTakeAt++]!;
      if (this.driving.has(run.runId) || this.parked.has(run.runId) || this.corrupt.has(run.runId)) continue;
      if ((this.backoff.get(run.runId) ?? 0) > now) continue;
      if (parentDrives(run, unsettled)) continue;
      this.take(run.runId, undefined, true);
    }
    if (this.toTakeAt === this.toTake.length && this.toTake.length > 0) {
      this.toTake = [];
      this.toTakeAt = 0;
      this.toTakeIds.clear();
    }
  }

  /**
   * Settled runs are looked at LOOKS at a time (each is read and folded): a serve started on a store of thousands of
   * runs settled lately would otherwise read them all at once.
   */
  private lookNext(): void {
    while (this.looking < LOOKS && this.looksAt < this.looks.length && !this.stopping) {
      const runId = this.looks[this.looksAt++]!;
      if (this.looksAt === this.looks.length) {
        this.looks = [];
        this.looksAt = 0;
      }
      if (this.driving.has(runId) || this.corrupt.has(runId)) continue;
      this.looking++;
      this.lookedAt.add(runId);
      this.take(runId);
      void this.driving.get(runId)!.finally(() => {
        this.lookedAt.delete(runId);
        this.looking--;
        this.lookNext();
      });
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      const now = new Date(this.clock.now());
      for (const hook of this.ticks) {
        try {
          await hook(now);
        } catch (err) {
          this.say({ kind: 'tick.error', message: `a tick hook failed: ${errorMessage(err)}` });
        }
      }
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Graceful stop: nothing new is taken or started; the attempts in flight get `graceMs` to finish; then the rest is
   * stopped and serve.lock released.
   */
  stop(): Promise<StopReport> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<StopReport> {
    this.stopping = true;
    this.wakeStandby?.();
    // A start under way finishes first (standing by, it gives up), so what it sets up is torn down below.
    await this.starting?.catch(() => false);
    this.watcher?.close();
    clearInterval(this.rescanTimer);
    clearInterval(this.tickTimer);
    // A scan under way may still take a run (wait for it so that run is drained too); a tick hook under way finishes.
    while (this.scanning || this.ticking) await new Promise((r) => setTimeout(r, 5));
    const grace = this.opts.graceMs ?? 10_000;
    const inFlight = this.driving.size;
    const parkedCount = this.parked.size;
    if (this.release)
      this.say({
        kind: 'stopping',
        message: `stopping: no new work; ${inFlight} run(s) driven here get ${grace} ms for the attempts in flight to finish${parkedCount > 0 ? `; ${parkedCount} waiting run(s) are let go` : ''}`,
      });
    // Parked runs have nothing in flight: let go first, so none is woken into a drive while the rest drain.
    const parked = await this.parked.releaseAll();
    for (const { runId, status } of parked)
      this.say({ kind: 'run.waiting', runId, status, message: `run ${runId} left ${status} (drained)` });
    this.abortRuns('drain');
    const all = () => Promise.allSettled([...this.driving.values()]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const inTime = await Promise.race([
      all().then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), grace);
      }),
    ]);
    clearTimeout(timer);
    const interrupted = inTime ? [] : [...this.driving.keys()];
    if (!inTime) this.abortRuns('stop');
    await all();
    await this.release?.();
    const wasActive = this.release !== null;
    this.release = null;
    if (wasActive) {
      this.say({
        kind: 'stopped',
        message:
          interrupted.length === 0
            ? 'stopped: every attempt in flight finished'
            : `stopped: the grace ran out; attempts of ${interrupted.join(', ')} stay in flight in the log, given back (the next serve or resume runs them again)`,
      });
    }
    return { drained: parked.length + inFlight - interrupted.length, interrupted };
  }
}
