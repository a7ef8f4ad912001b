/**
 * The actions of a WAIT's region (regions.ts waitRegion): waiting for a duration, a time or a signal, and what ends the
 * wait. One group of actionsFor (actions.ts), apart so a WAIT's timers and signals read on their own.
 */
import type { TaskDef } from '../definition/index.js';
import { taskState as state, type ImplementationArgs as Args, type TaskParams as P } from './implementation-args.js';
import { instanceKey } from './instances.js';
import { waitUntil } from './wait.js';
import { nowOf, plusMs, settledNow, stamped, withTimer, withoutTimers, type ActionKit } from './action-kit.js';

type WaitTaskDef = Extract<TaskDef, { type: 'WAIT' }>;

/** A loop-body WAIT's timers carry its iteration (iterationOf: so their firing is this iteration's). */
export function waitActions({ task, putTask, withTask, iterationOf, armTimer }: ActionKit) {
  return {
    /** Enters waiting: arms the `wait` timer (duration or until) or, on an event, the optional timeout. */
    startWaiting: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as WaitTaskDef;
      const now = nowOf(context, event);
      const dueAt =
        t.durationMs !== undefined
          ? plusMs(now, t.durationMs)
          : t.until !== undefined
            ? waitUntil(t, context).at
            : null;
      const timers =
        dueAt !== null
          ? withTimer(context.timers, {
              task: p.task,
              kind: 'wait',
              attempt: 1,
              dueAt,
              ...iterationOf(context, p.task),
            })
          : armTimer(context, 'timeout', p.task, 1, now, t.timeoutMs);
      return { tasks: withTask(context, p.task, { status: p.status!, attempts: 1, startedAt: now }), timers };
    }),
    waitUntilFailed: stamped(({ context, event }: Args, p: P) => {
      const now = nowOf(context, event);
      const r = waitUntil(task(p.task) as WaitTaskDef, context);
      return { tasks: withTask(context, p.task, settledNow(p.status!, now, { error: r.error })) };
    }),
    waitElapsed: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        completedAt: nowOf(context, event),
        output: {
          waitedUntil:
            context.timers[`${instanceKey({ task: p.task, ...iterationOf(context, p.task) })}/wait/1`]?.dueAt ??
            nowOf(context, event),
        },
      }),
      timers: withoutTimers(context, p.task),
    })),
    /** A signal for a WAIT not yet waiting: kept on the task, taken when it starts waiting. */
    keepSignal: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        signal: { data: event.data ?? null, ...(event.by !== undefined ? { by: event.by } : {}) },
      }),
    })),
    /** The signal (this event's, or the one kept) is the output. */
    signalReceived: stamped(({ context, event }: Args, p: P) => {
      const { signal: kept, ...before } = state(context, p.task);
      const signal = kept ?? { data: event.data ?? null, ...(event.by !== undefined ? { by: event.by } : {}) };
      return {
        tasks: putTask(context, p.task, {
          ...before,
          status: p.status!,
          completedAt: nowOf(context, event),
          output: signal.data,
          error: null,
          ...(signal.by !== undefined ? { decidedBy: signal.by } : {}),
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
    waitTimedOut: stamped(({ context, event }: Args, p: P) => {
      const t = task(p.task) as WaitTaskDef;
      const status = p.status!;
      return {
        tasks: withTask(context, p.task, {
          status,
          completedAt: nowOf(context, event),
          error:
            status === 'SKIPPED'
              ? null
              : { code: 'TIMED_OUT', retryable: false, message: `no signal "${t.event}" within ${t.timeoutMs} ms` },
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
  };
}
