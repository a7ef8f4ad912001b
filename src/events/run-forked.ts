/**
 * The data of `run.forked` (docs/runs.md#forking-a-run): the audit record of a fork, in the new run's first commit right
 * after its run.started. Kept apart so the event catalogue stays small.
 */
import { z } from 'zod';

/**
 * The run this one was forked `from`, the point `at` (after event `seq` of that run; `task`: the task `--at` named,
 * which starts again here) and `by`: who forked it. It changes nothing in the run's state: what the fold reuses stays in
 * run.started's source.forked, so folding the run needs its first event only.
 */
export const RunForkedData = z.object({
  from: z.string().min(1),
  at: z.object({ seq: z.number().int().positive(), task: z.string().min(1).optional() }),
  by: z.string().max(200).optional(),
});
