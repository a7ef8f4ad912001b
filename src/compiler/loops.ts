/**
 * DO_WHILE: what a loop does once every body task of its current iteration has settled. Pure; the guards (loopFails,
 * loopRepeats, loopEnds) and the actions that follow them (loopFailed, nextIteration, loopDone) ask the same question
 * of the same context, so the answer is remembered per context.
 *
 * The loop's output is `{ iteration, iterations }`: `iteration` the current iteration while it runs (the number run
 * once it settled), `iterations` one entry per finished iteration, `{ <body task>: output | null }`.
 */
import type { Definition, DoWhileTask } from '../definition/index.js';
import type { TaskError } from '../events/index.js';
import { evaluateCondition } from '../expressions/index.js';
import type { RunContext } from './context.js';
import { instanceKey } from './instances.js';
import { rememberedLoopOutcome } from './loop-outcome-cache.js';
import { scopeOf } from './scope.js';
import { BlobNotLoadedError, errorMessage } from '../errors/index.js';

/** What a DO_WHILE without max_iterations allows. */
const DEFAULT_MAX_ITERATIONS = 100;

interface LoopOutput {
  iteration: number;
  iterations: Record<string, unknown>[];
}

type LoopOutcome =
  | { kind: 'fail'; error: TaskError; output: LoopOutput }
  | { kind: 'repeat'; output: LoopOutput }
  | { kind: 'end'; output: LoopOutput };

const SETTLED = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'SKIPPED']);

const loopDef = (def: Definition, id: string): DoWhileTask => def.tasks.find((t) => t.id === id) as DoWhileTask;

/** The loop's output as it started: iteration 1, none finished. */
export function loopStartOutput(): LoopOutput {
  return { iteration: 1, iterations: [] };
}

/**
 * What loop `id` does now: null while it is not looping or a body task of its current iteration has not settled there;
 * otherwise fail, repeat or end, with the output that includes the iteration just finished.
 */
export function loopOutcome(def: Definition, ctx: RunContext, id: string): LoopOutcome | null {
  // Not looping: known at once, nothing to remember.
  if (ctx.tasks[id]?.status !== 'IN_PROGRESS') return null;
  return rememberedLoopOutcome(ctx, id, () => outcome(def, ctx, id));
}

function outcome(def: Definition, ctx: RunContext, id: string): LoopOutcome | null {
  const loop = ctx.tasks[id];
  if (loop?.status !== 'IN_PROGRESS' || loop.iteration === undefined) return null;
  const t = loopDef(def, id);
  const iteration = loop.iteration;
  const entry: Record<string, unknown> = {};
  for (const b of t.loopOver) {
    const s = ctx.tasks[b];
    if (!s || (s.iteration ?? 1) !== iteration || !SETTLED.has(s.status)) return null;
    entry[b] = s.status === 'COMPLETED' ? s.output : null;
  }
  const before = (loop.output as LoopOutput | null)?.iterations ?? [];
  const output: LoopOutput = { iteration, iterations: [...before, entry] };
  // A required body task that failed in this iteration fails the loop (the first in loop_over order).
  for (const b of t.loopOver) {
    const s = ctx.tasks[b]!;
    const optional = def.tasks.find((x) => x.id === b)?.optional ?? false;
    if (!optional && (s.status === 'FAILED' || s.status === 'TIMED_OUT')) {
      const e = s.error ?? { code: s.status, retryable: false, message: s.status.toLowerCase() };
      return {
        kind: 'fail',
        output,
        error: {
          ...e,
          message: `${instanceKey({ task: b, iteration })} ${s.status === 'TIMED_OUT' ? 'timed out' : 'failed'}: ${e.message}`,
        },
      };
    }
  }
  // The condition sees the loop's output with this iteration in it: `${loop.output.iteration}` is the number run.
  const scope = scopeOf(ctx);
  scope.tasks[id] = { ...scope.tasks[id]!, output };
  let holds: boolean;
  try {
    holds = evaluateCondition(t.loopCondition, scope);
  } catch (err) {
    // A large payload not loaded yet is no failure of the run: the executor loads it and evaluates again.
    if (err instanceof BlobNotLoadedError) throw err;
    return {
      kind: 'fail',
      output,
      error: {
        code: 'LF_LOOP_CONDITION',
        retryable: false,
        message: `loop ${id}: loop_condition could not be evaluated after iteration ${iteration}: ${errorMessage(err)}`,
      },
    };
  }
  if (!holds) return { kind: 'end', output };
  const max = t.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  if (iteration >= max) {
    return {
      kind: 'fail',
      output,
      error: {
        code: 'LF_LOOP_LIMIT',
        retryable: false,
        message: `loop ${id} reached max_iterations (${max}) with loop_condition still true`,
      },
    };
  }
  return { kind: 'repeat', output: { iteration: iteration + 1, iterations: output.iterations } };
}
