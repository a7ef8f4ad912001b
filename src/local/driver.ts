/**
 * The live executor of one run. It folds inputs (task outcomes, timer
 * firings) through the machine, appends the resulting events in one commit,
 * and only then performs the effects the new state asks for: start handlers
 * of IN_PROGRESS tasks, arm or cancel durable timers, abort attempts that are
 * no longer wanted. Effects are derived from the state, not remembered, so a
 * resumed run (fold of its log) picks up exactly what was outstanding.
 *
 * With a commit window (`commitWindowMs` > 0) in-process handlers run like
 * Temporal's local activities: the events of consecutive steps gather in one
 * open group, handlers start from the group's state before it is durable, and
 * the group is appended as one commit when nothing in this process is running
 * any more (the run settled or waits on the outside world) or when the group
 * is `commitWindowMs` old. Every transition is still an event with its own
 * time; what changes is what a crash can lose: the open group, whose
 * handlers then run again under the same idempotency keys.
 */
import { NonRetryableError } from '../errors/index.js';
import { childRunId, countWithStatus, instanceFields, instanceKey, iso, type CompiledWorkflow, type InstanceRef } from '../compiler/index.js';
import { markBuiltByFold, type EventEnvelope, type PendingEvent, type TaskError } from '../events/index.js';
import type { EventStore, Subscription } from '../store/index.js';
import { type Clock, randomHex, commitWithRetry } from '../executor/index.js';
import { type RunSnapshot, foldOnto, hasScheduledItems, prepareCommit, reuseDue, heldBy, reconcile, timerFired, type EmitEvent, type HeldAttempt, type StartAttempt, type StartChild, handlerFor, toTaskError, type Handlers, type CommandRunner, reviewLoss } from '../runtime/index.js';
import type { Definition } from '../definition/index.js';

const SCHEDULED = ['SCHEDULED'] as const;

export interface DriverHooks {
  /**
   * After each durable commit, with the state before and after it, and the run's definition (its notification rules, say).
   * A run's start commit (Engine.run, runRetry) comes with run.started first and, as `before`, the state run.started made.
   */
  onCommit?: (events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot, definition: Definition) => void;
  /** An input that no longer applies (a late result after a timeout, a raced approval). */
  onStale?: (event: PendingEvent, reason: string) => void;
  /** A handler's log line. */
  onLog?: (taskId: string, message: string) => void;
  /** Writes a task's output where `output_to` says (an effect, so it lives at the edge). */
  writeOutput?: (path: string, output: unknown) => Promise<void>;
  /** Runs a COMMAND task's program (an effect at the edge: src/workers/command.ts). Without it COMMAND attempts fail (LF_COMMAND_UNAVAILABLE). */
  runCommand?: CommandRunner;
}

/** What became of a child run, as its parent's attempt reports it; `waiting`: it waits on the outside world (an approval, a far timer). */
export type ChildOutcome =
  | { kind: 'completed'; output: unknown }
  | { kind: 'failed'; error: TaskError }
  | { kind: 'waiting' };

/**
 * Performs what the executor does itself (the Engine gives one, with a
 * definition resolver and an emitter from the edge): start and drive a child
 * run, emit an event. The signal fires when the attempt is no longer wanted;
 * `cancelled()` then says whether the child run should be cancelled too (the
 * parent's attempt was aborted) or just left (this process stops).
 */
export interface ChildExecutor {
  startChild(effect: StartChild, control: { signal: AbortSignal; cancelled: () => boolean }): Promise<ChildOutcome>;
  emit(effect: EmitEvent, control: { signal: AbortSignal }): Promise<unknown>;
}

