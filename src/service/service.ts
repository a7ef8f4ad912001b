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
 * Its options and notices are options.ts; which runs a scan looks at, candidates.ts; reading lock and lease holders,
 * holders.ts; its state and bookkeeping (the base class it extends), service-base.ts.
 */
import { type FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RunBusyError, errorMessage } from '../errors/index.js';
import { type RunView, heldBy } from '../runtime/index.js';
import { pidAlive, tryLock } from '../store/lock.js';
import { damagedText } from '../query/index.js';
import { candidateRuns, parentDrives } from './candidates.js';
import { holderText, leaseHolder } from './holders.js';
import type { StopReport } from './options.js';
import { ServiceBase } from './service-base.js';

/** Settled runs looked at at once (lookNext). */
const LOOKS = 8;

export class Service extends ServiceBase {
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
        if (runId !== null && !this.driving.has(runId)) this.scanSoon();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // the rescan still finds everything
    }
    this.rescanTimer = setInterval(() => this.scanSoon(), this.opts.rescanMs ?? 1000);
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
          await this.scan();
        } while (this.scanAgain && !this.stopping);
      } catch (err) {
        this.say({ kind: 'run.error', message: `cannot scan the store: ${errorMessage(err)}` });
      } finally {
        this.scanning = false;
      }
    })();
  }

  /** Every unsettled run nobody drives is taken up; a settled one that may owe something is queued to be looked at. */
  private async scan(): Promise<void> {
    const { active, newlySettled } = await candidateRuns(this.opts.engine, this.settled, (c) => {
      if (this.corrupt.has(c.runId)) return;
      this.corrupt.add(c.runId);
      this.say({
        kind: 'run.error',
        runId: c.runId,
        message: `run ${c.runId} is corrupt and left alone: ${c.file}: ${c.reason}`,
      });
    });
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
    const byId = new Map(active.map((r) => [r.runId, r]));
    for (const run of active) {
      if (this.stopping) return;
      if (this.driving.has(run.runId) || this.corrupt.has(run.runId)) continue;
      if ((this.backoff.get(run.runId) ?? 0) > now) continue;
      if (parentDrives(run, byId)) continue;
      this.take(run.runId);
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
      this.take(runId);
      void this.driving.get(runId)!.finally(() => {
        this.looking--;
        this.lookNext();
      });
    }
  }

  private take(runId: string): void {
    const p = this.driveOne(runId).finally(() => {
      this.driving.delete(runId);
    });
    this.driving.set(runId, p);
  }

  private async driveOne(runId: string): Promise<void> {
    const { engine } = this.opts;
    let view: RunView;
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
      // The queued runs its settle admits are driven inside this drive: each is told as this one is.
      const own = this.runSignals();
      try {
        view = await engine.drive(loaded, {
          handlers,
          ...(this.opts.skills ? { skills: this.opts.skills } : {}),
          untilSettled: true,
          signal: own.signal,
          drain: own.drain,
          onAdmittedDriven: (v) => this.driven(v),
        });
      } finally {
        own.done();
      }
    } catch (err) {
      if (err instanceof RunBusyError) {
        this.noteBusy(runId, (err.meta as { pid?: number | null }).pid ?? null);
        return;
      }
      if (this.stopCtl.signal.aborted) return;
      const wait = 10 * (this.opts.rescanMs ?? 1000);
      this.backoff.set(runId, this.clock.now() + wait);
      this.failures.set(runId, errorMessage(err));
      this.say({
        kind: 'run.error',
        runId,
        message: `run ${runId} could not be driven: ${errorMessage(err)} (tried again in ${wait} ms)`,
      });
      return;
    }
    this.driven(view);
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
    if (this.release)
      this.say({
        kind: 'stopping',
        message: `stopping: no new work; ${inFlight} run(s) driven here get ${grace} ms for the attempts in flight to finish`,
      });
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
            : `stopped: the grace ran out; attempts of ${interrupted.join(', ')} stay in flight in the log (the next serve or resume restarts them)`,
      });
    }
    return { drained: inFlight - interrupted.length, interrupted };
  }
}
