/**
 * Which case a DECISION chooses: the first case whose name equals the value of `decision_param` (and whose condition,
 * if any, holds), else the first case with only a condition that holds, else `default`, else none (all targets are
 * skipped, as Conductor's SWITCH does). Pure: evaluated inside the fold.
 */
import type { DecisionTask, Definition } from '../definition/index.js';
import { evaluateCondition, resolveTemplate } from '../expressions/index.js';
import type { TaskError } from '../events/index.js';
import type { RunContext } from './context.js';
import { scopeOf } from './scope.js';
import { BlobNotLoadedError, errorMessage } from '../errors/index.js';

interface DecisionResult {
  case: string | null;
  value: unknown;
  next: string[];
  error: TaskError | null;
}

export function decide(def: Definition, task: DecisionTask, ctx: RunContext): DecisionResult {
  // Told by a reader without the data key (RunContext.decided): the case, not its values (the value is unknown: null).
  const told = ctx.decided?.[task.id];
  if (told !== undefined) {
    const c = told === null || told === 'default' ? undefined : task.cases.find((x) => x.name === told);
    const next = c ? c.next : told === 'default' ? (task.defaultNext ?? []) : [];
    return {
      case: c ? c.name : told === 'default' && task.defaultNext ? 'default' : null,
      value: null,
      next,
      error: null,
    };
  }
  const scope = scopeOf(ctx);
  let value: unknown = null;
  try {
    value = task.decisionParam === undefined ? null : resolveTemplate(task.decisionParam, scope);
    const holds = (condition: string | undefined) => condition === undefined || evaluateCondition(condition, scope);
    const byValue =
      task.decisionParam === undefined
        ? undefined
        : task.cases.find((c) => c.name === String(value) && holds(c.condition));
    const byCondition =
      byValue ??
      task.cases.find(
        (c) =>
          c.condition !== undefined &&
          (task.decisionParam === undefined || c.name !== String(value)) &&
          holds(c.condition),
      );
    const chosen = byValue ?? byCondition;
    const result: DecisionResult = chosen
      ? { case: chosen.name, value, next: chosen.next, error: null }
      : task.defaultNext
        ? { case: 'default', value, next: task.defaultNext, error: null }
        : { case: null, value, next: [], error: null };
    const known = new Set(def.tasks.map((t) => t.id));
    const unknown = result.next.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      result.error = {
        code: 'LF_UNKNOWN_TASK',
        retryable: false,
        message: `decision ${task.id} chose case ${result.case} (value ${JSON.stringify(value)}), which routes to unknown task${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}`,
      };
    }
    return result;
  } catch (err) {
    // A large payload not loaded yet is no failure of the run: the executor loads it and evaluates again.
    if (err instanceof BlobNotLoadedError) throw err;
    return {
      case: null,
      value,
      next: [],
      error: {
        code: 'LF_DECISION_FAILED',
        retryable: false,
        message: `decision ${task.id} could not be evaluated: ${errorMessage(err)}`,
      },
    };
  }
}
