/**
 * The live executor of one run, as the executor's loop: an input arrives (a task outcome, a timer firing, another
 * writer's event) → the core folds it (prepareCommit) → the commit is appended (RunLog.flush) → only then are the
 * effects the new state asks for performed: start handlers of IN_PROGRESS tasks, arm or cancel durable timers, abort
 * attempts that are no longer wanted, start child runs, emit events. Effects are derived from the state, not
 * remembered, so a resumed run (fold of its log) picks up exactly what was outstanding.
 *
 * This file is the loop and its lifecycle (start, drain, stop, idle); its phases are files of their own: the run's log
 * is the executors' RunLog (executor/run-log.ts: fold, commit, catch up), in-process-attempts.ts and armed-timers.ts
 * (the effects, performed through the executors' EffectPerformer port, driver-effects.ts).
 *
 * With a commit window (`commitWindowMs` > 0) in-process handlers run like Temporal's local activities: the events of
 * consecutive steps gather in one open group, handlers start from the group's state before it is durable, and the group
 * is appended as one commit when nothing in this process is running any more (the run settled or waits on the outside
 * world) or when the group is `commitWindowMs` old. Every transition is still an event with its own time; what changes
 * is what a crash can lose: the open group, whose handlers then run again under the same idempotency keys.
 */
import { instanceFields, iso, type CompiledWorkflow, type TimerState } from '../compiler/index.js';
import { PAYLOAD_REF_KEY, type PendingEvent } from '../events/index.js';
import { BlobNotLoadedError } from '../errors/index.js';
import { forFileAgents, loadPayload, performEffect, RunLog, type EffectPerformer } from '../executor/index.js';
import { afterCommit, type GateWaits } from '../limits/index.js';
import {
  type RunSnapshot,
  hasStartable,
  reuseDue,
  heldBy,
  reconcile,
  timersArmed,
  timerFired,
  reviewLoss,
} from '../runtime/index.js';
import { ArmedTimers } from './armed-timers.js';
import { DriverEffects, driverGateWaits } from './driver-effects.js';
import type { DriverOptions } from './driver-options.js';
import { InProcessAttempts } from './in-process-attempts.js';
import { foldGivenBack, givenBack } from './given-back.js';

export class RunDriver {
  /** The run's log as this driver holds it: durable state, open group, other writers followed. */
  private readonly log: RunLog;
  private flushTimer: unknown = null;
  private readonly windowMs: number;
  private readonly queue: PendingEvent[] = [];
  private readonly attempts: InProcessAttempts;
  /** Timers armed on the clock, with the due time each was armed for. */
  private readonly timers: ArmedTimers;
  /** Attempts of gated tasks waiting for a slot or a rate token (limits/gate-waits.ts). */
  private readonly waits: GateWaits;
  /** Gate slots being freed after a commit (the process waits for them before it counts as idle). */
  private releasing = 0;
  /** Outcomes committed here being counted on their breakers (GateWaits asks a gate only after them). */
  private counting: Promise<void> = Promise.resolve();
  /** How this driver performs each effect the core's reconcile asks for. */
  private readonly performer: EffectPerformer;
  private busy = false;
  private failure: unknown = null;
  private listeners = new Set<() => void>();
  private stopped = false;
  /** drain(): no new attempt, timer or child starts; what is in flight finishes and is recorded. */
  private draining = false;
  /** Releases the clock's hold on the process, taken while attempts or child runs are in flight here. */
  private release: (() => void) | null = null;
  /** A clean stop's last inputs and releases (given-back.ts), appended by the pump once it has stopped. */
  private givenBack: PendingEvent[] | null = null;

