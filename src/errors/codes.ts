/**
 * Every code ledgerflow gives a problem, with its kind: one table that the
 * CLI's exit codes, the HTTP API's statuses and docs/troubleshooting.md are
 * read from (a test holds the page to this table). A code is stable: scripts
 * match on it, histories record the task failure codes.
 *
 * The kinds, and what each means to a caller:
 * - usage: what was asked is wrong (a flag, an input, a definition); fix it and ask again.
 * - not_found: what was named does not exist (a run, a definition, a dead letter).
 * - conflict: the thing exists but its state refuses the action (a settled run, a taken id).
 * - contended: other writers got there first, again and again; the same request may succeed later.
 * - limit: a limit set on purpose is reached (a concurrency limit, sign-in attempts).
 * - permission: the caller may not do this (NATS permissions, the dashboard's sign-in).
 * - setup: the installation must change (a handler module missing, a store that cannot be used).
 * - unavailable: a service did not answer or failed (NATS, the store): try again.
 * - failure: something went wrong that is nobody's request (a corrupt file, a bug), or a
 *   task's or run's recorded failure (kept in its history, never the exit of a command).
 */
export type ErrorKind = 'usage' | 'not_found' | 'conflict' | 'contended' | 'limit' | 'permission' | 'setup' | 'unavailable' | 'failure';

/** What each kind means at the edges: the CLI's exit code and the HTTP status. */
export const ERROR_KINDS: Readonly<Record<ErrorKind, { readonly exit: 1 | 2; readonly http: number }>> = {
  usage: { exit: 2, http: 400 },
  not_found: { exit: 2, http: 404 },
  conflict: { exit: 2, http: 409 },
  contended: { exit: 1, http: 409 },
  limit: { exit: 2, http: 429 },
  permission: { exit: 2, http: 403 },
  setup: { exit: 2, http: 503 },
  unavailable: { exit: 1, http: 503 },
  failure: { exit: 1, http: 500 },
};

/** Where a code is met: thrown by a command or the API, found in a definition, or recorded as a task's or run's failure. */
type Where = 'thrown' | 'definition' | 'recorded';

const code = (kind: ErrorKind, where: Where) => ({ kind, where }) as const;
const usage = code('usage', 'thrown');
const definition = code('usage', 'definition');
const recorded = code('failure', 'recorded');

