/**
 * The tasks of the canonical Definition (types.ts): JSON values, the task types, what every task has (TaskBase: retry
 * policy, output, flow control) and each kind of task (TaskDef), with the few rules read off one task (who may decide a
 * HUMAN, signal a WAIT; a MAP's body).
 */
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
  'FORK_DYNAMIC',
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
  'FORK_DYNAMIC',
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
 * COMMAND: a program run as a task (an attempt is one run of it). `command` is the argv, never a shell string (no shell
 * runs it, so nothing in it is interpreted); each element, `cwd` and each `env` value are templates, resolved when the
 * attempt starts. A work task like SIMPLE otherwise: retry, timeout, queue, output_to.
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
 * HTTP: one request as a task (an attempt is one call; docs/language.md#http-tasks). `url`, each header and query value
 * and the body's strings are templates, resolved when the attempt starts (`${secrets.NAME}` among them). The request
 * travels as the attempt's input (normalize.ts builds it: `httpRequest`), so both executors hand it to their HTTP
 * executor as they hand a handler its input.
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
  /** `wait_forever: true`: waiting for a person with no timeout is meant (`ledgerflow verify` accepts it); absent when false. */
  waitForever?: true;
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
  /** `wait_forever: true`: waiting for the signal with no timeout is meant (`ledgerflow verify` accepts it); absent when false. */
  waitForever?: true;
}

/** Whether `by` may send a WAIT its signal: one of its `from:`, or anyone when it names none. The one rule every path applies (an early signal included). */
export function maySignal(task: WaitTask, by: string | undefined): boolean {
  return (
    task.signalers === undefined || task.signalers.length === 0 || (by !== undefined && task.signalers.includes(by))
  );
}
/**
 * `workflow` may be a template (`${workflow.input.subwf}`), resolved when an attempt starts; the child's run.started
 * records the id and version it ran. `wait: false`: the attempt completes once the child has started, with
 * `{ runId, workflow }`; the child goes on by itself (its run.started's parent has `relation: start`).
 */
export interface SubWorkflowTask extends TaskBase {
  type: 'SUB_WORKFLOW';
  workflow: string;
  version?: number;
  wait?: false;
}
/**
 * MAP: `items` (a template giving a list) and a body run once per item: the MAP's own `handler` and `input` (evaluated
 * per item, `${item}`/`${index}` in scope), or `iterator` (a task of this definition whose handler, input, retry,
 * timeout and queue are the body; '' when not given), or `workflow` (a child run per item, the MAP's `input` evaluated
 * per item as its input).
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
  /** Set on a FORK_DYNAMIC (fork-dynamic.ts): the items are its branches; `inputs`, the template of each branch's input by id. */
  fork?: { inputs?: string };
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
 * TRANSFORM: a jq program (`jq`), or a JavaScript script (`js`, run in QuickJS compiled to WebAssembly), run over the
 * task's resolved input by the executor itself (no worker); its output is jq's `{ result, resultList }` (the first
 * output and every output) or the script's `{ result }`, recorded as any task's. One of the two is set.
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
