/**
 * The actions of a DO_WHILE's region and its body tasks' iterations (regions.ts): starting the loop, moving to the next
 * iteration, ending it. One group of actionsFor (actions.ts), apart so a loop's writes read on their own.
 */
import type { RunContext } from './context.js';
import { taskState as state, type ImplementationArgs as Args, type TaskParams as P } from './implementation-args.js';
import { loopOutcome, loopStartOutput } from './loops.js';
import { nowOf, stamped, withoutRuns, withoutTimers, type ActionKit } from './action-kit.js';

export function loopActions({ def, loops, putTask, withTask }: ActionKit) {
  /** The loop's outcome, which the guard that chose this transition has just worked out on the same context. */
  const outcomeNow = (ctx: RunContext, id: string) => {
    const o = loopOutcome(def, ctx, id);
    if (!o) throw new Error(`loop ${id} has not finished an iteration`);
    return o;
  };
  return {
    /** DO_WHILE starts its first iteration: it runs no attempt of its own (attempts 0), its body tasks do. */
    startLoop: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        attempts: 0,
        iteration: 1,
        startedAt: nowOf(context, event),
        output: loopStartOutput(),
      }),
    })),
    nextIteration: stamped(({ context }: Args, p: P) => {
      const { output } = outcomeNow(context, p.task);
      return { tasks: withTask(context, p.task, { iteration: output.iteration, output }) };
    }),
    loopDone: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        output: outcomeNow(context, p.task).output,
        completedAt: nowOf(context, event),
      }),
    })),
    loopFailed: stamped(({ context, event }: Args, p: P) => {
      const o = outcomeNow(context, p.task);
      return {
        tasks: withTask(context, p.task, {
          status: p.status!,
          output: o.output,
          error: o.kind === 'fail' ? o.error : null,
          completedAt: nowOf(context, event),
        }),
      };
    }),
    /** A body task starts its loop's next iteration: attempts counted afresh, its last output kept (`${body.output}` is the latest). */
    iterationReset: stamped(({ context }: Args, p: P) => {
      const { decision: _d, decidedBy: _b, ...rest } = withoutRuns(state(context, p.task));
      return {
        tasks: putTask(context, p.task, {
          ...rest,
          status: p.status!,
          attempts: 0,
          startedAt: null,
          completedAt: null,
          error: null,
          iteration: context.tasks[loops.get(p.task)!]!.iteration!,
        }),
        timers: withoutTimers(context, p.task),
      };
    }),
  };
}
