/**
 * Usage errors: wrong command-line usage, bad input values, invalid config files, dead letters that cannot be shown or
 * replayed. Exit 2, nothing written; a file of its own so the module's entry (errors/index.ts) stays short.
 */
import type { ErrorCode } from './codes.js';
import { LedgerflowError, type JsonSafe } from './base.js';

/** Wrong command-line usage or bad input values: exit 2, nothing written. */
export class UsageError extends LedgerflowError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined> = {}, code: ErrorCode = 'LF_USAGE') {
    super(code, message, meta);
  }
}

/** A global notifications file (`--notifications`, LEDGERFLOW_NOTIFICATIONS) that does not validate: every problem as file:line:col. */
export class NotificationsConfigError extends UsageError {
  constructor(file: string, problems: string[]) {
    super(
      `notifications file ${file} is invalid:\n${problems.join('\n')}`,
      { file, problems },
      'LF_NOTIFICATIONS_INVALID',
    );
  }
}

/** The users file (docs/users.md) does not validate: every problem as file:line:col. */
export class UsersFileError extends UsageError {
  constructor(file: string, problems: string[]) {
    super(`users file ${file} is invalid:\n${problems.join('\n')}`, { file, problems }, 'LF_USERS_FILE_INVALID');
  }
}

export class InputError extends UsageError {
  constructor(message: string, meta: Record<string, JsonSafe | undefined> = {}) {
    super(message, meta, 'LF_INPUT_INVALID');
  }
}

/** `ledgerflow dlq show|replay <id>` of a dead letter no stream holds (never written, replayed, purged or aged out). */
export class DeadLetterNotFoundError extends UsageError {
  constructor(id: string) {
    super(
      `there is no dead letter ${id} (it may have been replayed, purged or aged out; see \`ledgerflow dlq list\`)`,
      { id },
      'LF_DEAD_LETTER_NOT_FOUND',
    );
  }
}

/** `ledgerflow dlq replay` of a dead letter whose body was not kept whole (or that says nothing of where it came from). */
export class DeadLetterNotReplayableError extends UsageError {
  constructor(id: string, why: string) {
    super(
      `dead letter ${id} cannot be replayed: ${why}; nothing was published (\`ledgerflow dlq show ${id}\` shows what is kept)`,
      { id, why },
      'LF_DEAD_LETTER_NOT_REPLAYABLE',
    );
  }
}
