/**
 * The checks of one task against its type: fields its type ignores, fields its type needs, and what COMMAND, MAP, WAIT,
 * station and retry settings may be. checks.ts runs them with the checks over the whole graph.
 */
import type { CheckContext } from './context.js';
import { isObj, type RawPath } from './issues.js';
import { taskTypeOf } from './normalize-values.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT } from '../duration.js';
import { checkOptionLikeArgs } from './command-args.js';
import { checkHttp } from './http-checks.js';
import type { TaskDef, TaskType } from './task-types.js';
import { isDynamicFork } from './fork-dynamic.js';
import { checkForkDynamic } from './fork-dynamic-checks.js';

/** Fields that only mean something for some task types. */
const TYPE_FIELDS: Record<string, readonly TaskType[]> = {
  decision_param: ['DECISION'],
  decision_cases: ['DECISION'],
  approvers: ['HUMAN'],
  from: ['WAIT'],
  on_timeout: ['HUMAN', 'WAIT'],
  wait_forever: ['HUMAN', 'WAIT'],
  fork_tasks: ['FORK'],
  join_on: ['JOIN'],
  loop_condition: ['DO_WHILE'],
  loop_over: ['DO_WHILE'],
  max_iterations: ['DO_WHILE'],
  duration: ['WAIT'],
  until: ['WAIT'],
  event: ['WAIT', 'EMIT'],
  workflow: ['SUB_WORKFLOW', 'MAP'],
  version: ['SUB_WORKFLOW', 'MAP'],
  wait: ['SUB_WORKFLOW'],
  items: ['MAP'],
  iterator: ['MAP'],
  max_concurrency: ['MAP', 'FORK_DYNAMIC'],
  branches: ['FORK_DYNAMIC'],
  inputs: ['FORK_DYNAMIC'],
  tolerate_failures: ['MAP'],
  status: ['TERMINATE'],
  reason: ['TERMINATE'],
  values: ['SET'],
  search: ['SET'],
  data: ['EMIT'],
  command: ['COMMAND'],
  cwd: ['COMMAND'],
  env: ['COMMAND'],
  jq: ['TRANSFORM'],
  js: ['TRANSFORM'],
  method: ['HTTP'],
  url: ['HTTP'],
  headers: ['HTTP'],
  query: ['HTTP'],
  body: ['HTTP'],
  expect: ['HTTP'],
  max_response_body: ['HTTP'],
  // Task flow control holds attempts: only tasks that run attempts have any.
  concurrency: ['SIMPLE', 'COMMAND', 'HTTP', 'MAP', 'SUB_WORKFLOW', 'EMIT', 'FORK_DYNAMIC'],
  rate_limit: ['SIMPLE', 'COMMAND', 'HTTP', 'MAP', 'SUB_WORKFLOW', 'EMIT', 'FORK_DYNAMIC'],
  // A breaker counts failed attempts of a worker's (a handler, a command, a request): executor-run tasks have none to count.
  breaker: ['SIMPLE', 'COMMAND', 'HTTP', 'MAP'],
  // Skills route what a worker or agent runs: a handler's, a command's or a request's attempts.
  requires: ['SIMPLE', 'COMMAND', 'HTTP', 'MAP'],
  // A station's workers run attempts: only tasks that hand attempts to workers have a station.
  station: ['SIMPLE', 'COMMAND', 'HTTP', 'MAP'],
};

/** What the executor sets in every command's environment: a task's `env` may not set them. */
const COMMAND_ENV_RESERVED = [
  'LF_RUN_ID',
  'LF_WORKFLOW_ID',
  'LF_TASK_ID',
  'LF_ATTEMPT',
  'LF_IDEMPOTENCY_KEY',
  'LF_INIT_CWD',
] as const;