  constructor(private readonly opts: DriverOptions) {
    this.windowMs = Math.max(0, opts.commitWindowMs ?? 0);
    this.log = new RunLog({
      store: opts.store,
      compiled: opts.compiled,
      now: () => opts.clock.now(),
      snapshot: opts.snapshot,
      seq: opts.seq,
      ...(opts.onStale ? { onStale: opts.onStale } : {}),
      onCommit: (events, before, after) => {
        // Freed slots and counted breaker outcomes (limits/after-commit.ts), counted until done: a process that ends
        // with its run must not end before its slots are freed.
        const hooks = afterCommit(
          opts.store,
          this.compiled,
          before,
          after,
          events,
          () => opts.clock.now(),
          (holder, line) => opts.onLog?.(holder, line),
        );
        if (hooks.done) {
          this.releasing++;
          void hooks.done.finally(() => {
            this.releasing--;
            this.notify();
          });
        }
        // The gates are asked after it (GateWaits' counted): the failure that opens a breaker holds this run's next attempt.
        if (hooks.breakers) this.counting = Promise.all([this.counting, hooks.breakers]).then(() => undefined);
        opts.onCommit?.(events, before, after, this.compiled.definition);
      },
      startScheduled: () => !this.draining && !this.stopped,
      theirs: (events) => {
        for (const ev of events) if (ev.type === 'task.restarted') this.attempts.takenOverElsewhere(ev.data);
      },
    });
    // The run's workflow as the log has it (a run.migrated followed) is asked of the host, not read from a copy of the
    // options with a getter (Object.create(opts, descriptors) was a dictionary-mode object per run, about 10 µs).
    this.attempts = new InProcessAttempts(opts, {
      submit: (ev) => this.submit(ev),
      changed: () => this.notify(),
      compiled: () => this.compiled,
    });
    this.timers = new ArmedTimers(opts.clock);
    this.waits = driverGateWaits(opts, this, {
      current: () => this.log.current,
      submit: (ev) => this.submit(ev),
      changed: () => this.notify(),
      counted: () => this.counting,
    });
    const fire = (timer: TimerState) => this.submit(timerFired(timer, this.opts.clock.now()));
    this.performer = new DriverEffects(this.attempts, this.timers, this.waits, this.log, fire);
  }

  /**
   * The run's workflow: the one the driver was given, or, once another process appended a run.migrated
   * (docs/runs.md#migrating-in-flight-runs), the new version's the log now holds, bound to the same limits.
   */
  get compiled(): CompiledWorkflow {
    const now = this.log.compiled;
    return now === this.opts.compiled ? now : now.bound(this.opts.compiled.limits);
  }
  get lastSeq(): number {
    return this.log.seq;
  }

  /** Starts acting on the current state and listening for events other processes append. */
  start(): void {
    if (this.opts.follow !== false) this.log.startFollowing(() => this.kick());
    if (this.opts.restartInFlight) {
      const time = iso(this.opts.clock.now());
      const snapshot = this.log.snapshot;
      // What the state holds in flight is what the process before this one was running.
      for (const [key, { attempt, restart, ref }] of heldBy(snapshot).attempts) {
        // A file agent's attempt was not lost with that process: the agent still has it (its timeout counts on), held again below.
        if (forFileAgents(this.compiled, ref.task, this.opts.agentQueues)) continue;
        const reattach = this.opts.childRunsStarted?.has(key) ?? false;
        const review = reviewLoss(
          snapshot,
          { taskId: ref.task, ...instanceFields(ref), attempt, restart, reason: 'resumed', time },
          { reattach },
        );
        if (review.kind !== 'stale') this.queue.push(review.event);
      }
    }
    this.kick();
  }

  /**
   * Stops arming timers and listening. In-flight handlers are aborted; an open group is still appended (what finished
   * is kept), and the log keeps everything needed to resume; with releaseOnStop, so are the outcomes in hand and the
   * attempts running here, given back (given-back.ts).
   */
  stop(): void {
    if (this.stopped) return;
    if (this.opts.releaseOnStop && !this.failure)
      this.givenBack = givenBack(this.queue, this.attempts, iso(this.opts.clock.now()));
    this.stopped = true;
    this.log.stopFollowing();
    if (this.flushTimer !== null) {
      this.opts.clock.clearTimer(this.flushTimer);
      this.flushTimer = null;
    }
    this.timers.clear();
    this.waits.stopAll();
    this.attempts.stopAll();
    if ((this.log.group || this.givenBack) && !this.failure) this.kick();
    this.notify();
  }