export interface DriverOptions extends DriverHooks {
  store: EventStore;
  compiled: CompiledWorkflow;
  snapshot: RunSnapshot;
  seq: number;
  handlers: Handlers;
  clock: Clock;
  /** Watch the store for other writers (default true); without it, conflicts still catch up on append. */
  follow?: boolean;
  /**
   * 0 (default): every step is durable before its effects start (write-ahead).
   * > 0: steps gather in one commit for up to this many ms while in-process handlers keep finishing (see above).
   */
  commitWindowMs?: number;
  /**
   * The attempts the state has in flight were lost with the process that ran
   * them (this is a resume): record their restarts (task.restarted) and run
   * them again, their timeouts counted from now. Without it (a run this
   * process has just started) they are this driver's to start.
   */
  restartInFlight?: boolean;
  /** Child runs and EMIT; without it, such attempts fail (LF_SUBWORKFLOW_NOT_FOUND, LF_EMIT_UNAVAILABLE). */
  children?: ChildExecutor;
  /**
   * Keep driving until the run settles (a long-running service): waitUntilIdle
   * does not resolve while the run waits on timers, approvals or signals,
   * only once it settles, is drained (drain()) or stopped.
   */
  untilSettled?: boolean;
  /** The run's definition file (recorded in run.started), for COMMAND tasks' default working directory. */
  definitionFile?: string;
}

/**
 * Steps folded but not yet appended: all their events (as inputs, to fold
 * again onto a newer log after a conflict) and where they lead. `derived`
 * marks the task.started events the driver added itself: when another writer
 * got there first they are dropped quietly, not reported as stale.
 */
interface OpenGroup {
  inputs: { event: PendingEvent; derived: boolean }[];
  events: EventEnvelope[];
  snapshot: RunSnapshot;
  seq: number;
  openedAt: number;
}

/** An envelope as an input again (to fold it onto a newer log). */
function pendingOf(ev: EventEnvelope): PendingEvent {
  return { type: ev.type, time: ev.time, data: ev.data } as PendingEvent;
}

/** Outputs are recorded in the log: they must be JSON. */
function toJson(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value));
}

export class RunDriver {
  /** The state the log holds (durable). */
  private snapshot: RunSnapshot;
  private seq: number;
  /** Folded but not yet appended; effects act on its state. Only ever open across awaits with a commit window. */
  private group: OpenGroup | null = null;
  private flushTimer: unknown = null;
  private readonly windowMs: number;
  private readonly queue: PendingEvent[] = [];
  private readonly inflight = new Map<string, AttemptControl>();
  /**
   * Attempts another writer restarted (task.restarted in its commits) while
   * this driver ran them: that writer runs them now, so this one stops its
   * own run of each and does not start another. Counted as held by reconcile.
   */
  private readonly takenOver = new Map<string, { attempt: number; restart: number; ref: InstanceRef }>();
  /**
   * Child runs this driver left waiting on the outside world (an approval): held, so reconcile does not
   * start them again while this driver runs; a later resume asks again (a settled child reports at once).
   */
  private readonly waitingChildren = new Map<string, { attempt: number; restart: number; ref: InstanceRef }>();
  /** Failure workflows started (by child run id) and how many are still being driven. */
  private readonly failureChildren = new Set<string>();
  /** The failure workflows being driven here: stopped (not cancelled) when this driver stops. */
  private readonly failureControls = new Set<AttemptControl>();
  private sideWork = 0;
  /** Timers armed on the clock, with the due time each was armed for. */
  private readonly timers = new Map<string, { handle: unknown; dueAt: string }>();
  private busy = false;
  private needsCatchUp = false;
  private failure: unknown = null;
  private listeners = new Set<() => void>();
  private follow: Subscription | null = null;
  private stopped = false;
  /** drain(): no new attempt, timer or child starts; what is in flight finishes and is recorded. */
  private draining = false;
  /**
   * Makes this driver's dedup ids its own: `<runId>/<seq>/<nonce>`. One per
   * driver suffices (the seq tells its commits apart; a retry of the same
   * commit keeps its id), and spares random bytes per step.
   */
  private readonly nonce = randomHex(6);
  /** Last seq of the commit being appended, 0 when none: follow() may echo it back before append() returns. */
  private appendingTo = 0;
  /** Releases the clock's hold on the process, taken while attempts or child runs are in flight here. */
  private release: (() => void) | null = null;

  constructor(private readonly opts: DriverOptions) {
    this.snapshot = opts.snapshot;
    this.seq = opts.seq;
    this.windowMs = Math.max(0, opts.commitWindowMs ?? 0);
  }