export function checkTypeFields(ctx: CheckContext): void {
  for (const t of ctx.def.tasks) {
    const raw = ctx.rawTask(t);
    const p = ctx.taskPath(t);
    // An unknown or missing type is one error (the schema's, with the closest type): judged as the SIMPLE it defaults to, its fields would get warnings about a type it is not.
    const declared = taskTypeOf(raw.type);
    if (declared === undefined) continue;
    if (raw.wait_for_approval === true && t.type !== 'HUMAN') {
      ctx.warn(
        'LF_APPROVAL_NOT_HUMAN',
        `task ${t.id} has wait_for_approval but is ${t.type}; only HUMAN tasks wait for approval (set type: HUMAN or remove it)`,
        [...p, 'wait_for_approval'],
        { onKey: true },
      );
    }
    for (const [key, types] of Object.entries(TYPE_FIELDS)) {
      // Judged by the type as written: a FORK_DYNAMIC is a MAP once normalised (fork-dynamic.ts), with fields of its own.
      if (raw[key] !== undefined && !types.includes(declared)) {
        ctx.warn(
          'LF_FIELD_IGNORED',
          `${key} is ignored on ${declared} task ${t.id} (it applies to ${types.join(', ')})`,
          [...p, key],
          { onKey: true },
        );
      }
    }
    const missing = (what: string) => ctx.error('LF_MISSING_FIELD', `${t.type} task ${t.id} needs ${what}`, p);
    if (t.type === 'DO_WHILE' && !t.loopCondition) missing('loop_condition');
    if (t.type === 'SUB_WORKFLOW' && !t.workflow) missing('workflow (the id of the workflow to run)');
    if (t.type === 'MAP' && !isDynamicFork(t)) checkMap(ctx, t, raw, p);
    if (isDynamicFork(t)) checkForkDynamic(ctx, t, raw, p);
    if (t.type === 'EMIT' && !t.event) missing('event');
    if (t.type === 'TRANSFORM' && !t.jq && !t.js)
      missing('jq (the jq program to run over its input) or js (a JavaScript script)');
    if (t.type === 'TRANSFORM' && raw.jq !== undefined && raw.js !== undefined) {
      ctx.error(
        'LF_CONFLICT',
        `TRANSFORM task ${t.id} sets jq and js; a TRANSFORM runs one program: keep one of them`,
        [...p, 'js'],
        { onKey: true },
      );
    }
    if (t.type === 'COMMAND') checkCommand(ctx, t, raw, p);
    if (t.type === 'HTTP') checkHttp(ctx, t, raw, p);
    if (t.type === 'WAIT' && t.durationMs === undefined && t.until === undefined && t.event === undefined)
      missing('one of duration, until or event');
    if (t.type === 'WAIT') {
      // One way to wait: a WAIT with two cannot say which one ends it.
      const given = (['duration', 'until', 'event'] as const).filter((k) => raw[k] !== undefined);
      if (given.length > 1) {
        ctx.error(
          'LF_CONFLICT',
          `WAIT task ${t.id} sets ${given.join(' and ')}; a WAIT waits one way: keep one of duration, until or event`,
          [...p, given[1]!],
          { onKey: true },
        );
      }
      checkWaitTimeout(ctx, t, raw, p);
    }
    if (t.type === 'DO_WHILE' && t.loopOver.length === 0 && raw.loop_over !== undefined)
      missing('a body: at least one task id in loop_over');
    if (t.type === 'DO_WHILE' && raw.loop_over === undefined)
      missing('loop_over (the body: the tasks run in each iteration)');
    if (t.type === 'FORK' && t.forkTasks.length === 0) missing('fork_tasks');
    if (t.type === 'JOIN' && t.joinOn.length === 0) missing('join_on');
    checkLongestRetryDelay(ctx, t);
    checkStation(ctx, t, raw, p);
    const rp = raw.retry_policy;
    if (
      isObj(rp) &&
      rp.backoff !== undefined &&
      rp.backoff_strategy !== undefined &&
      rp.backoff !== rp.backoff_strategy
    ) {
      ctx.error(
        'LF_CONFLICT',
        `retry_policy of task ${t.id} sets both backoff and backoff_strategy (an alias) to different values; keep one`,
        [...p, 'retry_policy', 'backoff_strategy'],
      );
    }
  }
}

