/**
 * The Service's state and its bookkeeping: the runs it drives, those another process drives, backoffs and failures, the
 * settled runs to look at, handler modules loaded, and its notices. The base of Service (service.ts), apart so the
 * driving logic reads on its own; its members are Service's.
 */
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { SETTLED_STATUSES } from '../events/index.js';
import type { Handlers, RunView } from '../runtime/index.js';
import { systemClock, type Clock } from '../executor/index.js';
import { loadHandlerModule } from '../handlers/index.js';
import { LogWitness } from '../query/index.js';
import type { ServiceNotice, ServiceOptions, StopReport, TickHook } from './options.js';
import type { ParkedRuns } from './parked.js';

export abstract class ServiceBase {
  protected readonly opts: ServiceOptions;
  protected readonly clock: Clock;
  protected readonly ticks: TickHook[];
  /** Runs this service drives now, by id. */
  protected readonly driving = new Map<string, Promise<void>>();
  /** Runs held here without a driver, waiting on the outside world (parked.ts); woken into `driving`. */
  protected abstract readonly parked: ParkedRuns;
  /** Runs another live process drives (last holder seen), to say once, and to say "taken over" later. */
  protected readonly busy = new Map<string, number | null>();
  /** Runs told taken up (driving, taken over) and not driven to an end since, so a retry after a failed drive does not say it again. */
  protected readonly toldTaken = new Set<string>();
  /** Runs whose drive failed: not tried again before this time (ms). */
  protected readonly backoff = new Map<string, number>();
  /** Why each run in `backoff` could not be driven (its last error), until a drive of it starts. */
  protected readonly failures = new Map<string, string>();
  /** Each run's last failed drive and the wait after it, until a drive of it ends: the same failure waits longer. */
  protected readonly failedDrives = new Map<string, { message: string; waitMs: number }>();
  protected readonly modules = new Map<string, Promise<Handlers>>();
  /** FAILED runs already looked at for a failure workflow that never started. */
  protected readonly failedSeen = new Set<string>();
  /** Settled runs already looked at for notifications their history does not note. */
  protected readonly settledSeen = new Set<string>();
  protected readonly drainCtl = new AbortController();
  protected readonly stopCtl = new AbortController();
  /**
   * Each run driven here has signals of its own, aborted with drainCtl's and stopCtl's (abortRuns): a listener per run on
   * one shared signal cost every take-up a walk of all the others (EventTarget looks for a duplicate), quadratic in the
   * runs held (10,000 waiting runs: serve never caught up).
   */
  private readonly runCtls = new Set<{ stop: AbortController; drain: AbortController }>();
  protected release: (() => Promise<void>) | null = null;
  protected rescanTimer: ReturnType<typeof setInterval> | undefined;
  protected tickTimer: ReturnType<typeof setInterval> | undefined;
  protected scanning = false;
  protected scanAgain = false;
  protected ticking = false;
  protected stopping = false;
  protected stopped: Promise<StopReport> | null = null;
  protected wakeStandby: (() => void) | null = null;
  protected starting: Promise<boolean> | null = null;
  /** Corrupt runs already reported (the rescan sees them every time). */
  /** Runs left alone: a corrupt log, or one shorter than the run index recorded it (damaged: driven, it would re-run completed work). */
  protected readonly corrupt = new Set<string>();
  protected readonly witness: LogWitness;
  /** Runs seen settled, by id: never read again (see candidates). */
  protected readonly settled = new Set<string>();
  /** Settled runs to look at (a failure workflow or notifications they may owe), and how many are being looked at. */
  protected looks: string[] = [];
  /** The settled runs being looked at now (in `driving` too, but not unsettled). */
  protected readonly lookedAt = new Set<string>();
  protected looksAt = 0;
  protected looking = 0;

  constructor(opts: ServiceOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.witness = new LogWitness(opts.engine.store, opts.storeDir);
    this.ticks = opts.onTick === undefined ? [] : Array.isArray(opts.onTick) ? [...opts.onTick] : [opts.onTick];
    // Every run driven here listens on these two (and stops listening when its drive ends): more than ten runs at once
    // is normal, not a leak, so Node's MaxListenersExceededWarning would be noise on stderr.
    setMaxListeners(0, this.drainCtl.signal, this.stopCtl.signal);
  }

