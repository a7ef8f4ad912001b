/**
 * The canonical, normalised form of a workflow definition. The YAML may use the
 * older aliases (backoff / backoff_strategy, next / next_tasks, a string or a
 * list, output as a list or a map); after normalisation there is one shape.
 * Plain JSON only: a Definition is recorded in each run's `run.started` event,
 * so replay never depends on the file it came from.
 */
/** A search attribute's type (definition/search.ts SEARCH_TYPES lists them). */
export type SearchType = 'string' | 'number' | 'bool' | 'time';
/** A search attribute's value as the run records it: a time is an ISO 8601 UTC text (so that text order is time order). */
export type SearchValue = string | number | boolean;
/** `search:` entry, normalized: the value (a template, text, number or boolean) and its type. */
export interface SearchAttrDecl {
  value: JsonValue;
  type: SearchType;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export const TASK_TYPES = [
  'SIMPLE',
  'DECISION',
  'HUMAN',
  'FORK',
  'JOIN',
  'DO_WHILE',
  'WAIT',
  'SUB_WORKFLOW',
  'MAP',
  'TERMINATE',
  'SET',
  'EMIT',
  'COMMAND',
  'HTTP',
  'TRANSFORM',
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Types the runtime executes in this version; the others parse and validate only. */
export const RUNNABLE_TASK_TYPES: readonly TaskType[] = [
  'SIMPLE',
  'DECISION',
  'HUMAN',
  'FORK',
  'JOIN',
  'WAIT',
  'SET',
  'TERMINATE',
  'SUB_WORKFLOW',
  'EMIT',
  'DO_WHILE',
  'MAP',
  'COMMAND',
  'HTTP',
  'TRANSFORM',
];

export type BackoffStrategy = 'fixed' | 'linear' | 'exponential';

export interface RetryPolicy {
  /** Total attempts including the first; 1 = no retry. */
  maxAttempts: number;
  backoff: BackoffStrategy;
  initialDelayMs: number;
  /** Upper bound on one delay; null = no bound. */
  maxDelayMs: number | null;
  /** 0..1: the delay is reduced by up to this fraction, derived from (runId, taskId, attempt). */
  jitter: number;
}

/** Which outcomes of its dependencies let a task run (others make it SKIPPED). */
export type TriggerRule = 'none_failed_min_one_success' | 'all_success' | 'all_done';

/** A task's declared output: a list of names (list form) and/or fixed values (map form). */
export interface OutputSpec {
  names: string[];
  values: Record<string, JsonValue>;
}

export interface TaskBase {
  id: string;
  name: string;
  description?: string;
  /** Position in the `tasks` list of the source, for diagnostics. */
  index: number;
  /** `depends_on` as written. Decision targets, fork and join members add implicit ones: see graph.ts. */
  dependsOn: string[];
  /** `parallel_with` as written: a hint, never a dependency. */
  parallelWith: string[];
  /** Input template tree; strings may contain `${...}` references. */
  input: Record<string, JsonValue>;
  output: OutputSpec;
  /** Template of a file path the task's output is written to (YAML), relative to the working directory. */
  outputTo?: string;
  retry: RetryPolicy;
  /** Per attempt (SIMPLE) or approval deadline (HUMAN). */
  timeoutMs?: number;
  /** Handler name; else assignedTo; else the task id. */
  handler?: string;
  assignedTo?: string;
  agentLevel?: string;
  /** The queue its attempts wait on: `queue:`, or a station's (`station: north` → `station-north`). */
  queue?: string;
  /** `requires:` (docs/limits.md#skills): the skills an agent or worker needs to run an attempt, sorted, each once. */
  requires?: string[];
  /** `station:` (docs/nats.md#stations): the station whose workers run it; `queue` is then its queue. */
  station?: string;
  /** `concurrency:` (docs/limits.md#task-concurrency-and-rate-limits): at most `limit` attempts running at once, across all runs. */
  concurrency?: TaskConcurrency;
  /** `rate_limit:`: at most `limit` attempt starts in any span of `perMs`, across all runs. */
  rateLimit?: TaskRateLimit;
  /** `breaker:` (docs/limits.md#circuit-breakers): open after `failures` failed attempts within `windowMs`, for `openForMs`. */
  breaker?: TaskBreaker;
  /** An optional task's failure does not fail the run. */
  optional: boolean;
  triggerRule: TriggerRule;
}

export interface TaskConcurrency {
  limit: number;
}
export interface TaskRateLimit {
  limit: number;
  perMs: number;
}
export interface TaskBreaker {
  failures: number;
  windowMs: number;
  openForMs: number;
}

export interface SimpleTask extends TaskBase {
  type: 'SIMPLE';
}

/**
 * COMMAND: a program run as a task (an attempt is one run of it). `command`
 * is the argv, never a shell string (no shell runs it, so nothing in it is
 * interpreted); each element, `cwd` and each `env` value are templates,
 * resolved when the attempt starts. A work task like SIMPLE otherwise: retry,
 * timeout, queue, output_to.
 */
export interface CommandTask extends TaskBase {
  type: 'COMMAND';
  command: string[];
  /** Working directory (template); absent: the definition's directory (the worker's current one on NATS). */
  cwd?: string;
  env: Record<string, string>;
}

/** The methods an HTTP task may use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * HTTP: one request as a task (an attempt is one call; docs/language.md#http-tasks).
 * `url`, each header and query value and the body's strings are templates,
 * resolved when the attempt starts (`${secrets.NAME}` among them). The request
 * travels as the attempt's input (normalize.ts builds it: `httpRequest`), so
 * both executors hand it to their HTTP executor as they hand a handler its input.
 */
export interface HttpTask extends TaskBase {
  type: 'HTTP';
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  body?: JsonValue;
  /** Statuses that complete the task: numbers, or `2xx`-style classes. Default: any 2xx. */
  expect: (number | string)[];
  /** Bytes of the response body kept in the output; the rest is cut and marked (default 256 KiB). */
  maxResponseBytes: number;
}

export interface DecisionCase {
  name: string;
  next: string[];
  /** Expression text; when present the case is chosen only if it is true. */
  condition?: string;
}
export interface DecisionTask extends TaskBase {
  type: 'DECISION';
  /** Template whose value selects the case with that name. */
  decisionParam?: string;
  cases: DecisionCase[];
  /** Targets of the `default` case, if any. */
  defaultNext?: string[];
}

export type HumanTimeoutAction = 'fail' | 'approve' | 'reject' | 'skip';
export interface HumanTask extends TaskBase {
  type: 'HUMAN';
  /** Who may decide; empty = anyone. */
  approvers: string[];
  onTimeout: HumanTimeoutAction;
}

/** Whether `by` may approve or reject a HUMAN task: one of its approvers, or anyone when it names none. The one rule every path applies. */
export function mayDecide(task: HumanTask, by: string): boolean {
  return task.approvers.length === 0 || task.approvers.includes(by);
}

export interface ForkTask extends TaskBase {
  type: 'FORK';
  forkTasks: string[];
}
export interface JoinTask extends TaskBase {
  type: 'JOIN';
  joinOn: string[];
}

export interface DoWhileTask extends TaskBase {
  type: 'DO_WHILE';
  loopCondition: string;
  loopOver: string[];
  maxIterations?: number;
}
/** `timeoutMs` (TaskBase) bounds an event wait; `onTimeout` then says what it does (absent: fail, TIMED_OUT). */
export interface WaitTask extends TaskBase {
  type: 'WAIT';
  durationMs?: number;
  until?: string;
  event?: string;
  /** `from:`: who may send its signal (absent: anyone who may signal the run). */
  signalers?: string[];
  onTimeout?: 'fail' | 'skip';
}

/** Whether `by` may send a WAIT its signal: one of its `from:`, or anyone when it names none. The one rule every path applies (an early signal included). */
export function maySignal(task: WaitTask, by: string | undefined): boolean {
  return (
    task.signalers === undefined || task.signalers.length === 0 || (by !== undefined && task.signalers.includes(by))
  );
}
export interface SubWorkflowTask extends TaskBase {
  type: 'SUB_WORKFLOW';
  workflow: string;
  version?: number;
}
/**
 * MAP: `items` (a template giving a list) and a body run once per item: the
 * MAP's own `handler` and `input` (evaluated per item, `${item}`/`${index}` in
 * scope), or `iterator` (a task of this definition whose handler, input,
 * retry, timeout and queue are the body; '' when not given), or `workflow`
 * (a child run per item, the MAP's `input` evaluated per item as its input).
 */
export interface MapTask extends TaskBase {
  type: 'MAP';
  items: string;
  iterator: string;
  maxConcurrency?: number;
  /** Items that may fail without failing the MAP (default 0; an optional MAP tolerates all). */
  tolerateFailures?: number;
  /** A child run per item: this workflow (found as a SUB_WORKFLOW's is), its input the MAP's `input` for the item. */
  workflow?: string;
  version?: number;
}

/** The task whose handler, input, retry, timeout and queue a MAP's items run with: its iterator, or the MAP itself. */
export function mapBody(tasks: readonly TaskDef[], map: MapTask): TaskDef {
  return (map.iterator ? tasks.find((t) => t.id === map.iterator) : undefined) ?? map;
}

/** iterator id → its MAP (the first, should two name it: validation refuses that). Build it once where every task asks. */
export function iteratorMap(tasks: readonly TaskDef[]): Map<string, MapTask> {
  const maps = new Map<string, MapTask>();
  for (const t of tasks) if (t.type === 'MAP' && t.iterator && !maps.has(t.iterator)) maps.set(t.iterator, t);
  return maps;
}
export interface TerminateTask extends TaskBase {
  type: 'TERMINATE';
  status: 'COMPLETED' | 'FAILED';
  reason?: string;
}
/** `search`: new values of the workflow's search attributes (absent when none, so older definitions hash as they did). */
export interface SetTask extends TaskBase {
  type: 'SET';
  values: Record<string, JsonValue>;
  search?: Record<string, JsonValue>;
}
export interface EmitTask extends TaskBase {
  type: 'EMIT';
  event: string;
  data: Record<string, JsonValue>;
}
/**
 * TRANSFORM: a jq program (`jq`), or a JavaScript script (`js`, run in QuickJS compiled to WebAssembly), run over
 * the task's resolved input by the executor itself (no worker); its output is jq's `{ result, resultList }` (the
 * first output and every output) or the script's `{ result }`, recorded as any task's. One of the two is set.
 */
export interface TransformTask extends TaskBase {
  type: 'TRANSFORM';
  jq?: string;
  js?: string;
}

export type TaskDef =
  | SimpleTask
  | CommandTask
  | HttpTask
  | DecisionTask
  | HumanTask
  | ForkTask
  | JoinTask
  | DoWhileTask
  | WaitTask
  | SubWorkflowTask
  | MapTask
  | TerminateTask
  | SetTask
  | EmitTask
  | TransformTask;

export type InputType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'any';
export interface InputDecl {
  name: string;
  required: boolean;
  /** Declared, or inferred from the default; 'any' when neither says. */
  type: InputType;
  default?: JsonValue;
  description?: string;
}

/**
 * An event type: NATS-subject-safe tokens separated by dots (`revenue_milestone`,
 * `crm.lead.created`). It also names its schema file, `events/<type>.yaml`.
 */
export const EVENT_TYPE_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** `debounce:` of an event trigger: one run, with the last event of a burst, `periodMs` after its last event (per `key`). */
export interface TriggerDebounce {
  periodMs: number;
  key?: string;
}
/** `throttle:` of an event trigger: at most `limit` starts in any span of `perMs` (per `key`); the rest queue or are dropped. */
export interface TriggerThrottle {
  limit: number;
  perMs: number;
  key?: string;
  onLimit: 'queue' | 'drop';
}
export interface EventTrigger {
  kind: 'event';
  event: string;
  filter?: string;
  input: Record<string, JsonValue>;
  debounce?: TriggerDebounce;
  throttle?: TriggerThrottle;
}
/** What a schedule does with slots that passed while nothing fired them (docs/library.md). */
export type CatchUp = 'none' | 'latest' | 'all';
export const CATCH_UP_MODES: readonly CatchUp[] = ['none', 'latest', 'all'];
/** `cron`: 5 or 6 fields or a nickname, read in `timezone` (IANA; default UTC). */
export interface ScheduleTrigger {
  kind: 'schedule';
  cron: string;
  timezone: string;
  catchUp: CatchUp;
  input: Record<string, JsonValue>;
}
export type Trigger = EventTrigger | ScheduleTrigger;

export interface FailureWorkflow {
  id: string;
  steps: string[];
  input: Record<string, JsonValue>;
}

/** What a notification rule reacts to: a run status reached, or (RETRIED) a task's attempt number reaching `retriedAtLeast`. */
export const NOTIFY_ON = ['FAILED', 'WAITING', 'COMPLETED', 'CANCELLED', 'RETRIED'] as const;
export type NotifyOnName = (typeof NOTIFY_ON)[number];
/** With RETRIED and no `retried_at_least`: the first retry (attempt 2). */
export const DEFAULT_RETRIED_AT_LEAST = 2;

/**
 * A `notifications:` rule (src/notify): on which changes, to which targets.
 * `nats`: publish on lf.notify.<workflow>.<status>; `webhook`: POST a JSON body
 * there (http or https), with `headers` added.
 */
export interface NotificationRule {
  /** Empty for a rule that only names a role (sent to by the failure handler's notify_commander, never on a status). */
  on: NotifyOnName[];
  /** Who the target reaches (`role:`): notify_commander sends to the targets of role `commander`. */
  roles?: string[];
  /** Set exactly when `on` has RETRIED. */
  retriedAtLeast?: number;
  nats: boolean;
  webhook?: string;
  headers?: Record<string, string>;
}

/**
 * What a start with a caller-chosen run id does when that id already has a run: `reject_duplicate`
 * returns that run (never a second), `allow_after_failure` starts a new one once it settled FAILED or
 * CANCELLED, `allow` once it settled in any way. A run still going is always returned, never forked.
 */
export const ID_REUSE_POLICIES = ['reject_duplicate', 'allow_after_failure', 'allow'] as const;
export type IdReusePolicy = (typeof ID_REUSE_POLICIES)[number];

/** `concurrency.on_limit:` what a start beyond the limit does (docs/limits.md#concurrency-limits-and-priority). */
export const ON_LIMIT = ['queue', 'refuse'] as const;
export type OnLimit = (typeof ON_LIMIT)[number];
/** `priority:` when none is given (workflow or start): the middle, so a start can be put before or after the rest. */
export const DEFAULT_PRIORITY = 50;
export const MAX_PRIORITY = 99;

/** `concurrency:` at most `limit` runs (per value of the `key` template) RUNNING, WAITING or PAUSED at once. */
export interface ConcurrencySpec {
  limit: number;
  key?: string;
  onLimit: OnLimit;
}

/** What a run past its workflow `timeout:` becomes: FAILED (`fail`, the default) or CANCELLED. */
/**
 * The figures `monitoring.metrics:` may name (docs/metrics.md#per-workflow-figures): each is computed per
 * workflow by `ledgerflow stats`, the dashboard's definition page and GET /api/definitions/:id/stats, and
 * answered by a Prometheus series. A name outside this list is a definition error, not a figure silently never shown.
 */
export const MONITORING_METRICS = ['execution_time', 'task_success_rate', 'retry_count', 'failure_rate'] as const;
export type MonitoringMetric = (typeof MONITORING_METRICS)[number];

export const RUN_TIMEOUT_POLICIES = ['fail', 'cancel'] as const;
export type RunTimeoutPolicy = (typeof RUN_TIMEOUT_POLICIES)[number];

export interface Definition {
  id: string;
  name: string;
  version: number;
  description?: string;
  /** The domain whose Station OPS (L2) may start its runs (authority/levels.ts). */
  domain?: string;
  inputs: InputDecl[];
  output: OutputSpec;
  tasks: TaskDef[];
  failureWorkflow?: FailureWorkflow;
  /** Kept as written; informational. */
  monitoring?: Record<string, JsonValue>;
  triggers: Trigger[];
  /** Handler module path, relative to the definition file. */
  handlers?: string;
  /** `id_reuse:` (docs/runs.md#caller-chosen-run-ids); absent when the file has none (the default, reject_duplicate), so older definitions hash as they did. */
  idReuse?: IdReusePolicy;
  /** `concurrency:` (docs/limits.md#concurrency-limits-and-priority); absent when the file has none, so older definitions hash as they did. */
  concurrency?: ConcurrencySpec;
  /** `priority:` 0..99 (higher is admitted first); absent when the file has none (DEFAULT_PRIORITY). */
  priority?: number;
  /** `notifications:` (src/notify); absent when the file has none, so older definitions hash as they did. */
  notifications?: NotificationRule[];
  /** `timeout:` / `timeout_policy:` (docs/runs.md#run-timeouts); both absent when the file has no timeout, so older definitions hash as they did. */
  timeoutMs?: number;
  timeoutPolicy?: RunTimeoutPolicy;
  /** `search:` (docs/operations.md#search-attributes); absent when the file has none, so older definitions hash as they did. */
  search?: Record<string, SearchAttrDecl>;
}
