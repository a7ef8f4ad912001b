/**
 * Every code ledgerflow gives a problem, with its kind: one table that the CLI's exit codes, the HTTP API's statuses
 * and docs/troubleshooting.md are read from (a test holds the page to this table). A code is stable: scripts match on
 * it, histories record the task failure codes.
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
 * - failure: something went wrong that is nobody's request (a corrupt file, a bug), or a task's or run's recorded
 *   failure (kept in its history, never the exit of a command).
 */
export type ErrorKind =
  | 'usage'
  | 'not_found'
  | 'conflict'
  | 'contended'
  | 'limit'
  | 'permission'
  | 'setup'
  | 'unavailable'
  | 'failure';

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

/**
 * The table, grouped by where a code is met: thrown by a command or the API, found in a definition (a diagnostic with
 * file:line:col, kind usage), or recorded in a history as a task's or a run's failure (kind failure: never an exit).
 */
export const ERROR_CODES = {
  // Commands and the API: what was asked
  LF_USAGE: 'usage',
  LF_INPUT_INVALID: 'usage',
  LF_DEFINITION_INVALID: 'usage',
  LF_EXPRESSION_INVALID: 'usage',
  LF_EVENT_SCHEMA_INVALID: 'usage',
  LF_RUN_CANNOT_START: 'usage',
  LF_UNSUPPORTED_TASK_TYPE: 'usage',
  LF_DEAD_LETTER_NOT_REPLAYABLE: 'usage',
  LF_TEMPLATE_COLLISION: 'usage',
  LF_IMPORT_TOO_DEEP: 'usage',
  LF_QUERY_INVALID: 'usage',
  LF_BRIDGE_LINE: 'usage',
  LF_BRIDGE_INBOX_FILE: 'usage',
  LF_BRIDGE_INBOX_OPEN: 'setup',
  LF_PATHS_LIMIT: 'usage',
  LF_HTTP: 'usage',
  LF_UNSUPPORTED_MEDIA_TYPE: 'usage',
  LF_BODY_TOO_LARGE: 'usage',
  LF_NOT_IMPLEMENTED: 'usage',
  LF_NO_SIGN_IN: 'usage',
  LF_SECRET_NAME_INVALID: 'usage',
  LF_SECRETS_FILE_INVALID: 'usage',
  LF_SECRETS_FILE_MODE: 'setup',
  LF_SECRET_NOT_FOUND: 'not_found',
  // What was named does not exist
  LF_RUN_NOT_FOUND: 'not_found',
  LF_RUN_NOT_ARCHIVED: 'not_found',
  LF_DEAD_LETTER_NOT_FOUND: 'not_found',
  LF_DEFINITION_NOT_FOUND: 'not_found',
  LF_WORKFLOW_NOT_DEPLOYED: 'not_found',
  LF_EVENT_NOT_FOUND: 'not_found',
  LF_NOT_FOUND: 'not_found',
  // The state of what was named refuses the action
  LF_PAUSE_REFUSED: 'conflict',
  LF_CANCEL_REFUSED: 'conflict',
  LF_APPROVAL_REFUSED: 'conflict',
  LF_SIGNAL_REFUSED: 'conflict',
  LF_RETRY_REFUSED: 'conflict',
  LF_FORK_POINT_NOT_REACHED: 'conflict',
  LF_RUN_BUSY: 'conflict',
  LF_RUN_ARCHIVED: 'conflict',
  LF_RUN_ID_TAKEN: 'conflict',
  LF_RUN_LOG_DAMAGED: 'conflict',
  LF_CORRUPT_RUN: 'conflict',
  // Other writers first
  LF_APPEND_CONFLICT: 'contended',
  LF_COMMIT_CONTENDED: 'contended',
  // Limits set on purpose
  LF_CONCURRENCY_LIMIT: 'limit',
  LF_TOO_MANY_SIGN_INS: 'limit',
  // Who may
  LF_FORBIDDEN: 'permission',
  LF_UNAUTHORIZED: 'permission',
  LF_CSRF: 'permission',
  LF_CONFIRM_MISMATCH: 'conflict',
  LF_HOST_REFUSED: 'permission',
  LF_ORIGIN_REFUSED: 'permission',
  // The installation must change
  LF_HANDLER_MODULE_NOT_FOUND: 'setup',
  LF_HANDLER_MODULE_INVALID: 'setup',
  LF_OUTPUT_ROOT_INVALID: 'setup',
  LF_STORE_UNUSABLE: 'setup',
  LF_NATS_STORAGE_FULL: 'setup',
  LF_PACKAGE_NOT_FOUND: 'setup',
  LF_SCHEDULES_FILE: 'setup',
  LF_GATES_FILE: 'setup',
  LF_TRIGGER_GATES_UNAVAILABLE: 'setup',
  LF_DATA_KEY_INVALID: 'setup',
  LF_DATA_KEY_MISSING: 'setup',
  // A service that did not answer
  LF_STORE: 'unavailable',
  LF_REQUESTS_FULL: 'unavailable',
  LF_UPLOADS_FULL: 'unavailable',
  LF_BLOBS_FULL: 'unavailable',
  LF_NATS_ERROR: 'unavailable',
  LF_NATS_TIMEOUT: 'unavailable',
  LF_REPLY_LOST: 'unavailable',
  // Nobody's request
  LF_INTERNAL: 'failure',
  LF_SHARED_DOC_CORRUPT: 'failure',
  LF_RECORD_GAP: 'failure',
  LF_SNAPSHOT_MISMATCH: 'failure',
  LF_DECRYPT_FAILED: 'failure',
  LF_FOLD_EVENT_INVALID: 'failure',
  LF_STATECHART_UNSUPPORTED: 'failure',
  // Exit 1, not 2: on the embedded store approve, reject and signal read the notifications file only after recording their input.
  LF_NOTIFICATIONS_INVALID: 'failure',

  // Both a thrown error (a command exits 2) and a definition problem
  LF_DEFINITION_TOO_LARGE: 'usage',
  LF_TOO_MANY_TASKS: 'usage',
  // Both a thrown error and a task's recorded failure: a handler the process was not given
  LF_HANDLER_NOT_FOUND: 'setup',

  // Found in a definition (validate, deploy, load): each a diagnostic with file:line:col
  LF_APPROVAL_NOT_HUMAN: 'usage',
  LF_COMMAND_ARG_OPTION: 'usage',
  LF_COMMAND_ENV_NAME: 'usage',
  LF_COMMAND_ENV_RESERVED: 'usage',
  LF_CONFLICT: 'usage',
  LF_CYCLE: 'usage',
  LF_DECISION_EMPTY_CASE: 'usage',
  LF_DECISION_NO_CASES: 'usage',
  LF_HTTP_HEADER: 'usage',
  LF_HTTP_URL: 'usage',
  LF_DECISION_NO_SELECTOR: 'usage',
  LF_DEFINITION_NOT_A_FILE: 'usage',
  LF_DUPLICATE_INPUT: 'usage',
  LF_DUPLICATE_TASK: 'usage',
  LF_EVENT_REF_OUTSIDE_TRIGGER: 'usage',
  LF_FAILURE_STEP_UNKNOWN: 'usage',
  LF_FAILURE_STEP_REFUSED: 'failure',
  LF_COMMANDER_UNREACHED: 'failure',
  LF_AGENT_LEVEL: 'usage',
  LF_AGENT_NO_KEY: 'setup',
  LF_USERS_FILE_INVALID: 'usage',
  LF_USER_EXISTS: 'conflict',
  LF_USER_NOT_FOUND: 'not_found',
  LF_AUTHORITY_REFUSED: 'permission',
  LF_SIGN_IN_FAILED: 'permission',
  LF_REQUEST_REFUSED: 'usage',
  LF_FIELD_IGNORED: 'usage',
  LF_INVALID_VALUE: 'usage',
  LF_ITEM_REF_OUTSIDE_MAP: 'usage',
  LF_JQ_COMPILE: 'usage',
  LF_JS_SYNTAX: 'usage',
  LF_LIMITS_INVALID: 'usage',
  LF_LOOP_BODY: 'usage',
  LF_MAP_ITERATOR: 'usage',
  LF_MISSING_FIELD: 'usage',
  LF_NO_WORKFLOW: 'usage',
  LF_NUL_CHARACTER: 'usage',
  LF_OUTPUT_TO_DIRECTORY: 'usage',
  LF_PARALLEL_DEPENDENT: 'usage',
  LF_RESERVED_ID: 'usage',
  LF_RESERVED_NAME: 'usage',
  LF_RETRY_DELAY_TOO_LONG: 'usage',
  LF_FORK_POINT_UNKNOWN: 'usage',
  LF_FORK_WORKFLOW_MISMATCH: 'usage',
  LF_SCHEDULE_INVALID: 'usage',
  LF_SCHEDULE_TIMEZONE: 'usage',
  LF_SCHEMA: 'usage',
  LF_SECRET_NOT_ALLOWED: 'usage',
  LF_TASK_NEVER_RUNS: 'usage',
  LF_TEMPLATE_INPUT_IN_TRIGGER: 'usage',
  LF_TEMPLATE_NOT_AT_START: 'usage',
  LF_SEARCH_UNDECLARED: 'usage',
  LF_TEMPLATE_NOT_UPSTREAM: 'usage',
  LF_TEMPLATE_SYNTAX: 'usage',
  LF_TEMPLATE_TASK_IN_TRIGGER: 'usage',
  LF_TEMPLATE_UNKNOWN_TASK: 'usage',
  LF_TEMPLATE_VARIABLE_IN_TRIGGER: 'usage',
  LF_TRIGGER_EVENT_NAME: 'usage',
  LF_TRIGGER_GATE_ON_SCHEDULE: 'usage',
  LF_TRIGGER_KEY: 'usage',
  LF_TRIGGER_MISSING_INPUT: 'usage',
  LF_TRIGGER_SAME_EVENT: 'usage',
  LF_TRIGGER_UNKNOWN_INPUT: 'usage',
  LF_UNKNOWN_CASE_TARGET: 'usage',
  LF_UNKNOWN_INPUT: 'usage',
  LF_UNKNOWN_KEY: 'usage',
  LF_UNKNOWN_OUTPUT: 'usage',
  LF_UNKNOWN_TASK: 'usage',
  LF_UNKNOWN_VARIABLE: 'usage',
  LF_VARIABLE_NOT_UPSTREAM: 'usage',
  LF_YAML_ALIAS: 'usage',
  LF_YAML_DUPLICATE_KEY: 'usage',
  LF_YAML_SYNTAX: 'usage',
  LF_YAML_TOO_DEEP: 'usage',

  // Recorded in a run's history as a task's or the run's failure (histories are a contract: never renamed)
  LF_ATTEMPT_LOST: 'failure',
  LF_ATTEMPT_UNDELIVERABLE: 'failure',
  LF_COMMAND_CWD: 'failure',
  LF_COMMAND_EXIT: 'failure',
  LF_COMMAND_NOT_FOUND: 'failure',
  LF_COMMAND_SPAWN: 'failure',
  LF_COMMAND_UNAVAILABLE: 'failure',
  LF_DECISION_FAILED: 'failure',
  LF_EMIT_UNAVAILABLE: 'failure',
  LF_HTTP_HOST_REFUSED: 'failure',
  LF_HTTP_NETWORK: 'failure',
  LF_HTTP_REQUEST: 'failure',
  LF_HTTP_STATUS: 'failure',
  LF_HTTP_TIMEOUT: 'failure',
  LF_HTTP_UNAVAILABLE: 'failure',
  LF_EVENT_REJECTED: 'failure',
  LF_JQ_ERROR: 'failure',
  LF_JS_ERROR: 'failure',
  LF_JS_TIMEOUT: 'failure',
  LF_LOOP_CONDITION: 'failure',
  LF_LOOP_LIMIT: 'failure',
  LF_MAP_ITEMS_FAILED: 'failure',
  LF_MAP_ITEMS_NOT_A_LIST: 'failure',
  LF_FORK_BRANCHES_INVALID: 'failure',
  LF_FORK_BRANCH_FAILED: 'failure',
  LF_OUTPUT_OUTSIDE_ROOT: 'failure',
  LF_OUTPUT_TOO_LARGE: 'failure',
  LF_BLOB_MISSING: 'failure',
  LF_BLOB_ALTERED: 'failure',
  LF_BLOB_NOT_LOADED: 'unavailable',
  LF_PAYLOAD_KEY_RESERVED: 'failure',
  LF_RUN_ERROR: 'failure',
  LF_RUN_TIMEOUT: 'failure',
  LF_SECRET_MISSING: 'failure',
  LF_SUBWORKFLOW_CYCLE: 'failure',
  LF_SUBWORKFLOW_FAILED: 'failure',
  LF_SUBWORKFLOW_NOT_FOUND: 'failure',
  LF_TERMINATED: 'failure',
  LF_TIMEOUT: 'failure',
  LF_WAIT_UNTIL_INVALID: 'failure',
} as const satisfies Record<`LF_${string}`, ErrorKind>;

/** A code ledgerflow gives a problem: every one is in ERROR_CODES. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The kind of `code`; a code not in the table (a handler's own) is a failure. */
export function kindOf(code: string): ErrorKind {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as ErrorCode] : 'failure';
}
