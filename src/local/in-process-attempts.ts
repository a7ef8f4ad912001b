/**
 * The attempts a RunDriver runs in this process, the in-process transport of
 * the executor's last phase: a handler (or a COMMAND task's program, a
 * TRANSFORM task's jq) run here, a child run started and driven here (SUB_WORKFLOW, failure
 * workflow), an event emitted (EMIT). Each outcome goes back into the loop as
 * an input (task.completed, task.failed); an attempt aborted meanwhile (timed
 * out, cancelled, the engine stopped) reports nothing.
 *
 * Also what this process holds, for the core's reconcile to compare with the
 * state: the attempts in flight, those another process took over, and child
 * runs left waiting on the outside world. What a handler is handed is
 * handler-context.ts; which attempts are held for file agents,
 * file-agent-holds.ts; failure workflows, failure-workflows.ts.
 */
import { NonRetryableError, errorMessage } from '../errors/index.js';
import {
  childRunId,
  instanceFields,
  instanceKey,
  iso,
  type CompiledWorkflow,
  type InstanceRef,
} from '../compiler/index.js';
import { failureStepOf, HTTP_HANDLER } from '../definition/index.js';
import type { PendingEvent, TaskError } from '../events/index.js';
import {
  handlerFor,
  toTaskError,
  type AbortAttempt,
  type EmitEvent,
  type HeldAttempt,
  type RunSnapshot,
  type StartAttempt,
  type StartChild,
} from '../runtime/index.js';
import { AttemptControl } from '../executor/index.js';
import type { DriverOptions } from './driver-options.js';
import { FailureWorkflows } from './failure-workflows.js';
import { heldForFileAgent } from './file-agent-holds.js';
import { handlerContext, toJson } from './handler-context.js';
import { applySecrets, defaultSecrets, NO_MASK, type Masker } from '../secrets/index.js';

/** What of its driver the attempts use: where outcomes go, and the signal that what runs here changed. */
export interface AttemptsHost {
  submit(ev: PendingEvent): void;
  changed(): void;
  /** The run's workflow as the log has it now (another process's run.migrated followed): not the options' own. */
  compiled(): CompiledWorkflow;
}

type Held = { attempt: number; restart: number; ref: InstanceRef };

export class InProcessAttempts {
  private readonly inflight = new Map<string, AttemptControl>();
  /**
   * Attempts another writer restarted (task.restarted in its commits) while
   * this driver ran them: that writer runs them now, so this one stops its
   * own run of each and does not start another. Counted as held by reconcile.
   */
  private readonly takenOver = new Map<string, Held>();
  /**
   * Child runs this driver left waiting on the outside world (an approval): held, so reconcile does not
   * start them again while this driver runs; a later resume asks again (a settled child reports at once).
   */
  private readonly waitingChildren = new Map<string, Held>();
  /** The failed runs' failure workflows started and driven here (failure-workflows.ts). */
  private readonly failureWorkflows: FailureWorkflows;
  /** Work of the executor's own in progress (child runs, EMITs, failure workflows), aborted or not. */
  sideWork = 0;

  constructor(
    private readonly opts: DriverOptions,
    private readonly host: AttemptsHost,
  ) {
    this.failureWorkflows = new FailureWorkflows(opts);
  }

  /** Attempts held here for file agents (file-agent-holds.ts), by instance: nothing of this process runs them. */
  private readonly forAgents = new Set<string>();

  /** How many attempts run here (or are held here for file agents: the run waits for them). */
  get inFlight(): number {
    return this.inflight.size;
  }

  /** How many attempts this process itself runs: what a drain waits for (an agent's attempt stays in flight in the log). */
  get runningHere(): number {
    let n = this.inflight.size;
    for (const key of this.forAgents) if (this.inflight.has(key)) n--;
    return n;
  }

  /** What this process holds, as reconcile counts it. */
  held(): ReadonlyMap<string, HeldAttempt> {
    return this.takenOver.size === 0 && this.waitingChildren.size === 0
      ? this.inflight
      : new Map<string, HeldAttempt>([...this.takenOver, ...this.waitingChildren, ...this.inflight]);
  }

  /** Another writer restarted this attempt (its task.restarted): that writer runs it now; this process stops its own run. */
  takenOverElsewhere(data: {
    task: string;
    attempt: number;
    restart: number;
    iteration?: number;
    item?: number;
  }): void {
    const key = instanceKey(data);
    this.inflight.get(key)?.abort(new Error(`attempt ${data.attempt} was restarted by another process`));
    this.inflight.delete(key);
    this.takenOver.set(key, {
      attempt: data.attempt,
      restart: data.restart,
      ref: { task: data.task, ...instanceFields(data) },
    });
  }

