/**
 * How `serve` drives one run (the Service's part that is not scanning or its lifecycle): taken up from the store
 * (driveOne: who holds it, its log, what it is owed), driven until it settles or waits on the outside world with
 * nothing due soon, then parked under its lease (parked.ts) and driven again when woken (driveAgain).
 */
import { join } from 'node:path';
import { RunBusyError, errorMessage } from '../errors/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import { type Handlers, type RunView, heldBy } from '../runtime/index.js';
import type { LoadedRunLog } from '../local/index.js';
import type { RunLease, RunSummary } from '../store/index.js';
import { pidAlive } from '../store/lock.js';
import { damagedText } from '../query/index.js';
import { leaseHolder } from './holders.js';
import { ParkedRuns } from './parked.js';
import { ServiceBase } from './service-base.js';

/** Timers due within this are waited for by the run's driver; a run whose next is further off is parked (parked.ts). */
const PARK_BEYOND_MS = 30_000;
/**
 * Runs a scan takes up at once: each holds a driver (~40 KB) until it parks or settles, so a serve started on 100,000
 * waiting runs takes them up a few hundred at a time instead of driving all at once (4 GB, and out of file handles).
 */
const TAKE_UPS = 256;
/** A run taken up that neither parks nor settles by then (a long attempt) frees its take-up slot all the same. */
const TAKE_UP_MS = 2_000;

/** A run a scan found to take up: its id and, for a child run, its parent (as much of its summary as is kept). */
export type ToTake = Pick<RunSummary, 'runId' | 'parent'>;

export abstract class RunDrives extends ServiceBase {
  protected readonly parked = new ParkedRuns(this.opts.engine.store, this.opts.engine.clock, (runId, lease) =>
    this.take(runId, lease),
  );
  /** The active runs the last scan found, in the order they are taken up (fill), and their ids. */
  protected toTake: ToTake[] = [];
  protected toTakeAt = 0;
  protected toTakeIds = new Set<string>();
  /** Runs taken up by a scan whose first drive has not yet parked, settled or run TAKE_UP_MS. */
  private takingUp = 0;

  /** How many of the runs held here are parked: waiting on the outside world without a driver (parked.ts). */
  get parkedCount(): number {
    return this.parked.size;
  }

  /** Takes up what the last scan found as slots allow. */
  protected abstract fill(): void;

  protected freshSlots(): number {
    return TAKE_UPS - this.takingUp;
  }

  /**
   * Drives the run (`lease`: a parked run's, woken: driven again under it). `fresh`: a run a scan takes up, holding a
   * take-up slot until its first drive parks, ends or has run TAKE_UP_MS.
   */
  protected take(runId: string, lease?: RunLease, fresh = false): void {
    if (this.stopping) {
      // Woken as the service stops: left as it stands, as a drained run is.
      if (lease) void this.letGo(runId, lease);
      return;
    }
    let free: (() => void) | undefined;
    if (fresh) {
      this.takingUp++;
      const timer = setTimeout(() => free?.(), TAKE_UP_MS);
      free = () => {
        free = undefined;
        clearTimeout(timer);
        this.takingUp--;
        this.fill();
      };
    }
    const p = (lease ? this.driveAgain(runId, lease) : this.driveOne(runId)).finally(() => {
      this.driving.delete(runId);
      free?.();
    });
    this.driving.set(runId, p);
  }

  private async driveOne(runId: string): Promise<void> {
    const { engine } = this.opts;
    try {
      // Who drives it now, as its lease file says: a live process keeps it (this one too: a child run driven by its
      // parent's attempt here), with the notifications it owes. A dead one's lease is broken by drive() below. Read
      // before the log: a driver releases its lease after its last append, so a log read after seeing no live holder is
      // whole (read the other way round, a driver finishing in between left attempts that look lost).
      const leaseFile = join(this.opts.storeDir, 'runs', `${runId}.driver`);
      let holder = await leaseHolder(leaseFile);
      // A holder that exited between that read and the liveness check released its lease first if it ended cleanly:
      // read again, so a clean end is not told as a death (the log read below is after both reads).
      if (holder && holder.pid !== null && !pidAlive(holder.pid)) holder = await leaseHolder(leaseFile);
      const loaded = await engine.load(runId);
      const damaged = await this.witness.check(runId, loaded.seq);
      if (damaged) {
        this.corrupt.add(runId);
        this.say({ kind: 'run.error', runId, message: `${damagedText(damaged)} (left alone by this serve)` });
        return;
      }
      if (holder && holder.pid !== null && pidAlive(holder.pid)) {
        if (holder.pid !== process.pid && loaded.snapshot.status === 'active') this.noteBusy(runId, holder.pid);
        // Settled but still held (its driver delivering its notifications): looked at again on a later scan, in case that driver dies first.
        if (loaded.snapshot.status !== 'active') this.lookAgain(runId);
        return;
      }
      // Taken up here: what its history does not note as delivered is this service's to deliver now.
      this.opts.notifier?.catchUp(loaded.events);
      if (loaded.snapshot.status !== 'active' && !(await engine.pendingFailureRun(loaded))) return;
      const handlers = this.opts.handlers ?? (await this.handlersAt(loaded.source?.handlers));
      const lost = heldBy(loaded.snapshot).attempts.size;
      // A lease file left behind: its holder died (a clean driver removes it). In-flight attempts without one: a driver stopped mid-way.
      const dead = holder?.pid ?? null;
      const before = this.busy.get(runId);
      const workflow = loaded.snapshot.context.workflowId;
      const lostText = lost > 0 ? `; ${lost} attempt(s) it had in flight run again` : '';
      // Said once per run until it is driven to an end: a run that cannot be driven (a handler missing) is tried every backoff.
      const taken = holder !== null || lost > 0;
      const again = this.toldTaken.has(runId);
      this.toldTaken.add(runId);
      if (!again)
        this.say(
          taken
            ? {
                kind: 'run.taken_over',
                runId,
                pid: dead,
                message: `run ${runId} (${workflow}) taken over at event ${loaded.seq}: ${holder !== null ? `its driver${dead !== null ? ` pid ${dead}` : ''} died` : 'its driver stopped'}${lostText}`,
              }
            : {
                kind: 'run.driving',
                runId,
                message: `run ${runId} (${workflow}) picked up at event ${loaded.seq}${before !== undefined ? ` (pid ${before ?? '?'} that drove it stopped)` : ''}${loaded.snapshot.status === 'active' ? '' : ': its failure workflow never started'}`,
              },
        );
      this.busy.delete(runId);
      this.failures.delete(runId);
      // A run waiting here has no commit to show until it moves on: what it holds is told now.
      if (loaded.snapshot.status === 'active') this.opts.onTakeUp?.(loaded.snapshot);
      // An active run is leased here, so that it can be parked under its lease once it waits on the outside world.
      const lease = loaded.snapshot.status === 'active' ? await engine.store.leaseRun?.(runId) : undefined;
      await this.driveLeased(loaded, handlers, lease);
    } catch (err) {
      this.driveFailed(runId, err);
    }
  }

