/**
 * Action implementations for a compiled definition: what a transition does to the context. Every one is a pure function
 * of (context, event, params): no clock, no randomness, no I/O. An action returns the part of the context it changes
 * (what an XState `assign` takes); machine.ts wraps each in `assign`, the interpreter merges it itself. Neither ever
 * mutates the previous context (snapshots share objects with their predecessors).
 *
 * Here: the actions of a task's own attempts, decisions, approvals, SET and TERMINATE, and the run's pause; the loop,
 * MAP and WAIT groups and the run's end have files of their own (loop-actions.ts, map-actions.ts, wait-actions.ts,
 * run-end.ts), all built from action-kit.ts.
 */
import type { Definition, TaskDef } from '../definition/index.js';
import type { TaskError } from '../events/index.js';
import type { TaskState } from './context.js';
import { resolveTemplate } from '../expressions/index.js';
import { retryDelayAfter } from './backoff.js';
import { childRunId } from './children.js';
import { decide } from './decision.js';
import { taskState as state, type ImplementationArgs as Args, type TaskParams as P } from './implementation-args.js';
import { scopeOf } from './scope.js';
import { searchAfterSet } from './search.js';
import { dictionaryOf } from './dictionary-record.js';
import { joinOverForks } from './fork-dynamic.js';
import {
  actionKit,
  attemptError,
  definedOnly,
  hasRuns,
  nowOf,
  settledNow,
  stamped,
  withoutReleased,
  withoutRuns,
  withoutTimers,
} from './action-kit.js';
import { nowMs, timersMovedOn } from './queued-hold.js';
import { loopActions } from './loop-actions.js';
import { mapActions } from './map-actions.js';
import { finishAction } from './run-end.js';
import { waitActions } from './wait-actions.js';

