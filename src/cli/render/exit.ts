/**
 * Exit codes, in one place. 0 COMPLETED, 1 FAILED/CANCELLED/divergence, 2 bad usage, invalid definition or a store that
 * cannot be used (a path that is a file, a disk full: nothing recorded), 3 WAITING, 130 stopped by Ctrl-C (128 +
 * SIGINT, as shells report it) with the run left in the log for `resume`. Light on purpose (errors/ and commander,
 * which main.ts loads anyway): main.ts imports it for every command, `--version` included.
 */
import { CommanderError } from 'commander';
import { ERROR_KINDS, LedgerflowError, kindOf, natsFailure } from '../../errors/index.js';
import type { WorkflowStatus } from '../../events/index.js';
import { inertLines } from '../../terminal/index.js';
import { inCliTerms } from '../flags/flag-forms.js';
import type { Io } from './io.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, waiting: 3, interrupted: 130 } as const;

/** 2 when the caller can fix what it asked (the error's kind: src/errors/codes.ts), else 1. */
export function exitCodeForError(err: unknown): number {
  return err instanceof LedgerflowError ? ERROR_KINDS[err.kind].exit : EXIT.failed;
}

export function exitCodeForStatus(status: WorkflowStatus): number {
  switch (status) {
    case 'COMPLETED':
      return EXIT.ok;
    case 'FAILED':
    case 'CANCELLED':
      return EXIT.failed;
    // A damaged log (status, watch): nothing drives it, and it is not done.
    case 'DAMAGED' as WorkflowStatus:
      return EXIT.failed;
    default:
      return EXIT.waiting;
  }
}

/** The worst of several runs' outcomes: failed or cancelled, else waiting or paused, else completed. */
export function worstExitCode(statuses: WorkflowStatus[]): number {
  const codes = statuses.map(exitCodeForStatus);
  return codes.includes(EXIT.failed) ? EXIT.failed : codes.includes(EXIT.waiting) ? EXIT.waiting : EXIT.ok;
}

/**
 * What a command threw, reported (on stderr; with --json also `{"error": …}` on stdout) and turned into the exit code.
 * Help and version are not errors; everything else commander rejects is bad usage.
 */
export function exitCodeForThrown(thrown: unknown, io: Io, wantsJson: boolean): number {
  const err = inCliTerms(thrown);
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  const nats = natsFailure(err);
  if (nats) {
    if (wantsJson) io.out(JSON.stringify({ error: { code: nats.code, message: nats.message } }, null, 2));
    io.err(`error: ${inertLines(nats.message)}`);
    return ERROR_KINDS[kindOf(nats.code)].exit;
  }
  if (wantsJson && err instanceof LedgerflowError) io.out(JSON.stringify({ error: err.toJSON() }, null, 2));
  // A message may quote what a user or a run supplied: shown inert (a message listing problems keeps its lines, indented).
  io.err(`error: ${inertLines(err instanceof Error ? err.message : String(err))}`);
  if (!(err instanceof LedgerflowError) && err instanceof Error && err.stack) io.err(err.stack);
  return exitCodeForError(err);
}