/**
 * `station:` names the queue (station-<name>): a `queue:` beside it would name another, so the two are one error; on a
 * MAP whose items run an iterator, the iterator's station is the one that counts.
 */
function checkStation(ctx: CheckContext, t: TaskDef, raw: Record<string, unknown>, p: RawPath): void {
  if (raw.station === undefined) return;
  if (raw.queue !== undefined) {
    ctx.error(
      'LF_CONFLICT',
      `task ${t.id} sets both station and queue; a station's tasks wait on its own queue${typeof raw.station === 'string' ? ` (station-${raw.station})` : ''}: keep one`,
      [...p, 'queue'],
      { onKey: true },
    );
  }
  if (t.type === 'MAP' && raw.iterator !== undefined) {
    ctx.warn(
      'LF_FIELD_IGNORED',
      `station is ignored on MAP task ${t.id}: its items run its iterator ${String(raw.iterator)}, so give the iterator the station`,
      [...p, 'station'],
      { onKey: true },
    );
  }
}

/**
 * A WAIT's `timeout` bounds a wait for an event only (a duration or until wait ends on its own time: a timeout there
 * would be a second clock racing it), and `on_timeout` on a WAIT is fail or skip (there is nothing to approve).
 */
function checkWaitTimeout(
  ctx: CheckContext,
  t: Extract<TaskDef, { type: 'WAIT' }>,
  raw: Record<string, unknown>,
  p: RawPath,
): void {
  if (raw.timeout !== undefined && t.event === undefined && (t.durationMs !== undefined || t.until !== undefined)) {
    ctx.error(
      'LF_CONFLICT',
      `WAIT task ${t.id} has a timeout but waits for ${t.durationMs !== undefined ? 'a duration' : 'a time (until)'}; only a WAIT on an event can time out: remove timeout (or wait on an event)`,
      [...p, 'timeout'],
      { onKey: true },
    );
  }
  if (raw.on_timeout !== undefined && raw.on_timeout !== 'fail' && raw.on_timeout !== 'skip') {
    ctx.error(
      'LF_INVALID_VALUE',
      `on_timeout of WAIT task ${t.id} is ${JSON.stringify(raw.on_timeout)}; a WAIT's timeout can fail (the default) or skip it`,
      [...p, 'on_timeout'],
    );
  }
  if (raw.on_timeout !== undefined && raw.timeout === undefined) {
    ctx.warn(
      'LF_FIELD_IGNORED',
      `on_timeout is ignored on WAIT task ${t.id}: it has no timeout`,
      [...p, 'on_timeout'],
      { onKey: true },
    );
  }
}

/** A COMMAND needs `command` (a list: the schema refuses a string); it runs no handler; its env leaves ledgerflow's own names alone. */
function checkCommand(
  ctx: CheckContext,
  t: Extract<TaskDef, { type: 'COMMAND' }>,
  raw: Record<string, unknown>,
  p: RawPath,
): void {
  if (raw.command === undefined)
    ctx.error(
      'LF_MISSING_FIELD',
      `COMMAND task ${t.id} needs command: the program and its arguments as a list, e.g. [sh, scripts/scan.sh, "\${workflow.input.folder}"]`,
      p,
    );
  if (raw.handler !== undefined)
    ctx.warn(
      'LF_FIELD_IGNORED',
      `handler is ignored on COMMAND task ${t.id}: it runs its command, not a handler`,
      [...p, 'handler'],
      { onKey: true },
    );
  if (Array.isArray(raw.command)) checkOptionLikeArgs(ctx, t.id, t.command, p);
  for (const name of Object.keys(t.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      ctx.error(
        'LF_COMMAND_ENV_NAME',
        `env of COMMAND task ${t.id}: "${name}" is not a variable name; an environment variable name has only letters, digits and _, and does not start with a digit`,
        [...p, 'env', name],
        { onKey: true },
      );
    }
    if ((COMMAND_ENV_RESERVED as readonly string[]).includes(name)) {
      ctx.error(
        'LF_COMMAND_ENV_RESERVED',
        `env of COMMAND task ${t.id} sets ${name}, which ledgerflow sets for every command (${COMMAND_ENV_RESERVED.join(', ')}); use another name`,
        [...p, 'env', name],
        { onKey: true },
      );
    }
  }
}

