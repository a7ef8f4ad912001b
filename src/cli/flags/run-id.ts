/** Run ids given on the command line, checked before any store is opened. */
import { RunIdSchema } from '../../events/index.js';
import { UsageError } from '../../errors/index.js';
import type { IdReusePolicy } from '../../definition/index.js';
import { checkCallerRunId, checkIdReuse } from '../../executor/index.js';

/** A commander argument parser: a UsageError here is exit 2 (and `{"error": …}` with --json). */
export function runIdArg(value: string): string {
  if (RunIdSchema.safeParse(value).success) return value;
  throw new UsageError(
    `invalid run id ${JSON.stringify(value)}: a run id has 1-128 characters among A-Z a-z 0-9 _ - (as \`ledgerflow list\` prints them)`,
    { runId: value },
  );
}

/** `--id` / `--id-reuse` of `run` and `start`, checked before anything is written (exit 2). */
export function callerIdFlags(opts: { id?: string; idReuse?: string }): { runId?: string; idReuse?: IdReusePolicy } {
  if (opts.id === undefined) {
    if (opts.idReuse !== undefined)
      throw new UsageError('--id-reuse needs --id <id>: it says when that id may start a new run', {
        option: '--id-reuse',
      });
    return {};
  }
  const idReuse = checkIdReuse(opts.idReuse, '--id-reuse');
  return { runId: checkCallerRunId(opts.id, '--id'), ...(idReuse ? { idReuse } : {}) };
}
