/**
 * Which of a fork's candidate outputs the new run really reuses (docs/runs.md#forking-a-run). retryPlan (retry.ts)
 * takes the tasks the fold settles itself (DECISION, SET, …) to settle as they did, which holds for a retry (the same
 * input and definition) but not for a fork: with another input, or another version, a DECISION may pick another case,
 * and then a task it chose in the original is skipped, or a task downstream of one that runs again is reached later.
 * Recording such a task as reused made `fork`, `status` and `history` name it reused when the fork skipped it (and a
 * task reached later would have been completed with an output its changed upstream never gave).
 *
 * So the fork's start is folded here with the candidates, as its start commit will fold it (the same fold and step), and
 * a candidate is kept only when it completes there as reused and each task it depends on is kept too or ends there as
 * it did in the original (status, output and a DECISION's case). Folded again without the ones
 * dropped until none drops: a smaller set never makes another task reusable. Pure: the caller gives the time and id.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { effectiveDependencies } from '../definition/index.js';
import { canonicalJson } from '../expressions/index.js';
import { prepareCommit } from './commit.js';
import { startFold, type FoldStart, type RunSnapshot } from './fold.js';

type TaskState = RunSnapshot['context']['tasks'][string];

/** Whether a task ends in the fork as it ended in the original: the same status, output and (a DECISION) case. */
function endsAlike(now: TaskState | undefined, was: TaskState | undefined): boolean {
  if (!now || !was || now.status !== was.status) return false;
  const end = (t: TaskState) => canonicalJson([t.output ?? null, t.decision ?? null]);
  return end(now) === end(was);
}

/**
 * The candidates (`outputs`, by task id, from retryPlan over the original at the point) the fork's start reuses.
 * `start`: the fork's run.started as it will fold it (its checked input; `retryOf` is set here); `original`: the
 * original's state at the point.
 */
export function reusedAtStart(
  target: CompiledWorkflow,
  original: RunSnapshot,
  outputs: Record<string, unknown>,
  start: FoldStart & { retryOf: NonNullable<FoldStart['retryOf']> },
): Record<string, unknown> {
  const deps = effectiveDependencies(target.definition);
  const was = original.context.tasks;
  let kept = outputs;
  for (;;) {
    const first = startFold(target, { ...start, retryOf: { ...start.retryOf, outputs: kept } });
    // A start the fold refuses is refused when it is recorded (RunCannotStartError), whatever it reuses.
    if (first.status === 'error') return kept;
    const tasks = prepareCommit(target, first, 1, [], Date.parse(start.time), { startScheduled: false }).snapshot
      .context.tasks;
    const next: Record<string, unknown> = {};
    for (const [id, output] of Object.entries(kept)) {
      if (tasks[id]?.status !== 'COMPLETED') continue;
      if ((deps.get(id) ?? []).every((d) => Object.hasOwn(kept, d) || endsAlike(tasks[d], was[d]))) next[id] = output;
    }
    if (Object.keys(next).length === Object.keys(kept).length) return kept;
    kept = next;
  }
}