/**
 * A MAP needs `items` and one body: its own `handler` (with `input`), an `iterator` task, or a `workflow`. A child run
 * per item (`workflow`) does not run yet, so it is refused here rather than failing a run.
 */
function checkMap(
  ctx: CheckContext,
  t: Extract<TaskDef, { type: 'MAP' }>,
  raw: Record<string, unknown>,
  p: RawPath,
): void {
  if (!t.items)
    ctx.error(
      'LF_MISSING_FIELD',
      `MAP task ${t.id} needs items (a template giving a list, e.g. "\${scan.output.folders}")`,
      p,
    );
  const bodies = (['handler', 'iterator', 'workflow'] as const).filter((k) => raw[k] !== undefined);
  if (bodies.length === 0 && raw.assigned_to === undefined) {
    ctx.error(
      'LF_MISSING_FIELD',
      `MAP task ${t.id} needs a body run per item: handler (with input), iterator (a task id), or workflow (a child run per item, its input the MAP's input)`,
      p,
    );
  }
  if (bodies.length > 1) {
    ctx.error(
      'LF_CONFLICT',
      `MAP task ${t.id} sets ${bodies.join(' and ')}; a MAP has one body per item: keep one of handler, iterator or workflow`,
      [...p, bodies[1]!],
      { onKey: true },
    );
  }
  if (t.iterator) {
    const it = ctx.task(t.iterator);
    if (it && it.type !== 'SIMPLE' && it.type !== 'COMMAND') {
      ctx.error(
        'LF_MAP_ITERATOR',
        `iterator of MAP task ${t.id} is ${it.type} task ${it.id}; an iterator is a SIMPLE task (its handler runs per item) or a COMMAND task (its command runs per item)`,
        [...p, 'iterator'],
      );
    }
    const other = ctx.def.tasks.find((o) => o !== t && o.type === 'MAP' && o.iterator === t.iterator);
    if (it && other && other.index < t.index) {
      ctx.error(
        'LF_MAP_ITERATOR',
        `task ${t.iterator} is the iterator of both ${other.id} and ${t.id}; give each MAP its own`,
        [...p, 'iterator'],
      );
    }
    if (t.iterator === t.id)
      ctx.error(
        'LF_MAP_ITERATOR',
        `MAP task ${t.id} names itself as its iterator; name a SIMPLE task, or give the MAP a handler`,
        [...p, 'iterator'],
      );
  }
}

/** The delay before the last attempt is the longest (backoff only grows): it must stay a valid duration. */
function checkLongestRetryDelay(ctx: CheckContext, t: TaskDef): void {
  const { maxAttempts, backoff, initialDelayMs, maxDelayMs } = t.retry;
  if (maxAttempts < 2) return;
  const n = maxAttempts - 1;
  const raw =
    backoff === 'linear'
      ? initialDelayMs * n
      : backoff === 'exponential'
        ? initialDelayMs * 2 ** (n - 1)
        : initialDelayMs;
  const longest = maxDelayMs === null ? raw : Math.min(raw, maxDelayMs);
  if (longest <= MAX_DURATION_MS) return;
  ctx.error(
    'LF_RETRY_DELAY_TOO_LONG',
    `retry_policy of task ${t.id}: the ${backoff} delay before attempt ${maxAttempts} would exceed ${MAX_DURATION_TEXT}; set max_delay (at most ${MAX_DURATION_TEXT}) or lower max_attempts`,
    [...ctx.taskPath(t), 'retry_policy', 'max_attempts'],
  );
}
