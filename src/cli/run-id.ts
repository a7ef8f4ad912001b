/** Run ids given on the command line, checked before any store is opened. */
import { z } from 'zod';
import { UsageError } from '../errors/index.js';

/**
 * The store's rule (a run id becomes a file name and a NATS subject token):
 * engine ids (`20261121-071258-…`), trigger ids (`ev-<hex>`) and nanoid/uuid
 * ids given to the library all fit; `..`, `/`, `.`, `*`, `>` and spaces never do.
 */
const RunIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

/** A commander argument parser: a UsageError here is exit 2 (and `{"error": …}` with --json). */
export function runIdArg(value: string): string {
  if (RunIdSchema.safeParse(value).success) return value;
  throw new UsageError(`invalid run id ${JSON.stringify(value)}: a run id has 1-128 characters among A-Z a-z 0-9 _ - (as \`ledgerflow list\` prints them)`, { runId: value });
}