  get lockPath(): string {
    return join(this.opts.storeDir, 'serve.lock');
  }
  /** Whether this service holds the store (false while it stands by, and after stop). */
  get active(): boolean {
    return this.release !== null;
  }
  /** The ids of the runs driven here now, parked ones too. */
  get runs(): string[] {
    return [...this.driving.keys(), ...this.parked.ids()];
  }

  /** A run's own stop and drain signals (already aborted if the service's are); `done()` when its drive ends. */
  protected runSignals(): { signal: AbortSignal; drain: AbortSignal; done: () => void } {
    const ctl = { stop: new AbortController(), drain: new AbortController() };
    // A queued run its settle admits is driven under the same signals: several listeners on one is not a leak.
    setMaxListeners(0, ctl.stop.signal, ctl.drain.signal);
    if (this.stopCtl.signal.aborted) ctl.stop.abort();
    if (this.drainCtl.signal.aborted) ctl.drain.abort();
    this.runCtls.add(ctl);
    return { signal: ctl.stop.signal, drain: ctl.drain.signal, done: () => this.runCtls.delete(ctl) };
  }

  /** Aborts the service's drain (or stop) signal and every run's own. */
  protected abortRuns(which: 'drain' | 'stop'): void {
    (which === 'drain' ? this.drainCtl : this.stopCtl).abort();
    for (const ctl of [...this.runCtls]) ctl[which].abort();
  }

  /** Why this service could not drive the run the last time it tried (it tries again later); undefined when it drives it or never failed to. */
  driveFailure(runId: string): string | undefined {
    return this.failures.get(runId);
  }

  /** Adds a tick hook (the scheduler's fireDue, say) after construction. */
  addTickHook(hook: TickHook): void {
    this.ticks.push(hook);
  }

  /** A settled run to read again on the next scan (as if never seen settled). */
  protected lookAgain(runId: string): void {
    this.settled.delete(runId);
    this.settledSeen.delete(runId);
    this.failedSeen.delete(runId);
  }

  /** Another live process drives the run: said once per holder, looked at again on the next scan. */
  protected noteBusy(runId: string, pid: number | null): void {
    if (!this.busy.has(runId) || this.busy.get(runId) !== pid) {
      this.say({
        kind: 'run.busy',
        runId,
        pid,
        message: `run ${runId} is driven by pid ${pid ?? '?'}: left to it (taken over if it dies)`,
      });
    }
    this.busy.set(runId, pid);
  }

  protected handlersAt(path: string | undefined): Promise<Handlers> {
    if (!path) return Promise.resolve({});
    let m = this.modules.get(path);
    if (!m) {
      m = (this.opts.loadHandlers ?? loadHandlerModule)(path);
      this.modules.set(path, m);
      m.catch(() => this.modules.delete(path)); // a module fixed on disk is loaded again next time
    }
    return m;
  }

  protected say(n: ServiceNotice): void {
    this.opts.onNotice?.(n);
  }

  /** Where a run driven here ended: settled, or left as it stands (stopped or drained). */
  protected driven(view: RunView): void {
    const { runId } = view;
    this.toldTaken.delete(runId);
    this.failedDrives.delete(runId);
    // Settled here: its notifications are this service's already (no need to look at its history again).
    if (SETTLED_STATUSES.includes(view.status)) this.settledSeen.add(runId);
    if (SETTLED_STATUSES.includes(view.status))
      this.say({ kind: 'run.settled', runId, status: view.status, message: `run ${runId} ${view.status}` });
    else
      this.say({
        kind: 'run.waiting',
        runId,
        status: view.status,
        message: `run ${runId} left ${view.status}${this.stopCtl.signal.aborted ? ' (stopped: attempts still in flight are restarted by the next serve or resume)' : ' (drained)'}`,
      });
  }
}