  /** This process stops: every attempt and failure workflow run here is aborted (not cancelled: the log keeps them in flight). */
  stopAll(): void {
    for (const f of this.inflight.values()) f.abort(new Error('the engine stopped'));
    this.inflight.clear();
    this.failureWorkflows.stopAll();
  }

  /** An attempt no longer wanted: a child run it started is cancelled with it. */
  abort(effect: AbortAttempt, state: RunSnapshot): void {
    this.inflight.get(effect.instance)?.abort(new Error(effect.reason), true);
    this.inflight.delete(effect.instance);
    this.forAgents.delete(effect.instance);
    this.takenOver.delete(effect.instance);
    if (this.waitingChildren.has(effect.instance)) {
      this.waitingChildren.delete(effect.instance);
      this.cancelWaitingChild(state, { task: effect.taskId, ...instanceFields(effect) }, effect.attempt, effect.reason);
    }
  }

  /** A SUB_WORKFLOW attempt: the child run is started (once) and driven here; its outcome is the attempt's. */
  startChild(effect: StartChild): void {
    const taskId = effect.parent.task!;
    const attempt = effect.parent.attempt!;
    const ref: InstanceRef = { task: taskId, ...instanceFields(effect.parent) };
    this.perform(ref, effect.instance ?? instanceKey(ref), attempt, effect.restart ?? 0, async (control) => {
      if (!this.opts.children)
        throw new NonRetryableError(
          `task ${taskId} cannot start workflow ${effect.workflow}: this engine was given no way to find definitions`,
          'LF_SUBWORKFLOW_NOT_FOUND',
        );
      const outcome = await this.opts.children.startChild(effect, {
        get signal() {
          return control.signal;
        },
        cancelled: () => control.cancelled,
      });
      if (outcome.kind === 'completed') return { output: toJson(outcome.output) };
      if (outcome.kind === 'failed') return { error: outcome.error };
      return 'waiting';
    });
  }

  /** An EMIT attempt: the event goes out under its attempt's id; the runs it started are the output. */
  emit(effect: EmitEvent): void {
    this.perform(
      { task: effect.taskId, ...instanceFields(effect) },
      effect.instance,
      effect.attempt,
      effect.restart,
      async (control) => {
        if (!this.opts.children)
          throw new NonRetryableError(
            `task ${effect.taskId} cannot emit ${effect.event}: this engine was given no emitter`,
            'LF_EMIT_UNAVAILABLE',
          );
        return {
          output: toJson(
            await this.opts.children.emit(effect, {
              get signal() {
                return control.signal;
              },
            }),
          ),
        };
      },
    );
  }

  /** A failed run's failure workflow: started once (by its run id) and driven here before this driver is idle. */
  startFailureChild(effect: StartChild): void {
    this.failureWorkflows.start(
      effect,
      () => this.sideWork++,
      () => {
        this.sideWork--;
        this.host.changed();
      },
    );
  }

  /** A child left waiting whose parent attempt is no longer wanted: cancel it too. */
  private cancelWaitingChild(state: RunSnapshot, ref: InstanceRef, attempt: number, reason: string): void {
    const runId = state.context.runId;
    const child = childRunId(runId, ref, attempt);
    void this.opts.children
      ?.cancel?.({ childRunId: child, parent: { runId, task: ref.task, ...instanceFields(ref), attempt } }, reason)
      .catch((err: unknown) =>
        this.opts.onLog?.(instanceKey(ref), `could not cancel child run ${child}: ${errorMessage(err)}`),
      );
  }

  /**
   * Runs an attempt's work and feeds its outcome back in (an output already JSON); `waiting`: it waits on the
   * outside world, held until a resume asks again. `side`: the executor's own work (a child run, an EMIT),
   * counted in sideWork until it ends, aborted or not (a child run being cancelled is still this driver's
   * business); an aborted attempt reports nothing.
   */
  private perform(
    ref: InstanceRef,
    key: string,
    attempt: number,
    restart: number,
    work: (control: AttemptControl) => Promise<{ output: unknown } | { error: TaskError } | 'waiting'>,
    side = true,
  ): void {
    const instance = instanceFields(ref);
    const control = new AttemptControl(attempt, restart, ref);
    this.inflight.set(key, control);
    if (side) this.sideWork++;
    const time = () => iso(this.opts.clock.now());
    void (async () => {
      let ev: PendingEvent | null;
      try {
        const r = await work(control);
        if (r === 'waiting') ev = null;
        else if ('error' in r)
          ev = { type: 'task.failed', time: time(), data: { task: ref.task, attempt, ...instance, error: r.error } };
        else
          ev = {
            type: 'task.completed',
            time: time(),
            data: { task: ref.task, attempt, ...instance, output: r.output },
          };
      } catch (err) {
        ev = {
          type: 'task.failed',
          time: time(),
          data: { task: ref.task, attempt, ...instance, error: toTaskError(err) },
        };
      }
      if (side) this.sideWork--;
      if (control.aborted) {
        if (side) this.host.changed();
        return;
      }
      if (this.inflight.get(key) === control) this.inflight.delete(key);
      if (ev) this.host.submit(ev);
      else {
        this.waitingChildren.set(key, { attempt, restart, ref });
        this.host.changed();
      }
    })();
  }