  get runId(): string { return this.snapshot.context.runId; }
  /** The durable state: what the log holds. */
  get state(): RunSnapshot { return this.snapshot; }
  get lastSeq(): number { return this.seq; }
  /** The state effects act on: the open group's, else the durable one. */
  private get current(): RunSnapshot { return this.group?.snapshot ?? this.snapshot; }

  /** Starts acting on the current state and listening for events other processes append. */
  start(): void {
    if (this.opts.follow !== false) this.follow = this.opts.store.follow(this.runId, this.seq, (events) => {
      // Our own commits come back here too, often before their append returns; only another
      // writer's events need a catch-up. Seqs of the commit in flight are ours if that append
      // succeeds, and if another writer took them the append fails with a conflict and catches up.
      if ((events.at(-1)?.seq ?? 0) <= Math.max(this.seq, this.appendingTo)) return;
      this.needsCatchUp = true;
      this.kick();
    });
    if (this.opts.restartInFlight) {
      const time = iso(this.opts.clock.now());
      // What the state holds in flight is what the process before this one was running.
      for (const { attempt, restart, ref } of heldBy(this.snapshot).attempts.values()) {
        const review = reviewLoss(this.snapshot, { taskId: ref.task, ...instanceFields(ref), attempt, restart, reason: 'resumed', time });
        if (review.kind !== 'stale') this.queue.push(review.event);
      }
    }
    this.kick();
  }

  /**
   * Stops arming timers and listening. In-flight handlers are aborted; an
   * open group is still appended (what finished is kept), and the log keeps
   * everything needed to resume.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.follow?.close();
    if (this.flushTimer !== null) { this.opts.clock.clearTimer(this.flushTimer); this.flushTimer = null; }
    for (const t of this.timers.values()) this.opts.clock.clearTimer(t.handle);
    this.timers.clear();
    for (const f of this.inflight.values()) f.abort(new Error('the engine stopped'));
    this.inflight.clear();
    for (const f of this.failureControls) f.abort(new Error('the engine stopped'));
    if (this.group && !this.failure) this.kick();
    this.notify();
  }

  /**
   * Graceful stop, first half: nothing new starts (no attempt, no child run,
   * no EMIT, no timer; tasks the fold schedules stay SCHEDULED in the log for
   * the next driver), while the attempts in flight finish and their outcomes
   * are recorded. waitUntilIdle resolves once nothing runs here any more;
   * stop() then ends the rest (what still runs stays in flight in the log).
   */
  drain(): void {
    if (this.draining || this.stopped) return;
    this.draining = true;
    for (const t of this.timers.values()) this.opts.clock.clearTimer(t.handle);
    this.timers.clear();
    this.kick();
    this.notify();
  }

  submit(ev: PendingEvent): void {
    if (this.stopped) return;
    this.queue.push(ev);
    this.kick();
  }