  /**
   * Graceful stop, first half: nothing new starts (no attempt, no child run, no EMIT, no timer; tasks the fold
   * schedules stay SCHEDULED in the log for the next driver), while the attempts in flight finish and their outcomes
   * are recorded. waitUntilIdle resolves once nothing runs here any more; stop() then ends the rest (what still runs
   * stays in flight in the log).
   */
  drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    this.timers.clear();
    this.waits.stopAll();
    this.kick();
    this.notify();
  }

  submit(ev: PendingEvent): void {
    if (this.stopped) return;
    this.queue.push(ev);
    this.kick();
  }

  /**
   * Resolves when the run is settled, or nothing can happen without the outside world: no handler running, no input
   * queued, and no timer due within `maxTimerWaitMs`.
   */
  waitUntilIdle(maxTimerWaitMs: number): Promise<RunSnapshot> {
    return new Promise((resolve, reject) => {
      // A gate wait stops holding the driver once it has waited maxTimerWaitMs: looked at again then (nothing else may notify).
      let again: { at: number; timer: unknown } | null = null;
      const done = () => {
        this.listeners.delete(check);
        if (again) this.opts.clock.clearTimer(again.timer);
        again = null;
      };
      const check = () => {
        if (this.failure) {
          done();
          reject(this.failure);
          return;
        }
        if (this.isIdle(maxTimerWaitMs)) {
          done();
          resolve(this.log.snapshot);
          return;
        }
        const at = this.waits.blockingWithin(maxTimerWaitMs, this.opts.clock.now()).until;
        if (at === null || (again && again.at <= at)) return;
        if (again) this.opts.clock.clearTimer(again.timer);
        again = {
          at,
          timer: this.opts.clock.setTimer(Math.max(0, at - this.opts.clock.now()), () => {
            again = null;
            check();
          }),
        };
      };
      this.listeners.add(check);
      check();
    });
  }

  private isIdle(maxTimerWaitMs: number): boolean {
    if (this.stopped) return !this.busy && this.releasing === 0;
    if (this.busy || this.log.group || this.attempts.sideWork > 0 || this.releasing > 0) return false;
    const snapshot = this.log.snapshot;
    if (snapshot.status !== 'active') return true;
    // Draining waits for what runs here only: an attempt held for a file agent stays in flight in the log for the next driver.
    if (
      this.queue.length > 0 ||
      (this.draining ? this.attempts.runningHere : this.attempts.inFlight) > 0 ||
      this.log.needsCatchUp
    )
      return false;
    if (this.draining) return true;
    if (this.opts.untilSettled && !this.opts.parkWhenIdle) return false;
    // Parked, a run is woken by its log and its timers only: a gate wait or a queue slot keeps it driven.
    if (this.opts.parkWhenIdle && (this.waits.size > 0 || snapshot.context.queued === true)) return false;
    const now = this.opts.clock.now();
    // --max-wait bounds every wait, not timers only: a gate's (a breaker open for longer, a slot that does not free) too.
    if (this.waits.blockingWithin(maxTimerWaitMs, now).count > 0) return false;
    // A QUEUED run's timers wait for its admission (queued-hold.ts): they are not due here.
    return timersArmed(snapshot.context).every((t) => Date.parse(t.dueAt) - now > maxTimerWaitMs);
  }

  /** Tasks (and MAP items) the fold made eligible but that have no task.started yet (e.g. right after run.started, or after a catch-up). */
  private hasScheduled(): boolean {
    const s = this.log.current;
    if (this.draining) return false; // they start under the next driver
    if (s.status !== 'active' || s.context.paused === true) return false; // paused: they start once resumed
    // Checked before every fold: counted as tasks change in a long run (task-table.ts), a loop otherwise.
    // A retry's reused HUMAN or WAIT made ready by another writer's event (an approval) completes in a step too.
    return hasStartable(this.compiled, s) || (s.context.reuse !== undefined && reuseDue(s));
  }

  private notify(): void {
    // Every change of what runs here ends in notify(): the place to take or drop the hold on the process.
    const working =
      !this.stopped &&
      (this.attempts.inFlight > 0 || this.attempts.sideWork > 0 || this.waits.size > 0 || this.releasing > 0);
    if (working && !this.release) this.release = this.opts.clock.keepAlive?.() ?? null;
    else if (!working && this.release) {
      this.release();
      this.release = null;
    }
    for (const l of [...this.listeners]) l();
  }

  private kick(): void {
    if (this.busy || (this.stopped && !this.log.group && !this.givenBack)) return;
    // Set before the first await: pump() may finish synchronously when there is nothing to fold.
    this.busy = true;
    void this.pump();
  }

  /** The loop: fold what arrived, commit it, perform what the new state asks for; again while inputs keep arriving. */
  private async pump(): Promise<void> {
    const log = this.log;
    try {
      for (;;) {
        while ((this.queue.length > 0 || log.needsCatchUp || this.hasScheduled()) && !this.stopped) {
          if (log.needsCatchUp) await log.catchUp();
          const batch = this.queue.splice(0);
          const folded = this.loaded(() => log.fold(batch.map((event) => ({ event, derived: false }))));
          if (folded !== true) {
            await folded;
            this.queue.unshift(...batch); // a payload was loaded meanwhile: the same inputs fold again
            continue;
          }
          // Write-ahead: without a window, each step is durable before anything acts on it.
          if (this.windowMs === 0) await this.flush();
        }
        if (this.stopped) {
          if (this.givenBack) foldGivenBack(log, this.givenBack);
          this.givenBack = null;
          if (log.group) await this.flush();
          break;
        }
        const reconciled = this.loaded(() => this.reconcile());
        if (reconciled !== true) {
          await reconciled;
          continue;
        }
        // A handler that threw synchronously reported while this pump held the driver: fold it now.
        if (this.queue.length > 0) continue;
        // Handlers that finish within the window join the open group; when nothing runs here any
        // more (settled, or waiting on timers, approvals or other processes) there is no reason to wait.
        if (
          log.group &&
          (this.attempts.inFlight === 0 || this.opts.clock.now() - log.group.openedAt >= this.windowMs)
        ) {
          await this.flush();
          continue; // a conflict may have changed the state: act on it
        }
        if (log.group) this.armFlushTimer();
        break;
      }
    } catch (err) {
      this.failure = err;
      log.group = null;
      this.stop();
    } finally {
      this.busy = false;
      this.notify();
    }
  }

  /** Payloads loaded in a row for steps that could not be taken without them. */
  private payloadLoads = 0;

  /**
   * Runs a pure step that may read a large payload: true when it ran; else it needed a body this process had not
   * loaded (a store that cannot read one synchronously: NATS), and the promise of loading it, for the step to be taken again.
   */
  private loaded(step: () => unknown): true | Promise<void> {
    try {
      step();
      this.payloadLoads = 0;
      return true; // no promise on the common path: a step per input
    } catch (err) {
      const blobs = this.opts.store.blobs?.();
      // Bounded: a step that reads more bodies at once than this process keeps loaded fails as the core said.
      if (!(err instanceof BlobNotLoadedError) || !blobs || ++this.payloadLoads > 32) throw err;
      return loadPayload(blobs, {
        [PAYLOAD_REF_KEY]: { digest: err.digest, size: 0, media_type: 'application/json' },
      }).then(() => undefined);
    }
  }

  private armFlushTimer(): void {
    const group = this.log.group;
    if (this.flushTimer !== null || !group) return;
    const due = Math.max(0, group.openedAt + this.windowMs - this.opts.clock.now());
    this.flushTimer = this.opts.clock.setTimer(due, () => {
      this.flushTimer = null;
      this.kick(); // the pump sees the group is old enough and appends it
    });
  }

  /** Appends the open group as one commit (executor/run-log.ts), the window's timer no longer needed. */
  private flush(): Promise<void> {
    if (this.flushTimer !== null) {
      this.opts.clock.clearTimer(this.flushTimer);
      this.flushTimer = null;
    }
    return this.log.flush(); // not awaited here: one promise and one turn of the microtask queue less per step
  }

  /** Makes the world match the state: performs what reconcile() says is outstanding against what this driver holds. */
  private reconcile(): void {
    const state = this.log.current;
    this.waits.sync(state);
    for (const effect of reconcile(this.compiled, state, {
      attempts: this.attempts.held(),
      timers: this.timers.armed,
      waits: this.waits.held(),
    })) {
      // Draining: only withdrawals act; nothing new starts or is armed.
      if (this.draining && effect.type !== 'timer.cancel' && effect.type !== 'attempt.abort') continue;
      performEffect(effect, this.performer);
    }
    if (state.status !== 'active') this.log.stopFollowing();
  }
}
