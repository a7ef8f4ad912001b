/**
 * FORK_DYNAMIC in the fold (definition/fork-dynamic.ts): a MAP whose items are its branches. What differs from a MAP is
 * here: the items are the checked branch list (each item's value a ForkBranch: its id, type, handler or workflow and
 * input), the output is keyed by branch id, a failure names the branch, and a JOIN on it takes its branches' outputs
 * as its own. The list is resolved once, when the task starts, from what the run recorded (the outputs its templates
 * read), and kept in the run's state: a replay resolves the same list from the same events.
 */
import { isDynamicFork, parseBranches, type ForkBranch, type MapTask, type TaskDef } from '../definition/index.js';
import type { TaskError } from '../events/index.js';
import { resolveTemplate, type Scope } from '../expressions/index.js';
import type { ItemState, TaskState } from './context.js';
import { dictionaryOf } from './dictionary-record.js';

/** The branches a FORK_DYNAMIC starts with, or the error that fails it (no branch runs). */
export function resolveBranchItems(
  fork: MapTask & { fork: { inputs?: string } },
  scope: Scope,
): { values: ForkBranch[] } | { error: TaskError } {
  const list = resolveTemplate(fork.items, scope);
  const inputs = fork.fork.inputs !== undefined ? resolveTemplate(fork.fork.inputs, scope) : undefined;
  // An HTTP branch's request carries the fork's per-attempt timeout, as an HTTP task's does.
  const r = parseBranches(fork.id, list, inputs, fork.timeoutMs);
  if ('branches' in r) return { values: r.branches };
  return { error: { code: 'LF_FORK_BRANCHES_INVALID', retryable: false, message: r.message } };
}

/** The branch an item of a FORK_DYNAMIC runs (its value, as resolveBranchItems made it). */
export function branchOf(item: ItemState | undefined): ForkBranch | undefined {
  return item?.value as ForkBranch | undefined;
}

/** A FORK_DYNAMIC's output: each branch's output by its id (null for one that did not complete). */
export function forkResults(items: readonly ItemState[]): Record<string, unknown> {
  return dictionaryOf(items.map((it) => [branchOf(it)!.id, it.status === 'COMPLETED' ? it.output : null] as const));
}

/** The error a failed FORK_DYNAMIC records: its list was bad, or a branch failed (the first, by its id). */
export function forkFailure(fork: MapTask, t: TaskState): TaskError {
  if (t.error !== null && t.error.code === 'LF_FORK_BRANCHES_INVALID') return t.error;
  const items = t.items ?? [];
  const failed = items.filter((it) => it.status === 'FAILED' || it.status === 'TIMED_OUT');
  const first = failed[0];
  return {
    code: 'LF_FORK_BRANCH_FAILED',
    retryable: false,
    message: `${failed.length} of ${items.length} branches of FORK_DYNAMIC task ${fork.id} failed; first ${branchOf(first)?.id ?? '?'}: ${first?.error?.message ?? first?.status ?? ''}`,
  };
}

/**
 * A JOIN's output: each task it joins on by id, its output; a FORK_DYNAMIC's branches instead of the fork, each by its
 * branch id (as Conductor's JOIN after a dynamic fork). Null when the JOIN joins no dynamic fork: the caller's own.
 */
export function joinOverForks(
  joinOn: readonly string[],
  lookup: (id: string) => TaskDef | undefined,
  tasks: Readonly<Record<string, TaskState>>,
): Record<string, unknown> | null {
  if (!joinOn.some((j) => isForkTask(lookup(j)))) return null;
  const entries: [string, unknown][] = [];
  for (const j of joinOn) {
    if (isForkTask(lookup(j))) entries.push(...Object.entries((tasks[j]?.output ?? {}) as Record<string, unknown>));
    else entries.push([j, tasks[j]?.output ?? null]);
  }
  return dictionaryOf(entries);
}

const isForkTask = (t: TaskDef | undefined): boolean => t !== undefined && isDynamicFork(t);

/** The branch an instance of a task runs, when the task is a FORK_DYNAMIC and the instance one of its items. */
export function forkBranchAt(
  def: TaskDef,
  tasks: Readonly<Record<string, TaskState>>,
  item: number | undefined,
): ForkBranch | undefined {
  if (item === undefined || !isDynamicFork(def)) return undefined;
  return branchOf(tasks[def.id]?.items?.[item]);
}