  /**
   * Resolves when the run is settled, or nothing can happen without the
   * outside world: no handler running, no input queued, and no timer due
   * within `maxTimerWaitMs`.
   */
  waitUntilIdle(maxTimerWaitMs: number): Promise<RunSnapshot> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.failure) { this.listeners.delete(check); reject(this.failure); return; }
        if (this.isIdle(maxTimerWaitMs)) { this.listeners.delete(check); resolve(this.snapshot); }
      };
      this.listeners.add(check);
      check();
    });
  }

  private isIdle(maxTimerWaitMs: number): boolean {
    if (this.stopped) return !this.busy;
    if (this.busy || this.group || this.sideWork > 0) return false;
    if (this.snapshot.status !== 'active') return true;
    if (this.queue.length > 0 || this.inflight.size > 0 || this.needsCatchUp) return false;
    if (this.draining) return true;
    if (this.opts.untilSettled) return false;
    const now = this.opts.clock.now();
    return Object.values(this.snapshot.context.timers).every((t) => Date.parse(t.dueAt) - now > maxTimerWaitMs);
  }

  /** Tasks (and MAP items) the fold made eligible but that have no task.started yet (e.g. right after run.started, or after a catch-up). */
  private hasScheduled(): boolean {
    const s = this.current;
    if (this.draining) return false; // they start under the next driver
    if (s.status !== 'active' || s.context.paused === true) return false; // paused: they start once resumed
    // Checked before every fold: counted as tasks change in a long run (task-table.ts), a loop otherwise.
    // A retry's reused HUMAN or WAIT made ready by another writer's event (an approval) completes in a step too.
    return countWithStatus(s.context.tasks, SCHEDULED) > 0 || hasScheduledItems(s) || (s.context.reuse !== undefined && reuseDue(s));
  }

  private notify(): void {
    // Every change of what runs here ends in notify(): the place to take or drop the hold on the process.
    const working = !this.stopped && (this.inflight.size > 0 || this.sideWork > 0);
    if (working && !this.release) this.release = this.opts.clock.keepAlive?.() ?? null;
    else if (!working && this.release) { this.release(); this.release = null; }
    for (const l of [...this.listeners]) l();
  }

  private kick(): void {
    if (this.busy || (this.stopped && !this.group)) return;
    // Set before the first await: pump() may finish synchronously when there is nothing to fold.
    this.busy = true;
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        while ((this.queue.length > 0 || this.needsCatchUp || this.hasScheduled()) && !this.stopped) {
          if (this.needsCatchUp) await this.catchUp();
          this.fold(this.queue.splice(0).map((event) => ({ event, derived: false })));
          // Write-ahead: without a window, each step is durable before anything acts on it.
          if (this.windowMs === 0) await this.flush();
        }
        if (this.stopped) {
          if (this.group) await this.flush();
          break;
        }
        this.reconcile();
        // A handler that threw synchronously reported while this pump held the driver: fold it now.
        if (this.queue.length > 0) continue;
        // Handlers that finish within the window join the open group; when nothing runs here any
        // more (settled, or waiting on timers, approvals or other processes) there is no reason to wait.
        if (this.group && (this.inflight.size === 0 || this.opts.clock.now() - this.group.openedAt >= this.windowMs)) {
          await this.flush();
          continue; // a conflict may have changed the state: act on it
        }
        if (this.group) this.armFlushTimer();
        break;
      }
    } catch (err) {
      this.failure = err;
      this.group = null;
      this.stop();
    } finally {
      this.busy = false;
      this.notify();
    }
  }

  private armFlushTimer(): void {
    if (this.flushTimer !== null || !this.group) return;
    const due = Math.max(0, this.group.openedAt + this.windowMs - this.opts.clock.now());
    this.flushTimer = this.opts.clock.setTimer(due, () => {
      this.flushTimer = null;
      this.kick(); // the pump sees the group is old enough and appends it
    });
  }

  /** Reads what other writers appended and folds it in: the log, not our memory, is the truth. */
  private async catchUp(): Promise<void> {
    this.needsCatchUp = false;
    const events = await this.opts.store.read(this.runId, { fromSeq: this.seq + 1 });
    if (events.length === 0) return;
    const before = this.snapshot;
    this.snapshot = foldOnto(this.opts.compiled, this.snapshot, events);
    this.seq = events.at(-1)!.seq;
    for (const ev of events) {
      if (ev.type !== 'task.restarted') continue;
      const key = instanceKey(ev.data);
      this.inflight.get(key)?.abort(new Error(`attempt ${ev.data.attempt} was restarted by another process`));
      this.inflight.delete(key);
      this.takenOver.set(key, { attempt: ev.data.attempt, restart: ev.data.restart, ref: { task: ev.data.task, ...instanceFields(ev.data) } });
    }
    this.opts.onCommit?.(events, before, this.snapshot, this.opts.compiled.definition);
    // The open group was folded onto an older log: fold its events again onto the new one (those that no longer apply become stale).
    if (this.group) {
      const inputs = this.group.inputs;
      this.group = null;
      this.fold(inputs);
    }
  }

  /** Folds inputs plus the starts of newly scheduled tasks into the open group (opening one if needed). */
  private fold(inputs: OpenGroup['inputs']): void {
    // The group's list holds nothing but prepareCommit's envelopes: marked as built by the fold (see isBuiltByFold).
    const base = this.group ?? { inputs: [], events: markBuiltByFold([]), snapshot: this.snapshot, seq: this.seq, openedAt: this.opts.clock.now() };
    const { events, snapshot, seq, stale } = prepareCommit(this.opts.compiled, base.snapshot, base.seq, inputs.map((i) => i.event), this.opts.clock.now(), { startScheduled: !this.draining });
    // Stale inputs are rare: no set of them is built when there are none (this runs for every step).
    const staleEvents = stale.length > 0 ? new Set(stale.map((s) => s.event)) : null;
    for (const s of stale) if (!inputs.find((i) => i.event === s.event)?.derived) this.opts.onStale?.(s.event, s.reason);
    if (events.length === 0) return;
    // The group is the driver's own (never shared), so it grows in place.
    // prepareCommit's events are the accepted inputs in order, then the starts it derived.
    let accepted = 0;
    for (const i of inputs) if (!staleEvents?.has(i.event)) { base.inputs.push(i); accepted++; }
    for (let k = accepted; k < events.length; k++) base.inputs.push({ event: pendingOf(events[k]!), derived: true });
    base.events.push(...events);
    base.snapshot = snapshot;
    base.seq = seq;
    this.group = base;
  }

  /** Appends the open group as one commit; on a conflict, catches up (which refolds the group) and tries again. */
  private async flush(): Promise<void> {
    if (this.flushTimer !== null) { this.opts.clock.clearTimer(this.flushTimer); this.flushTimer = null; }
    await commitWithRetry(this.runId, async (round) => {
      // A lost round: another writer appended first; take its events in (the group is refolded onto them).
      if (round > 0) await this.catchUp();
      const g = this.group;
      if (!g) return;
      this.appendingTo = g.seq;
      try {
        await this.opts.store.append({ runId: this.runId, expectedSeq: this.seq, dedupId: `${this.runId}/${this.seq + 1}/${this.nonce}`, events: g.events });
      } finally {
        this.appendingTo = 0;
      }
      const before = this.snapshot;
      this.snapshot = g.snapshot;
      this.seq = g.seq;
      this.group = null;
      this.opts.onCommit?.(g.events, before, g.snapshot, this.opts.compiled.definition);
    });
  }

  /** Makes the world match the state: interprets what reconcile() says is outstanding against what this driver holds. */
  private reconcile(): void {
    const state = this.current;
    const attempts = this.takenOver.size === 0 && this.waitingChildren.size === 0 ? this.inflight
      : new Map<string, HeldAttempt>([...this.takenOver, ...this.waitingChildren, ...this.inflight]);
    for (const effect of reconcile(this.opts.compiled, state, { attempts, timers: this.timers })) {
      // Draining: only withdrawals act; nothing new starts or is armed.
      if (this.draining && effect.type !== 'timer.cancel' && effect.type !== 'attempt.abort') continue;
      switch (effect.type) {
        case 'timer.cancel':
          this.opts.clock.clearTimer(this.timers.get(effect.timerId)?.handle);
          this.timers.delete(effect.timerId);
          break;
        case 'timer.arm': {
          const { timer } = effect;
          // Armed before for another time (a restarted attempt's timeout): this one replaces it.
          const before = this.timers.get(timer.id);
          if (before) this.opts.clock.clearTimer(before.handle);
          const delay = Math.max(0, Date.parse(timer.dueAt) - this.opts.clock.now());
          const armed: { handle: unknown; dueAt: string } = { handle: null, dueAt: timer.dueAt };
          this.timers.set(timer.id, armed);
          armed.handle = this.opts.clock.setTimer(delay, () => {
            if (this.timers.get(timer.id) === armed) this.timers.delete(timer.id);
            this.submit(timerFired(timer, this.opts.clock.now()));
          });
          break;
        }
        case 'attempt.abort':
          // An attempt no longer wanted: a child run it started is cancelled with it.
          this.inflight.get(effect.instance)?.abort(new Error(effect.reason), true);
          this.inflight.delete(effect.instance);
          this.takenOver.delete(effect.instance);
          if (this.waitingChildren.has(effect.instance)) {
            this.waitingChildren.delete(effect.instance);
            this.cancelWaitingChild(state, { task: effect.taskId, ...instanceFields(effect) }, effect.attempt, effect.reason);
          }
          break;
        case 'attempt.start':
          this.invoke(effect);
          break;
        case 'child.start':
          if (effect.parent.task === undefined) this.startFailureChild(effect);
          else this.startChild(effect);
          break;
        case 'event.emit':
          this.emit(effect);
          break;
      }
    }
    if (state.status !== 'active') this.follow?.close();
  }

  /** A SUB_WORKFLOW attempt: the child run is started (once) and driven here; its outcome is the attempt's. */
  private startChild(effect: StartChild): void {
    const taskId = effect.parent.task!;
    const attempt = effect.parent.attempt!;
    const ref: InstanceRef = { task: taskId, ...instanceFields(effect.parent) };
    this.perform(ref, effect.instance ?? instanceKey(ref), attempt, effect.restart ?? 0, async (control) => {
      if (!this.opts.children) throw new NonRetryableError(`task ${taskId} cannot start workflow ${effect.workflow}: this engine was given no way to find definitions`, 'LF_SUBWORKFLOW_NOT_FOUND');
      const outcome = await this.opts.children.startChild(effect, { get signal() { return control.signal; }, cancelled: () => control.cancelled });
      if (outcome.kind === 'completed') return { output: outcome.output };
      if (outcome.kind === 'failed') return { error: outcome.error };
      return 'waiting';
    });
  }

  /** An EMIT attempt: the event goes out under its attempt's id; the runs it started are the output. */
  private emit(effect: EmitEvent): void {
    this.perform({ task: effect.taskId, ...instanceFields(effect) }, effect.instance, effect.attempt, effect.restart, async (control) => {
      if (!this.opts.children) throw new NonRetryableError(`task ${effect.taskId} cannot emit ${effect.event}: this engine was given no emitter`, 'LF_EMIT_UNAVAILABLE');
      return { output: await this.opts.children.emit(effect, { get signal() { return control.signal; } }) };
    });
  }

  /** A failed run's failure workflow: started once (by its run id) and driven here before this driver is idle. */
  private startFailureChild(effect: StartChild): void {
    if (this.failureChildren.has(effect.childRunId) || !this.opts.children) return;
    this.failureChildren.add(effect.childRunId);
    this.sideWork++;
    const control = new AttemptControl(0, 0, { task: 'failure_workflow' });
    this.failureControls.add(control);
    const say = (why: string) => this.opts.onLog?.('failure_workflow', `failure workflow ${effect.workflow} (run ${effect.childRunId}) ${why}`);
    void this.opts.children.startChild(effect, { get signal() { return control.signal; }, cancelled: () => false })
      .then((outcome) => { if (outcome.kind === 'failed') say(`did not complete: ${outcome.error.message}`); })
      .catch((err: unknown) => say(`could not run: ${(err as Error).message}`))
      .finally(() => { this.failureControls.delete(control); this.sideWork--; this.notify(); });
  }

  /** A child left waiting whose parent attempt is no longer wanted: cancel it too. */
  private cancelWaitingChild(state: RunSnapshot, ref: InstanceRef, attempt: number, reason: string): void {
    if (!this.opts.children) return;
    const child = childRunId(this.runId, ref, attempt);
    // Asking to start it with the signal already aborted and cancelled() true cancels it (see ChildExecutor).
    const control = new AttemptControl(0, 0, ref);
    control.abort(new Error(reason), true);
    void this.opts.children.startChild({
      type: 'child.start', runId: this.runId, childRunId: child, workflow: '', input: {},
      parent: { runId: this.runId, workflowId: state.context.workflowId, task: ref.task, ...instanceFields(ref), attempt },
    }, { signal: control.signal, cancelled: () => true })
      .catch((err: unknown) => this.opts.onLog?.(instanceKey(ref), `could not cancel child run ${child}: ${(err as Error).message}`));
  }

  /**
   * Runs work of an attempt the executor performs itself and feeds its outcome back in, like a
   * handler's; `waiting`: it waits on the outside world, held until a resume asks again.
   */
  private perform(ref: InstanceRef, key: string, attempt: number, restart: number, work: (control: AttemptControl) => Promise<{ output: unknown } | { error: TaskError } | 'waiting'>): void {
    const taskId = ref.task;
    const instance = instanceFields(ref);
    const control = new AttemptControl(attempt, restart, ref);
    this.inflight.set(key, control);
    // Counted until the work ends, aborted or not: a child run being cancelled is still this driver's business.
    this.sideWork++;
    const time = () => iso(this.opts.clock.now());
    void (async () => {
      let ev: PendingEvent | null = null;
      try {
        const r = await work(control);
        if (r === 'waiting') ev = null;
        else if ('error' in r) ev = { type: 'task.failed', time: time(), data: { task: taskId, attempt, ...instance, error: r.error } };
        else ev = { type: 'task.completed', time: time(), data: { task: taskId, attempt, ...instance, output: toJson(r.output) } };
      } catch (err) {
        ev = { type: 'task.failed', time: time(), data: { task: taskId, attempt, ...instance, error: toTaskError(err) } };
      }
      this.sideWork--;
      if (control.aborted) { this.notify(); return; }
      if (this.inflight.get(key) === control) this.inflight.delete(key);
      if (ev) this.submit(ev);
      else {
        this.waitingChildren.set(key, { attempt, restart, ref });
        this.notify();
      }
    })();
  }

  /** Runs one attempt in-process and feeds its outcome back in; an aborted attempt reports nothing. */
  private invoke(effect: StartAttempt): void {
    const { taskId, attempt, instance } = effect;
    const ref: InstanceRef = { task: taskId, ...instanceFields(effect) };
    const control = new AttemptControl(attempt, effect.restart, ref);
    this.inflight.set(instance, control);
    const time = () => iso(this.opts.clock.now());
    void (async () => {
      let ev: PendingEvent;
      try {
        const context = {
          runId: effect.runId, workflowId: effect.workflowId, taskId, attempt, ...instanceFields(ref),
          idempotencyKey: effect.idempotencyKey, get signal() { return control.signal; },
          log: (m: string) => this.opts.onLog?.(instance, m), workflowInput: effect.workflowInput,
        };
        let output: unknown;
        if (effect.command) {
          // A COMMAND task: its program runs through the executor this driver was given (the edge's).
          if (!this.opts.runCommand) throw new NonRetryableError(`task ${taskId} is a COMMAND task, and this engine was given no command executor`, 'LF_COMMAND_UNAVAILABLE');
          output = toJson(await this.opts.runCommand(effect.command, effect.input, { ...context, ...(this.opts.definitionFile ? { definitionFile: this.opts.definitionFile } : {}) }));
        } else {
          const handler = handlerFor(this.opts.handlers, effect.handler);
          if (!handler) {
            throw new NonRetryableError(`no handler named "${effect.handler}" for task ${taskId}; export it from the run's handler module (the \`handlers\` option, or the definition's handlers:)`, 'LF_HANDLER_NOT_FOUND');
          }
          output = toJson(await handler(effect.input, { ...context, task: effect.task }));
        }
        if (effect.outputTo !== undefined && this.opts.writeOutput) await this.opts.writeOutput(effect.outputTo, output);
        ev = { type: 'task.completed', time: time(), data: { task: taskId, attempt, ...instanceFields(ref), output } };
      } catch (err) {
        ev = { type: 'task.failed', time: time(), data: { task: taskId, attempt, ...instanceFields(ref), error: toTaskError(err) } };
      }
      // An aborted attempt (timed out, cancelled, engine stopped) reports nothing: its outcome no longer applies.
      if (control.aborted) return;
      if (this.inflight.get(instance) === control) this.inflight.delete(instance);
      this.submit(ev);
    })();
  }
}

/**
 * One running attempt. Its AbortSignal is made only when the handler reads
 * it: most handlers never do, and an AbortController per attempt showed in
 * engine profiles. An abort before that yields an already-aborted signal.
 */
class AttemptControl {
  aborted = false;
  /** Aborted because the attempt is no longer wanted (not because this process stops): a child run it started is cancelled. */
  cancelled = false;
  private controller: AbortController | null = null;
  private reason: unknown;

  constructor(readonly attempt: number, readonly restart: number, readonly ref: InstanceRef) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown, cancel = false): void {
    if (this.aborted) return;
    this.aborted = true;
    this.cancelled = cancel;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
