/**
 * The load-time checks of a FORK_DYNAMIC (fork-dynamic.ts): it needs `branches`; a handler or input of its own means
 * nothing (each branch brings its own). The list itself is only known when the task starts: parseBranches checks it then.
 */
import type { CheckContext } from './context.js';
import type { RawPath } from './issues.js';
import type { MapTask } from './task-types.js';

export function checkForkDynamic(ctx: CheckContext, t: MapTask, raw: Record<string, unknown>, p: RawPath): void {
  // `branches:` that is no text is the schema's error already.
  if (!t.items && raw.branches === undefined)
    ctx.error(
      'LF_MISSING_FIELD',
      `FORK_DYNAMIC task ${t.id} needs branches (a template giving the list of branches, e.g. "\${plan.output.branches}")`,
      p,
    );
  for (const key of ['handler', 'input'] as const) {
    if (raw[key] === undefined) continue;
    ctx.warn(
      'LF_FIELD_IGNORED',
      `${key} is ignored on FORK_DYNAMIC task ${t.id}: each branch brings its own (${key === 'handler' ? 'handler or workflow' : 'input, or inputs: by branch id'})`,
      [...p, key],
      { onKey: true },
    );
  }
}
