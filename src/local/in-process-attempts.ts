/**
 * The attempts a RunDriver runs in this process, the in-process transport of the executor's last phase: a handler (or a
 * COMMAND task's program, a TRANSFORM task's jq) run here, a child run started and driven here (SUB_WORKFLOW, failure
 * workflow), an event emitted (EMIT). Each outcome goes back into the loop as an input (task.completed, task.failed);
 * an attempt aborted meanwhile (timed out, cancelled, the engine stopped) reports nothing.
 *
 * Also what this process holds, for the core's reconcile to compare with the state: the attempts in flight, those
 * another process took over, and child runs left waiting on the outside world. What a handler is handed is
 * executor/run-handler.ts; which attempts are held for file agents, file-agent-holds.ts; failure workflows,
 * failure-workflows.ts.
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
import { failureStepOf } from '../definition/index.js';
import type { PendingEvent, TaskError } from '../events/index.js';
import {
  toTaskError,
  type AbortAttempt,
  type EmitEvent,
  type HeldAttempt,
  type RunSnapshot,
  type StartAttempt,
  type StartChild,
} from '../runtime/index.js';
import {
  AttemptControl,
  outcomeEvent,
  runHandler,
  toJson,
  usePayloads,
  type HandlerRunners,
} from '../executor/index.js';
import type { DriverOptions } from './driver-options.js';
import { FailureWorkflows } from './failure-workflows.js';
import { heldForFileAgent } from './file-agent-holds.js';
import { defaultSecrets } from '../secrets/index.js';

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
   * Attempts another writer restarted (task.restarted in its commits) while this driver ran them: that writer runs them
   * now, so this one stops its own run of each and does not start another. Counted as held by reconcile.
   */
  private readonly takenOver = new Map<string, Held>();
  /**
   * Child runs this driver left waiting on the outside world (an approval): held, so reconcile does not
   * start them again while this driver runs; a later resume asks again (a settled child reports at once).
   */
  private readonly waitingChildren = new Map<string, Held>();
  /** What this driver runs handlers with (executor/run-handler.ts): the edge's executors, its secrets, where output_to goes. */
  private readonly runners: HandlerRunners;
  /** The failed runs' failure workflows started and driven here (failure-workflows.ts). */
  private readonly failureWorkflows: FailureWorkflows;
  /** Work of the executor's own in progress (child runs, EMITs, failure workflows), aborted or not. */
  sideWork = 0;

  constructor(
    private readonly opts: DriverOptions,
    private readonly host: AttemptsHost,
  ) {
    this.failureWorkflows = new FailureWorkflows(opts);
    // Large payloads: read through the store's blobs by templates, handed to handlers as values, outputs kept apart.
    const blobs = opts.store.blobs?.();
    usePayloads(blobs);
    this.runners = {
      ...(blobs ? { blobs } : {}),
      handlers: opts.handlers,
      commands: opts.runCommand,
      http: opts.runHttp,
      secrets: () => opts.secrets ?? defaultSecrets(),
      writeOutput: opts.writeOutput,
      log: (a, line) => opts.onLog?.(a.instance, line),
      refusal: (missing, { taskId, handler }) =>
        missing === 'COMMAND'
          ? `task ${taskId} is a COMMAND task, and this engine was given no command executor`
          : missing === 'HTTP'
            ? `task ${taskId} is an HTTP task, and this engine was given no HTTP executor`
            : `no handler named "${handler}" for task ${taskId}; export it from the run's handler module (the \`handlers\` option, or the definition's handlers:)`,
      definitionFile: opts.definitionFile,
      ...(opts.progress ? { progress: opts.progress } : {}),
    };
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

  /**
   * The attempts this process runs (not those held for file agents, which the agent still has), as a clean stop gives
   * them back (task.released): the next driver restarts them without counting a loss.
   */
  givenBack(time: string): PendingEvent[] {
    const events: PendingEvent[] = [];
    for (const [key, c] of this.inflight) {
      if (this.forAgents.has(key)) continue;
      const data = { task: c.ref.task, attempt: c.attempt, ...instanceFields(c.ref), restart: c.restart };
      events.push({ type: 'task.released', time, data });
    }
    return events;
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
        detached: {
          began: () => this.sideWork++,
          ended: () => {
            this.sideWork--;
            this.host.changed();
          },
        },
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
    work: (control: AttemptControl) => Promise<{ output: unknown } | { error: TaskError } | 'waiting' | null>,
    side = true,
  ): void {
    const control = new AttemptControl(attempt, restart, ref);
    this.inflight.set(key, control);
    if (side) this.sideWork++;
    void (async () => {
      const r = await work(control).catch((err: unknown) => ({ error: toTaskError(err) }));
      if (side) this.sideWork--;
      if (control.aborted) {
        // Withdrawn work reports nothing, but a child run or EMIT that failed to be withdrawn (its child not cancelled) is told.
        if (side && control.cancelled && r !== null && r !== 'waiting' && 'error' in r)
          this.opts.onLog?.(key, `withdrawing attempt ${attempt} of ${ref.task} failed: ${r.error.message}`);
        if (side) this.host.changed();
        return;
      }
      if (this.inflight.get(key) === control) this.inflight.delete(key);
      // null only when aborted (above): the shared runner's word for it.
      if (r !== 'waiting' && r !== null)
        return this.host.submit(outcomeEvent(ref, attempt, r, iso(this.opts.clock.now())));
      this.waitingChildren.set(key, { attempt, restart, ref });
      this.host.changed();
    })();
  }

  /** Runs one attempt in-process (executor/run-handler.ts, as a worker does) and feeds its outcome back in; an aborted attempt reports nothing. */
  invoke(effect: StartAttempt): void {
    const { taskId, attempt, instance } = effect;
    const fields = instanceFields(effect);
    if (heldForFileAgent(effect, this.opts, this.host, this.forAgents)) {
      this.inflight.set(instance, new AttemptControl(attempt, effect.restart, { task: taskId, ...fields }));
      return;
    }
    const step = effect.command || effect.transform ? null : failureStepOf(effect.handler);
    const { transform } = effect;
    this.perform(
      { task: taskId, ...fields },
      instance,
      attempt,
      effect.restart,
      (control) =>
        runHandler(effect, control, this.runners, {
          // A TRANSFORM task: its jq (or script) runs here, in this process (src/transform/, loaded on the first one), unless the driver was given a runner.
          own: transform
            ? async (input) =>
                this.opts.runTransform
                  ? this.opts.runTransform('js' in transform ? transform.js : transform.jq, input, {
                      taskId,
                      attempt,
                      ...fields,
                      get signal() {
                        return control.signal;
                      },
                    })
                  : (await import('../transform/index.js')).runTransform(taskId, transform, input, {
                      signal: control.signal,
                    })
            : // A built-in failure step: this executor's own work, as a child run is (src/incidents performs it).
              step &&
              (async (input) => {
                if (!this.opts.failureSteps)
                  throw new NonRetryableError(
                    `task ${taskId} is the built-in failure step ${step}, and this engine was given nothing to perform it`,
                    'LF_HANDLER_NOT_FOUND',
                  );
                return this.opts.failureSteps.run(step, input, {
                  runId: effect.runId,
                  attempt,
                  signal: control.signal,
                  log: (m) => this.opts.onLog?.(instance, m),
                });
              }),
        }),
      false,
    );
  }
}