  /** Runs one attempt in-process and feeds its outcome back in; an aborted attempt reports nothing. */
  invoke(effect: StartAttempt): void {
    const { taskId, attempt, instance } = effect;
    const fields = instanceFields(effect);
    if (heldForFileAgent(effect, this.opts, this.host, this.forAgents)) {
      this.inflight.set(instance, new AttemptControl(attempt, effect.restart, { task: taskId, ...fields }));
      return;
    }
    const step = effect.command || effect.transform ? null : failureStepOf(effect.handler);
    this.perform(
      { task: taskId, ...fields },
      instance,
      attempt,
      effect.restart,
      async (control) => {
        // The secrets the attempt names are put in here, at its start, and every outcome is masked before it is recorded.
        let mask: Masker = NO_MASK;
        try {
          const resolved = await applySecrets(
            effect.secrets,
            effect.input,
            effect.command,
            effect.secrets ? (this.opts.secrets ?? defaultSecrets()) : undefined,
          );
          mask = resolved.mask;
          const { input } = resolved;
          let output: unknown;
          if (effect.transform) {
            // A TRANSFORM task: its jq (or script) runs here, in this process (src/transform/, loaded on the first one), unless the driver was given a runner.
            output = this.opts.runTransform
              ? toJson(
                  await this.opts.runTransform(
                    'js' in effect.transform ? effect.transform.js : effect.transform.jq,
                    input,
                    {
                      taskId,
                      attempt,
                      ...fields,
                      get signal() {
                        return control.signal;
                      },
                    },
                  ),
                )
              : await (await import('../transform/index.js')).runTransform(taskId, effect.transform, input, {
                  signal: control.signal,
                });
          } else if (resolved.command) {
            // A COMMAND task: its program runs through the executor this driver was given (the edge's).
            if (!this.opts.runCommand)
              throw new NonRetryableError(
                `task ${taskId} is a COMMAND task, and this engine was given no command executor`,
                'LF_COMMAND_UNAVAILABLE',
              );
            output = toJson(
              await this.opts.runCommand(
                resolved.command,
                input,
                handlerContext(
                  this.opts,
                  effect,
                  fields,
                  control,
                  this.opts.definitionFile ? { definitionFile: this.opts.definitionFile } : {},
                  mask,
                ),
              ),
            );
          } else if (effect.handler === HTTP_HANDLER) {
            // An HTTP task: its request (the input, secrets put in) goes through the executor this driver was given.
            if (!this.opts.runHttp)
              throw new NonRetryableError(
                `task ${taskId} is an HTTP task, and this engine was given no HTTP executor`,
                'LF_HTTP_UNAVAILABLE',
              );
            output = toJson(
              await this.opts.runHttp(input, handlerContext(this.opts, effect, fields, control, {}, mask)),
            );
          } else if (step) {
            // A built-in failure step: this executor's own work, as a child run is (src/incidents performs it).
            if (!this.opts.failureSteps)
              throw new NonRetryableError(
                `task ${taskId} is the built-in failure step ${step}, and this engine was given nothing to perform it`,
                'LF_HANDLER_NOT_FOUND',
              );
            output = toJson(
              await this.opts.failureSteps.run(step, input, {
                runId: effect.runId,
                attempt,
                signal: control.signal,
                log: (m) => this.opts.onLog?.(instance, m),
              }),
            );
          } else {
            const handler = handlerFor(this.opts.handlers, effect.handler);
            if (!handler) {
              throw new NonRetryableError(
                `no handler named "${effect.handler}" for task ${taskId}; export it from the run's handler module (the \`handlers\` option, or the definition's handlers:)`,
                'LF_HANDLER_NOT_FOUND',
              );
            }
            output = toJson(
              await handler(input, handlerContext(this.opts, effect, fields, control, { task: effect.task }, mask)),
            );
          }
          output = mask.value(output);
          if (effect.outputTo !== undefined && this.opts.writeOutput)
            await this.opts.writeOutput(effect.outputTo, output);
          return { output };
        } catch (err) {
          return { error: mask.value(toTaskError(err)) };
        }
      },
      false,
    );
  }
}