  /** A parked run woken (its log changed, or its timer is near): driven again under its lease. */
  private async driveAgain(runId: string, lease: RunLease): Promise<void> {
    try {
      const loaded = await this.opts.engine.load(runId);
      const damaged = await this.witness.check(runId, loaded.seq);
      if (damaged) {
        this.corrupt.add(runId);
        this.say({ kind: 'run.error', runId, message: `${damagedText(damaged)} (left alone by this serve)` });
        await lease.release();
        return;
      }
      const handlers = this.opts.handlers ?? (await this.handlersAt(loaded.source?.handlers));
      await this.driveLeased(loaded, handlers, lease);
    } catch (err) {
      this.driveFailed(runId, err);
    }
  }

  /**
   * Drives a run until it settles, or (under `lease`) until it waits on the outside world with nothing due soon: then
   * it is parked under its lease, told nothing (it is still this service's). Released unless parked.
   */
  private async driveLeased(loaded: LoadedRunLog, handlers: Handlers, lease: RunLease | undefined): Promise<void> {
    // The queued runs its settle admits are driven inside this drive: each is told as this one is.
    const own = this.runSignals();
    let view: RunView;
    let parks = false;
    try {
      view = await this.opts.engine.drive(loaded, {
        handlers,
        ...(this.opts.skills ? { skills: this.opts.skills } : {}),
        untilSettled: true,
        ...(lease ? { heldLease: lease, parkWhenIdle: true, maxTimerWaitMs: PARK_BEYOND_MS } : {}),
        signal: own.signal,
        // The service stops only cleanly (its grace ran out): what still runs is given back, not lost.
        releaseOnStop: true,
        drain: own.drain,
        onAdmittedDriven: (v) => this.driven(v),
      });
      parks =
        lease !== undefined &&
        !this.stopping &&
        !own.drain.aborted &&
        !own.signal.aborted &&
        !SETTLED_STATUSES.includes(view.status);
      if (parks) this.parked.park(lease!, view);
    } finally {
      own.done();
      if (!parks) await lease?.release();
    }
    if (!parks) this.driven(view);
  }

  /** A drive that threw: another process holds the run, or it is tried again after a backoff. */
  private driveFailed(runId: string, err: unknown): void {
    if (err instanceof RunBusyError) {
      this.noteBusy(runId, (err.meta as { pid?: number | null }).pid ?? null);
      return;
    }
    if (this.stopCtl.signal.aborted) return;
    const message = errorMessage(err);
    // The same failure again (a handler still missing, no data key here) waits twice as long as the last, up to six
    // times the first: 10 s, 20, 40, then every minute, where every 10 s said it six times a minute for each such run.
    const first = 10 * (this.opts.rescanMs ?? 1000);
    const last = this.failedDrives.get(runId);
    const wait = last?.message === message ? Math.min(2 * last.waitMs, 6 * first) : first;
    this.failedDrives.set(runId, { message, waitMs: wait });
    this.backoff.set(runId, this.clock.now() + wait);
    this.failures.set(runId, message);
    this.say({
      kind: 'run.error',
      runId,
      message: `run ${runId} could not be driven: ${message} (tried again in ${wait} ms)`,
    });
  }

  /** A parked run woken while the service stops: its lease released, told as a drained run is. */
  private async letGo(runId: string, lease: RunLease): Promise<void> {
    try {
      await lease.release();
    } catch (err) {
      this.say({ kind: 'run.error', runId, message: `run ${runId}: cannot release its lease: ${errorMessage(err)}` });
    }
  }
}
