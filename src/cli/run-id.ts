/** Run ids given on the command line, checked before any store is opened. */
import { RunIdSchema } from '../events/index.js';
import { UsageError } from '../errors/index.js';

/** A commander argument parser: a UsageError here is exit 2 (and `{"error": …}` with --json). */
export function runIdArg(value: string): string {
  if (RunIdSchema.safeParse(value).success) return value;
  throw new UsageError(`invalid run id ${JSON.stringify(value)}: a run id has 1-128 characters among A-Z a-z 0-9 _ - (as \`ledgerflow list\` prints them)`, { runId: value });
}