export const ERROR_CODES = {
  // Commands and the API: what was asked
  LF_USAGE: usage,
  LF_INPUT_INVALID: usage,
  LF_DEFINITION_INVALID: usage,
  LF_EXPRESSION_INVALID: usage,
  LF_EVENT_SCHEMA_INVALID: usage,
  LF_RUN_CANNOT_START: usage,
  LF_UNSUPPORTED_TASK_TYPE: usage,
  LF_DEAD_LETTER_NOT_REPLAYABLE: usage,
  LF_TEMPLATE_COLLISION: usage,
  LF_QUERY_INVALID: usage,
  LF_PATHS_LIMIT: usage,
  LF_HTTP: usage,
  LF_UNSUPPORTED_MEDIA_TYPE: usage,
  LF_BODY_TOO_LARGE: usage,
  LF_NOT_IMPLEMENTED: usage,
  LF_NO_SIGN_IN: usage,
  // What was named does not exist
  LF_RUN_NOT_FOUND: code('not_found', 'thrown'),
  LF_DEAD_LETTER_NOT_FOUND: code('not_found', 'thrown'),
  LF_DEFINITION_NOT_FOUND: code('not_found', 'thrown'),
  LF_WORKFLOW_NOT_DEPLOYED: code('not_found', 'thrown'),
  LF_EVENT_NOT_FOUND: code('not_found', 'thrown'),
  LF_NOT_FOUND: code('not_found', 'thrown'),
  // The state of what was named refuses the action
  LF_PAUSE_REFUSED: code('conflict', 'thrown'),
  LF_CANCEL_REFUSED: code('conflict', 'thrown'),
  LF_APPROVAL_REFUSED: code('conflict', 'thrown'),
  LF_SIGNAL_REFUSED: code('conflict', 'thrown'),
  LF_RETRY_REFUSED: code('conflict', 'thrown'),
  LF_RUN_BUSY: code('conflict', 'thrown'),
  LF_RUN_ID_TAKEN: code('conflict', 'thrown'),
  LF_RUN_LOG_DAMAGED: code('conflict', 'thrown'),
  LF_CORRUPT_RUN: code('conflict', 'thrown'),
  // Other writers first
  LF_APPEND_CONFLICT: code('contended', 'thrown'),
  LF_COMMIT_CONTENDED: code('contended', 'thrown'),
  // Limits set on purpose
  LF_CONCURRENCY_LIMIT: code('limit', 'thrown'),
  LF_TOO_MANY_SIGN_INS: code('limit', 'thrown'),
  // Who may
  LF_FORBIDDEN: code('permission', 'thrown'),
  LF_UNAUTHORIZED: code('permission', 'thrown'),
  LF_CSRF: code('permission', 'thrown'),
  LF_HOST_REFUSED: code('permission', 'thrown'),
  LF_ORIGIN_REFUSED: code('permission', 'thrown'),
  // The installation must change
  LF_HANDLER_MODULE_NOT_FOUND: code('setup', 'thrown'),
  LF_HANDLER_MODULE_INVALID: code('setup', 'thrown'),
  LF_OUTPUT_ROOT_INVALID: code('setup', 'thrown'),
  LF_STORE_UNUSABLE: code('setup', 'thrown'),
  LF_NATS_STORAGE_FULL: code('setup', 'thrown'),
  LF_PACKAGE_NOT_FOUND: code('setup', 'thrown'),
  LF_SCHEDULES_FILE: code('setup', 'thrown'),
  LF_GATES_FILE: code('setup', 'thrown'),
  LF_TRIGGER_GATES_UNAVAILABLE: code('setup', 'thrown'),
  // A service that did not answer
  LF_STORE: code('unavailable', 'thrown'),
  LF_NATS_ERROR: code('unavailable', 'thrown'),
  LF_REPLY_LOST: code('unavailable', 'thrown'),
  // Nobody's request
  LF_INTERNAL: code('failure', 'thrown'),
  LF_SHARED_DOC_CORRUPT: code('failure', 'thrown'),
  LF_RECORD_GAP: code('failure', 'thrown'),
  LF_SNAPSHOT_MISMATCH: code('failure', 'thrown'),
  LF_FOLD_EVENT_INVALID: code('failure', 'thrown'),
  LF_STATECHART_UNSUPPORTED: code('failure', 'thrown'),
  // Exit 1, not 2: on the embedded store approve, reject and signal read the notifications file only after recording their input.
  LF_NOTIFICATIONS_INVALID: code('failure', 'thrown'),

  // Both a thrown error (a command exits 2) and a definition problem
  LF_DEFINITION_TOO_LARGE: usage,
  LF_TOO_MANY_TASKS: usage,
  // Both a thrown error and a task's recorded failure: a handler the process was not given
  LF_HANDLER_NOT_FOUND: code('setup', 'thrown'),

  // Found in a definition (validate, deploy, load): each a diagnostic with file:line:col
  LF_APPROVAL_NOT_HUMAN: definition,
  LF_COMMAND_ARG_OPTION: definition,
  LF_COMMAND_ENV_NAME: definition,
  LF_COMMAND_ENV_RESERVED: definition,
  LF_CONFLICT: definition,
  LF_CYCLE: definition,
  LF_DECISION_EMPTY_CASE: definition,
  LF_DECISION_NO_CASES: definition,
  LF_DECISION_NO_SELECTOR: definition,
  LF_DEFINITION_NOT_A_FILE: definition,
  LF_DUPLICATE_INPUT: definition,
  LF_DUPLICATE_TASK: definition,
  LF_EVENT_REF_OUTSIDE_TRIGGER: definition,
  LF_FAILURE_STEP_UNKNOWN: definition,
  LF_FIELD_IGNORED: definition,
  LF_INVALID_VALUE: definition,
  LF_ITEM_REF_OUTSIDE_MAP: definition,
  LF_LIMITS_INVALID: definition,
  LF_LOOP_BODY: definition,
  LF_MAP_ITERATOR: definition,
  LF_MISSING_FIELD: definition,
  LF_NO_WORKFLOW: definition,
  LF_NUL_CHARACTER: definition,
  LF_OUTPUT_TO_DIRECTORY: definition,
  LF_PARALLEL_DEPENDENT: definition,
  LF_RESERVED_ID: definition,
  LF_RESERVED_NAME: definition,
  LF_RETRY_DELAY_TOO_LONG: definition,
  LF_SCHEDULE_INVALID: definition,
  LF_SCHEDULE_TIMEZONE: definition,
  LF_SCHEMA: definition,
  LF_TASK_NEVER_RUNS: definition,
  LF_TEMPLATE_INPUT_IN_TRIGGER: definition,
  LF_TEMPLATE_NOT_AT_START: definition,
  LF_TEMPLATE_NOT_UPSTREAM: definition,
  LF_TEMPLATE_SYNTAX: definition,
  LF_TEMPLATE_TASK_IN_TRIGGER: definition,
  LF_TEMPLATE_UNKNOWN_TASK: definition,
  LF_TEMPLATE_VARIABLE_IN_TRIGGER: definition,
  LF_TRIGGER_EVENT_NAME: definition,
  LF_TRIGGER_GATE_ON_SCHEDULE: definition,
  LF_TRIGGER_KEY: definition,
  LF_TRIGGER_MISSING_INPUT: definition,
  LF_TRIGGER_SAME_EVENT: definition,
  LF_TRIGGER_UNKNOWN_INPUT: definition,
  LF_UNKNOWN_CASE_TARGET: definition,
  LF_UNKNOWN_INPUT: definition,
  LF_UNKNOWN_KEY: definition,
  LF_UNKNOWN_OUTPUT: definition,
  LF_UNKNOWN_TASK: definition,
  LF_UNKNOWN_VARIABLE: definition,
  LF_VARIABLE_NOT_UPSTREAM: definition,
  LF_YAML_ALIAS: definition,
  LF_YAML_DUPLICATE_KEY: definition,
  LF_YAML_SYNTAX: definition,
  LF_YAML_TOO_DEEP: definition,

  // Recorded in a run's history as a task's or the run's failure (histories are a contract: never renamed)
  LF_ATTEMPT_LOST: recorded,
  LF_ATTEMPT_UNDELIVERABLE: recorded,
  LF_COMMAND_CWD: recorded,
  LF_COMMAND_EXIT: recorded,
  LF_COMMAND_NOT_FOUND: recorded,
  LF_COMMAND_SPAWN: recorded,
  LF_COMMAND_UNAVAILABLE: recorded,
  LF_DECISION_FAILED: recorded,
  LF_EMIT_UNAVAILABLE: recorded,
  LF_EVENT_REJECTED: recorded,
  LF_LOOP_CONDITION: recorded,
  LF_LOOP_LIMIT: recorded,
  LF_MAP_ITEMS_FAILED: recorded,
  LF_MAP_ITEMS_NOT_A_LIST: recorded,
  LF_OUTPUT_OUTSIDE_ROOT: recorded,
  LF_OUTPUT_TOO_LARGE: recorded,
  LF_RUN_ERROR: recorded,
  LF_RUN_TIMEOUT: recorded,
  LF_SUBWORKFLOW_CYCLE: recorded,
  LF_SUBWORKFLOW_FAILED: recorded,
  LF_SUBWORKFLOW_NOT_FOUND: recorded,
  LF_TERMINATED: recorded,
  LF_TIMEOUT: recorded,
  LF_WAIT_UNTIL_INVALID: recorded,
} as const satisfies Record<`LF_${string}`, { kind: ErrorKind; where: Where }>;

/** A code ledgerflow gives a problem: every one is in ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The kind of `code`; a code not in the table (a handler's own) is a failure. */
export function kindOf(code: string): ErrorKind {
  return (ERROR_CODES as Record<string, { kind: ErrorKind } | undefined>)[code]?.kind ?? 'failure';
}

/** Whether `code` is one of ledgerflow's (a handler may fail with any code of its own). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
