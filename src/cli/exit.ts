/**
 * Exit codes, in one place. 0 COMPLETED, 1 FAILED/CANCELLED/divergence, 2 bad
 * usage, invalid definition or a store that cannot be used (a path that is a
 * file, a disk full: nothing recorded), 3 WAITING, 130 stopped by Ctrl-C
 * (128 + SIGINT, as shells report it) with the run left in the log for `resume`.
 */
import { LedgerflowError } from '../errors/index.js';
import type { WorkflowStatus } from '../events/index.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, waiting: 3, interrupted: 130 } as const;

const USAGE_CODES = new Set([
  'LF_USAGE', 'LF_INPUT_INVALID', 'LF_DEFINITION_INVALID', 'LF_RUN_NOT_FOUND', 'LF_APPROVAL_REFUSED', 'LF_SIGNAL_REFUSED',
  'LF_UNSUPPORTED_TASK_TYPE', 'LF_HANDLER_NOT_FOUND', 'LF_HANDLER_MODULE_NOT_FOUND', 'LF_HANDLER_MODULE_INVALID', 'LF_EXPRESSION_INVALID',
  'LF_EVENT_SCHEMA_INVALID', 'LF_RUN_CANNOT_START', 'LF_OUTPUT_ROOT_INVALID', 'LF_RUN_BUSY',
  'LF_DEAD_LETTER_NOT_FOUND', 'LF_DEAD_LETTER_NOT_REPLAYABLE', 'LF_PAUSE_REFUSED', 'LF_CANCEL_REFUSED', 'LF_TEMPLATE_COLLISION',
  'LF_RETRY_REFUSED', 'LF_DEFINITION_TOO_LARGE', 'LF_TOO_MANY_TASKS', 'LF_RUN_LOG_DAMAGED',
  'LF_QUERY_INVALID', 'LF_STORE_UNUSABLE',
]);

export function exitCodeForError(err: unknown): number {
  return err instanceof LedgerflowError && USAGE_CODES.has(err.code) ? EXIT.usage : EXIT.failed;
}

export function exitCodeForStatus(status: WorkflowStatus): number {
  switch (status) {
    case 'COMPLETED': return EXIT.ok;
    case 'FAILED': case 'CANCELLED': return EXIT.failed;
    default: return EXIT.waiting;
  }
}