export function actionsFor(def: Definition) {
  const kit = actionKit(def);
  const { task, putTask, withTask, iterationOf, armTimer } = kit;
  // A DECISION settles at once: the case it chose and the tasks that routes to are its output, or (decisionFails) its error is.
  const decided = (failed: boolean) =>
    stamped(({ context, event }: Args, p: P) => {
      const r = decide(def, task(p.task) as Extract<TaskDef, { type: 'DECISION' }>, context);
      const now = nowOf(context, event);
      const decision = { case: r.case, value: r.value ?? null, next: r.next };
      const rest = failed ? { error: r.error, decision } : { output: { ...decision }, decision };
      return { tasks: withTask(context, p.task, settledNow(p.status!, now, rest)) };
    });
  return {
    ...loopActions(kit),
    ...mapActions(kit),
    skip: stamped(({ context }: Args, p: P) => ({ tasks: withTask(context, p.task, { status: p.status! }) })),
    schedule: stamped(({ context }: Args, p: P) => ({ tasks: withTask(context, p.task, { status: p.status! }) })),
    taskStarted: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      const attempt = event.attempt!;
      const t = task(p.task);
      // A new attempt has not been restarted: the count belongs to the attempt before.
      const before = state(context, p.task);
      // `{ ...before (without restarts), status, attempts, startedAt, (child) }`, stored key by key into a clone: the
      // same object, where a rest pattern and a spread of a conditional literal were copied by the runtime.
      const next: TaskState = hasRuns(before) ? withoutRuns(before) : { ...before };
      next.status = p.status!;
      next.attempts = attempt;
      next.startedAt = before.startedAt ?? now;
      // A reused SUB_WORKFLOW (retry from failed) starts no child run: its output is the retried run's.
      if (t.type === 'SUB_WORKFLOW' && event.reused === undefined)
        next.child = childRunId(context.runId, { task: p.task, ...iterationOf(context, p.task) }, attempt);
      return {
        tasks: putTask(context, p.task, next),
        timers: armTimer(context, 'timeout', p.task, attempt, now, t.timeoutMs),
      };
    }),
    /** The attempt runs again after it was lost: same attempt, its timeout counted from now (downtime is not attempt time). */
    taskRestarted: stamped(({ context, event }: Args, p: P) => ({
      // A run given back (task.released) is taken up: the mark goes, its count stays (restarts.ts reads both).
      tasks: state(context, p.task).released
        ? putTask(context, p.task, { ...withoutReleased(state(context, p.task)), restarts: event.restart! })
        : withTask(context, p.task, { restarts: event.restart! }),
      timers: armTimer(context, 'timeout', p.task, event.attempt!, nowOf(context, event), task(p.task).timeoutMs),
    })),
    /** The attempt's run was given back by a clean stop: still in flight, its timeout armed as it was, its restart not a loss. */
    taskReleased: stamped(({ context }: Args, p: P) => ({
      tasks: withTask(context, p.task, { released: true, releases: (state(context, p.task).releases ?? 0) + 1 }),
    })),
    taskCompleted: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        output: event.output ?? null,
        error: null,
        completedAt: nowOf(context, event),
      }),
      timers: withoutTimers(context, p.task),
    })),
    taskRetrying: stamped(({ context, event }: Args, p: P) => {
      const attempt = state(context, p.task).attempts;
      const error = attemptError(event, attempt, true, task(p.task).timeoutMs);
      const delay = retryDelayAfter(task(p.task).retry, error, attempt, context.runId, p.task);
      return {
        tasks: withTask(context, p.task, { status: p.status!, error }),
        timers: armTimer(
          context,
          'backoff',
          p.task,
          attempt,
          nowOf(context, event),
          delay,
          undefined,
          withoutTimers(context, p.task),
        ),
      };
    }),
    taskFailed: stamped(({ context, event }: Args, p: P) => {
      const error = attemptError(event, state(context, p.task).attempts, false, task(p.task).timeoutMs);
      return {
        tasks: withTask(context, p.task, { status: p.status!, error, completedAt: nowOf(context, event) }),
        timers: withoutTimers(context, p.task),
      };
    }),
    backoffElapsed: stamped(({ context }: Args, p: P) => ({
      tasks: withTask(context, p.task, { status: p.status! }),
      timers: withoutTimers(context, p.task),
    })),
    decide: decided(false),
    decisionFailed: decided(true),
    completeInstantly: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task);
      const now = nowOf(context, event);
      const output =
        t.type === 'JOIN'
          ? (joinOverForks(t.joinOn, task, context.tasks) ??
            dictionaryOf(t.joinOn.map((j) => [j, context.tasks[j]?.output ?? null] as const)))
          : {};
      return { tasks: withTask(context, p.task, settledNow(p.status!, now, { output })) };
    }),
    unsupported: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        completedAt: nowOf(context, event),
        error: {
          code: 'LF_UNSUPPORTED_TASK_TYPE',
          retryable: false,
          message: `task ${p.task} has type ${task(p.task).type}, which does not run yet in this version of ledgerflow`,
        },
      }),
    })),
    awaitApproval: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      return {
        tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now }),
        timers: armTimer(context, 'approval_timeout', p.task, 1, now, task(p.task).timeoutMs),
      };
    }),
    approvalDecided: stamped(({ context, event }: Args, p: P) => {
      const approved = event.type.startsWith('approval.approved.');
      const decision = { decision: approved ? 'approved' : 'rejected', by: event.by, comment: event.comment ?? null };
      return {
        tasks: withTask(context, p.task, {
          status: p.status!,
          completedAt: nowOf(context, event),
          decidedBy: event.by,
          output: decision,
          error: approved
            ? null
            : {
                code: 'REJECTED',
                retryable: false,
                message: `rejected by ${event.by}${event.comment ? `: ${event.comment}` : ''}`,
              },
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
    approvalTimedOut: stamped(({ context, event }: Args, p: P) => {
      const status = p.status!;
      const ms = task(p.task).timeoutMs;
      const error: TaskError | null =
        status === 'TIMED_OUT' || status === 'FAILED'
          ? {
              code: status === 'FAILED' ? 'REJECTED' : 'TIMED_OUT',
              retryable: false,
              message: `no decision within ${ms} ms`,
            }
          : null;
      return {
        tasks: withTask(context, p.task, {
          status,
          completedAt: nowOf(context, event),
          error,
          decidedBy: 'timeout',
          output: status === 'COMPLETED' ? { decision: 'approved', by: 'timeout', comment: null } : null,
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
    ...waitActions(kit),
    /** SET: the values, resolved now, merged into the run's variables; the task's output is the values set. */
    setValues: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as Extract<TaskDef, { type: 'SET' }>;
      const now = nowOf(context, event);
      const values = definedOnly(resolveTemplate(t.values, scopeOf(context)) ?? {}) as Record<string, unknown>;
      // Search attributes read the context before this SET's values, as its values do.
      const search = searchAfterSet(def, t.search, context);
      return {
        tasks: withTask(context, p.task, settledNow(p.status!, now, { output: values })),
        variables: { ...(context.variables ?? {}), ...values },
        ...(search !== undefined ? { search } : {}),
      };
    }),
    /** TERMINATE: records { status, reason }; the parallel state's always then ends the run (terminatedCompleted / terminatedFailed). */
    terminate: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as Extract<TaskDef, { type: 'TERMINATE' }>;
      const now = nowOf(context, event);
      const reason = t.reason === undefined ? null : definedOnly(resolveTemplate(t.reason, scopeOf(context)));
      const output = { status: t.status, reason: reason ?? null };
      return { tasks: withTask(context, p.task, settledNow(p.status!, now, { output })) };
    }),
    // A queued run (run.queued) is paused until run.admitted; `queued` is set only then, so other runs' contexts are as
    // they were. One queued with `holds` (every start since 2026-11-23) also records when, so its admission can move
    // its timers on.
    pauseRun: stamped(({ context, event }: Args) => {
      const e = event as { queued?: boolean; holds?: boolean };
      if (e.queued !== true) return { paused: true };
      return e.holds === true
        ? { paused: true, queued: true, heldSince: nowMs(context, event) }
        : { paused: true, queued: true };
    }),
    resumeRun: stamped(({ context, event }: Args) => {
      if (context.queued !== true) return { paused: false };
      if (context.heldSince === undefined) return { paused: false, queued: false };
      return {
        paused: false,
        queued: false,
        heldSince: undefined,
        timers: timersMovedOn(context.timers, nowMs(context, event) - context.heldSince),
      };
    }),
    finish: finishAction(kit),
  };
}

/**
 * Every action but finish changes only its own task in the context (and the timers and updatedAt, which no guard that
 * declares its reads reads). finish ends the run: it never runs inside the parallel state.
 */
export function actionWritesFor() {
  const own = ({ task }: P): readonly string[] => [task];
  return {
    skip: own,
    schedule: own,
    taskStarted: own,
    taskCompleted: own,
    taskRetrying: own,
    taskFailed: own,
    backoffElapsed: own,
    decide: own,
    decisionFailed: own,
    completeInstantly: own,
    unsupported: own,
    awaitApproval: own,
    approvalDecided: own,
    approvalTimedOut: own,
    taskRestarted: own,
    taskReleased: own,
    startWaiting: own,
    waitUntilFailed: own,
    waitElapsed: own,
    keepSignal: own,
    signalReceived: own,
    waitTimedOut: own,
    // The variables SET writes are read by templates (actions) and by guards that declare nothing (decisionFails).
    setValues: own,
    terminate: own,
    // paused is read by no guard of a region (only by isPaused / notPaused, on the parallel state).
    pauseRun: () => [],
    resumeRun: () => [],
    startLoop: own,
    nextIteration: own,
    loopDone: own,
    loopFailed: own,
    iterationReset: own,
    mapStart: own,
    itemStarted: own,
    itemRestarted: own,
    itemReleased: own,
    itemCompleted: own,
    itemRetrying: own,
    itemFailed: own,
    itemTimedOut: own,
    itemBackoffElapsed: own,
    mapCompleted: own,
    mapFailed: own,
    mirrorMap: own,
  } satisfies Record<Exclude<keyof ReturnType<typeof actionsFor>, 'finish'>, unknown>;
}
