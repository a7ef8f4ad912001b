/**
 * The zod schema of the YAML language as users write it (snake_case, older
 * aliases, strings or lists). It validates shapes only: no transforms, so the
 * same schema exports to JSON Schema for editors. normalize.ts turns the raw
 * shape into the canonical Definition; checks.ts does everything that needs
 * the whole graph.
 */
import { z } from 'zod';
import {
  ID_REUSE_POLICIES,
  MAX_PRIORITY,
  MONITORING_METRICS,
  NOTIFY_ON,
  ON_LIMIT,
  RUN_TIMEOUT_POLICIES,
  TASK_TYPES,
} from './types.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';
import { STATION_NAME } from './task-handlers.js';
import { MAX_SEARCH_ATTRS, SEARCH_NAME, SEARCH_TYPES } from './search.js';
import { HTTP_FIELDS } from './http.js';

const TaskIds = z
  .union([z.string(), z.array(z.string())], { error: 'expected a task id or a list of task ids' })
  .meta({ description: 'A task id or a list of task ids.' });

const DURATION = 'expected a duration like "30s", "1h30m", "PT1M" or a number of milliseconds';
const Duration = z
  .union([z.number().nonnegative(), z.string().refine((s) => parseDuration(s) !== null, { error: DURATION })], {
    error: DURATION,
  })
  .refine((v) => (parseDuration(v) ?? 0) <= MAX_DURATION_MS, {
    error: `a duration may be at most ${MAX_DURATION_TEXT} (${MAX_DURATION_MS} ms)`,
  })
  .meta({ description: 'Milliseconds, or "500ms", "30s", "2m", "1h30m", "1d", ISO 8601 "PT30S".' });

const Template = z.string().meta({ description: 'Text that may contain ${...} references.' });
const JsonMap = z.record(z.string(), z.unknown(), { error: 'expected a map of name: value' });

const SEARCH_NAME_FIX =
  'a search attribute name is a letter or _ then letters, digits or _ (at most 64), e.g. customer';
const SearchScalar = z.union([Template, z.number(), z.boolean()], {
  error: 'expected a value: text or a ${...} template, a number or true/false',
});
const SearchAttr = z
  .union(
    [
      SearchScalar,
      z.strictObject({
        value: SearchScalar,
        type: z.enum(SEARCH_TYPES, { error: `expected one of ${SEARCH_TYPES.join(', ')}` }).optional(),
      }),
    ],
    { error: `expected a value ("\${workflow.input.customer}") or { value, type: ${SEARCH_TYPES.join(' | ')} }` },
  )
  .meta({
    description: `A value (text or template: type string; a number; true/false) or { value, type: ${SEARCH_TYPES.join(' | ')} }.`,
  });
/** Workflow `search:` (declarations) and SET's `search:` (new values of declared ones). */
/** Names checked one by one (a key's own error would be reported as the map's). */
const searchNames = (m: Record<string, unknown>, ctx: z.core.$RefinementCtx) => {
  for (const k of Object.keys(m))
    if (!SEARCH_NAME.test(k)) ctx.addIssue({ code: 'custom', message: `"${k}": ${SEARCH_NAME_FIX}`, path: [k] });
};
const SearchMap = z
  .record(z.string(), SearchAttr, { error: 'expected a map of name: value' })
  .superRefine(searchNames)
  .refine((m) => Object.keys(m).length <= MAX_SEARCH_ATTRS, { error: `at most ${MAX_SEARCH_ATTRS} search attributes` });
const SetSearchMap = z
  .record(z.string(), SearchScalar, {
    error: "expected a map of name: value (names declared in the workflow's search:)",
  })
  .superRefine(searchNames);

/** The `monitoring:` block: the state file and the execution log it keeps (docs/state-file.md), the figures it reports (docs/metrics.md); other keys are kept as written. */
const MonitoringSchema = z.looseObject(
  {
    state_file: z
      .string()
      .min(1, { error: 'expected a file path, e.g. .3ox/workflow.state.yaml' })
      .optional()
      .meta({ description: 'The state file (default .3ox/workflow.state.yaml), inside the project folder.' }),
    log_to: z
      .string()
      .min(1, { error: 'expected a file path, e.g. .3ox/workflow.execution.log' })
      .optional()
      .meta({ description: 'The execution log: a line per step appended as the run commits.' }),
    report_frequency: z
      .enum(['per_task', 'per_run'], {
        error: "expected per_task (a line per task event) or per_run (the run's start and end)",
      })
      .optional(),
    metrics: z
      .array(z.enum(MONITORING_METRICS), { error: `expected a list of metric names: ${MONITORING_METRICS.join(', ')}` })
      .optional()
      .meta({
        description: `The figures ledgerflow stats, the dashboard and Prometheus show for this workflow (docs/metrics.md): ${MONITORING_METRICS.join(', ')}.`,
      }),
  },
  { error: 'expected a map: state_file, log_to, report_frequency, metrics' },
);

const OutputDecl = z
  .union([z.array(z.string()), z.record(z.string(), z.unknown())], {
    error: 'expected a list of output names or a map of name: value',
  })
  .meta({ description: 'Output names (list) or fixed/template values (map).' });

/** More attempts than this is a loop, not a retry policy; it also bounds the longest backoff. */
export const MAX_ATTEMPTS = 1000;

const Backoff = z.enum(['fixed', 'linear', 'exponential']);

export const RetryPolicySchema = z.object({
  max_attempts: z
    .number()
    .int()
    .min(1, { error: 'expected an integer of at least 1 (1 = no retry)' })
    .max(MAX_ATTEMPTS, { error: `expected at most ${MAX_ATTEMPTS} attempts` })
    .optional(),
  backoff: Backoff.optional(),
  backoff_strategy: Backoff.optional().meta({ description: 'Alias of backoff.' }),
  initial_delay: Duration.optional(),
  max_delay: Duration.optional(),
  jitter: z.number().min(0).max(1, { error: 'expected a fraction between 0 and 1' }).optional(),
});

export const DecisionCaseSchema = z.object({
  next: TaskIds.optional(),
  next_tasks: TaskIds.optional().meta({ description: 'Alias of next.' }),
  condition: z
    .string()
    .optional()
    .meta({ description: 'Boolean expression; the case is chosen only when it is true.' }),
});

/** A string given as `command` is a shell command line: say how to write it as a list instead. */
function commandError(issue: { input?: unknown }): string {
  const given = issue.input;
  if (typeof given === 'string') {
    const words = given.trim().split(/\s+/).filter(Boolean);
    return `command is a list of the program and its arguments, never a shell string (no shell runs it): split it into a list, e.g. command: ${JSON.stringify(words)}`;
  }
  return 'expected a list: the program, then its arguments (e.g. [sh, scripts/scan.sh, "${workflow.input.folder}"])';
}

const CommandArg = z.union([z.string(), z.number()], { error: 'expected a string (an argument; templates allowed)' });

const TASK_LIMIT_FIX = 'expected a whole number of attempts of at least 1, e.g. limit: 5';
const TaskLimit = z
  .number({ error: TASK_LIMIT_FIX })
  .int({ error: TASK_LIMIT_FIX })
  .min(1, { error: TASK_LIMIT_FIX })
  .max(100_000, { error: 'expected at most 100000' });
/** A task's `concurrency:` (docs/limits.md#task-concurrency-and-rate-limits): attempts running at once across all runs. */
/** An unknown key inside a limit is named, with the keys there are; anything else that is no map gets the shape to write. */
export const limitMapError = (shape: string, keys: string) => (iss: { code?: string; keys?: string[] }) =>
  iss.code === 'unrecognized_keys'
    ? `unknown key ${(iss.keys ?? []).join(', ')}: the keys are ${keys}, e.g. ${shape}`
    : `expected a map: ${shape}`;
export const TaskConcurrencySchema = z.strictObject(
  { limit: TaskLimit },
  { error: limitMapError('{ limit: 5 }', 'limit') },
);
/** A task's `rate_limit:`: at most `limit` attempt starts in any span of `per` (sliding), across all runs. */
export const RateLimitSchema = z.strictObject(
  {
    limit: TaskLimit,
    per: Duration.refine((v) => (parseDuration(v) ?? 1) > 0, {
      error: 'the window must be longer than 0, e.g. per: 1s',
    }),
  },
  { error: limitMapError('{ limit: 10, per: 1s }', 'limit and per') },
);

/** A task's `breaker:` (docs/limits.md#circuit-breakers): after `failures` failed attempts within `window` the breaker opens for `open_for`. */
const BREAKER_FAILURES_FIX = 'expected a whole number of failures of at least 1, e.g. failures: 5';
const positiveDuration = (example: string) =>
  Duration.refine((v) => (parseDuration(v) ?? 1) > 0, { error: `expected a duration longer than 0, e.g. ${example}` });
export const BreakerSchema = z.strictObject(
  {
    failures: z
      .number({ error: BREAKER_FAILURES_FIX })
      .int({ error: BREAKER_FAILURES_FIX })
      .min(1, { error: BREAKER_FAILURES_FIX })
      .max(100_000, { error: 'expected at most 100000' }),
    window: positiveDuration('window: 1m'),
    open_for: positiveDuration('open_for: 30s'),
  },
  { error: limitMapError('{ failures: 5, window: 1m, open_for: 30s }', 'failures, window and open_for') },
);

/** A skill's name (`requires:` on a task, `--skills` of a worker or agent): it becomes part of a NATS subject token. */
export const SKILL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SKILL_NAME_FIX =
  'a skill is a name of letters, digits, _ and - (at most 64), starting with a letter or digit, e.g. gpu';
/** Skills a task may require at most: they name the subject its attempts wait on. */
export const MAX_REQUIRED_SKILLS = 8;

/** The longest workflow or task id: a run id's length (events RUN_ID_PATTERN), so that an id is never cut where it is used. */
export const MAX_ID_LENGTH = 128;

export const TaskSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, {
      error: 'a task id starts with a letter or _ and contains only letters, digits, _ and -',
    })
    .max(MAX_ID_LENGTH, {
      error: `a task id is at most ${MAX_ID_LENGTH} characters (it becomes part of run ids and NATS subjects)`,
    }),
  name: z.string().optional(),
  type: z.enum(TASK_TYPES).meta({ description: 'Task type (case-insensitive).' }),
  description: z.string().optional(),
  depends_on: TaskIds.optional(),
  parallel_with: TaskIds.optional().meta({ description: 'A hint that tasks may run together; never a dependency.' }),
  input: JsonMap.optional(),
  output: OutputDecl.optional(),
  output_to: Template.optional(),
  retry_policy: RetryPolicySchema.optional(),
  timeout: Duration.optional(),
  handler: z.string().optional(),
  assigned_to: z.string().optional(),
  agent_level: z.union([z.string(), z.number()], { error: 'expected a string or a number' }).optional().meta({
    description:
      'The authority level, L0–L3: of an agent that may execute the task (default L3), or, on a HUMAN task, of who may approve it (default L0).',
  }),
  queue: z.string().optional(),
  requires: z
    .array(z.string().regex(SKILL_NAME, { error: SKILL_NAME_FIX }), {
      error: 'expected a list of skills, e.g. requires: [gpu, pdf]',
    })
    .min(1, { error: 'expected at least one skill (or leave requires: out)' })
    .max(MAX_REQUIRED_SKILLS, { error: `a task requires at most ${MAX_REQUIRED_SKILLS} skills` })
    .optional()
    .meta({
      description:
        'Skills an agent or worker must have to run this task (each attempt goes only to one with every skill listed: `--skills`); nobody with them: the attempt waits SCHEDULED.',
    }),
  station: z
    .string()
    .regex(STATION_NAME, { error: 'a station name is 1 to 56 letters, digits, _ and - (its queue is station-<name>)' })
    .optional()
    .meta({
      description:
        "The station (a leaf node's site) whose workers run this task's attempts: they wait on queue station-<name> (docs/nats.md#stations). Not together with queue.",
    }),
  optional: z.boolean().optional(),
  trigger_rule: z.enum(['none_failed_min_one_success', 'all_success', 'all_done']).optional(),
  // DECISION
  decision_param: Template.optional(),
  decision_cases: z.record(z.string(), DecisionCaseSchema).optional(),
  // HUMAN
  wait_for_approval: z.boolean().optional(),
  approvers: z
    .union([z.string(), z.array(z.string())], { error: 'expected a user name or a list of user names' })
    .optional(),
  on_timeout: z.enum(['fail', 'approve', 'reject', 'skip']).optional(),
  // FORK / JOIN
  fork_tasks: z
    .array(
      z.union([z.string(), z.array(z.string())], { error: 'expected a task id or a list of task ids (one branch)' }),
    )
    .optional(),
  join_on: TaskIds.optional(),
  // DO_WHILE
  loop_condition: z.string().optional(),
  loop_over: TaskIds.optional(),
  max_iterations: z.number().int().min(1).optional(),
  // WAIT (event is shared with EMIT)
  duration: Duration.optional(),
  until: Template.optional(),
  event: z.string().optional(),
  from: z
    .union([z.string(), z.array(z.string())], {
      error: 'expected a user name or a list of user names (who may send the signal)',
    })
    .optional(),
  // SUB_WORKFLOW
  workflow: z.string().optional(),
  version: z.number().int().min(1).optional(),
  // MAP
  items: Template.optional(),
  iterator: z.string().optional(),
  max_concurrency: z.number().int().min(1).optional(),
  // Task flow control (docs/limits.md#task-concurrency-and-rate-limits)
  concurrency: TaskConcurrencySchema.optional().meta({
    description:
      'At most `limit` attempts of this task (a MAP: of its items) running at once across all runs; the others wait SCHEDULED.',
  }),
  rate_limit: RateLimitSchema.optional().meta({
    description:
      'At most `limit` attempts of this task (a MAP: of its items) start in any span of `per`, across all runs; the others wait SCHEDULED.',
  }),
  breaker: BreakerSchema.optional().meta({
    description:
      'A circuit breaker: after `failures` failed attempts of this task (a MAP: of its items) within `window`, across all runs, its attempts wait SCHEDULED for `open_for`; then one probe attempt decides.',
  }),
  tolerate_failures: z
    .number()
    .int()
    .min(0, { error: 'expected an integer of at least 0 (the items that may fail without failing the MAP)' })
    .optional(),
  // TERMINATE
  status: z.enum(['COMPLETED', 'FAILED']).optional(),
  reason: Template.optional(),
  // SET / EMIT
  values: JsonMap.optional(),
  search: SetSearchMap.optional().meta({
    description:
      'SET: new values of search attributes the workflow declares (templates resolved when the task runs, converted to the declared type).',
  }),
  data: JsonMap.optional(),
  // TRANSFORM
  jq: z
    .string({ error: 'expected a jq program (text), e.g. jq: ".items | length"' })
    .min(1, { error: 'expected a jq program, e.g. jq: ".items | length"' })
    .optional()
    .meta({ description: "TRANSFORM: the jq program run over the task's input; output { result, resultList }." }),
  js: z
    .string({ error: 'expected a JavaScript script (text), e.g. js: "$.items.length"' })
    .min(1, { error: 'expected a JavaScript script, e.g. js: "$.items.length"' })
    .optional()
    .meta({
      description:
        "TRANSFORM: a JavaScript script run in a sandbox (QuickJS) with $ = the task's input; its value is the output's result.",
    }),
  // COMMAND
  command: z
    .array(CommandArg, { error: commandError })
    .min(1, { error: 'command needs at least the program to run, e.g. [sh, scripts/scan.sh]' })
    .optional()
    .meta({ description: 'COMMAND: [program, arg, ...], each a template; never a shell string.' }),
  cwd: Template.optional().meta({
    description: "COMMAND: working directory (template); default the definition's directory.",
  }),
  env: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string (a template)' }), {
      error: 'expected a map of NAME: value',
    })
    .optional()
    .meta({ description: 'COMMAND: environment variables added to the process environment (values are templates).' }),
  ...HTTP_FIELDS,
});

const InputType = z.enum(['string', 'number', 'boolean', 'object', 'array', 'any']);
export const InputSpecSchema = z.object({
  type: InputType.optional(),
  default: z.unknown().optional(),
  description: z.string().optional(),
});

/** An event trigger's `debounce` (docs/triggers.md#debounce-and-throttle): one run with the last event of a burst. */
const GateKey = Template.meta({
  description:
    'Groups events (a template over ${event.…}); each value has its own burst or window. Default: one for the trigger.',
});
const GatePeriod = Duration.refine((v) => parseDuration(v) !== 0, { error: 'must be longer than 0, e.g. "30s"' });
export const DebounceSchema = z.strictObject(
  {
    period: GatePeriod.meta({ description: "Quiet time after the burst's last event before its one run starts." }),
    key: GateKey.optional(),
  },
  { error: 'expected { period: 30s, key: "${event.data.<field>}" }' },
);
/** An event trigger's `throttle`: at most `limit` runs start in any span of `per`; the rest wait (queue) or are dropped. */
export const ThrottleSchema = z.strictObject(
  {
    limit: z
      .number({ error: 'expected a whole number of runs, e.g. 10' })
      .int({ error: 'expected a whole number of runs, e.g. 10' })
      .min(1, { error: 'expected at least 1 run per window; to start none, remove the trigger' })
      .max(100_000, { error: 'expected at most 100000 runs per window' }),
    per: GatePeriod.meta({ description: 'The window: at most `limit` starts in any span this long (sliding).' }),
    key: GateKey.optional(),
    on_limit: z
      .enum(['queue', 'drop'], { error: 'expected queue (start it when the window allows; default) or drop' })
      .optional(),
  },
  { error: 'expected { limit: 10, per: 1m, key: "${event.data.<field>}", on_limit: queue }' },
);

export const TriggerSchema = z
  .object({
    event: z.string().optional(),
    filter: z.string().optional().meta({ description: 'Condition over the event.' }),
    schedule: z.string().optional().meta({ description: 'Cron expression.' }),
    cron: z.string().optional().meta({ description: 'Alias of schedule.' }),
    timezone: z.string().optional().meta({ description: 'IANA time zone the schedule is read in (default UTC).' }),
    catch_up: z.enum(['none', 'latest', 'all'], { error: 'expected none, latest or all' }).optional().meta({
      description:
        'Slots missed while nothing fired them: none (skip them), latest (fire the most recent once; default), all (fire each).',
    }),
    input: JsonMap.optional(),
    debounce: DebounceSchema.optional(),
    throttle: ThrottleSchema.optional(),
  })
  .refine((t) => (t.event !== undefined) !== (t.schedule !== undefined || t.cron !== undefined), {
    error: 'a trigger has either `event` or `schedule` (cron), not both and not neither',
  });

/**
 * `{ id, input }`: a run of workflow `id` when the run fails. `{ steps }` (the
 * inline form): tasks of this definition that run only when it fails (an `id`
 * beside them only names the handler). One of the two is needed.
 */
export const FailureWorkflowSchema = z
  .object({
    id: z.string().optional(),
    steps: z.array(z.string()).optional(),
    input: JsonMap.optional(),
  })
  .refine((f) => f.id !== undefined || (f.steps?.length ?? 0) > 0, {
    error:
      'failure_workflow needs `id` (a workflow to start when the run fails) or `steps` (tasks of this workflow to run when it fails)',
  });

/** An absolute http(s) URL: what a webhook may be (no file:, data:, javascript: or relative URLs). */
export function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Headers ledgerflow sets on a webhook's POST itself: a rule may not set them. */
export const RESERVED_WEBHOOK_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'idempotency-key',
  'transfer-encoding',
  'connection',
];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Which of `on`'s values is wrong, when it is a list (a union's own message would only say "a list"). */
function onError(issue: { input?: unknown }): string {
  const bad = Array.isArray(issue.input)
    ? issue.input.filter((x) => !(NOTIFY_ON as readonly unknown[]).includes(x))
    : [];
  const which =
    bad.length > 0
      ? `${bad.map((b) => JSON.stringify(b)).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not a status to notify on; `
      : '';
  return `${which}expected a status or a list of them: ${NOTIFY_ON.join(', ')}`;
}

const RoleName = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected a role name: letters, digits, _ and -, e.g. commander' });

const NotifyOnValue = z.enum(NOTIFY_ON, { error: `expected one of ${NOTIFY_ON.join(', ')} (upper case)` });

/**
 * One `notifications:` rule, in a definition or in a global notifications
 * file (`--notifications`, LEDGERFLOW_NOTIFICATIONS): the same shape.
 */
export const NotificationRuleSchema = z
  .object({
    on: z
      .union(
        [NotifyOnValue, z.array(NotifyOnValue).min(1, { error: 'list at least one of ' + NOTIFY_ON.join(', ') })],
        { error: onError },
      )
      .optional()
      .meta({
        description:
          'FAILED, WAITING (for a person or a signal), COMPLETED, CANCELLED, RETRIED (a task attempt number reaching retried_at_least).',
      }),
    role: z
      .union([RoleName, z.array(RoleName).min(1, { error: 'list at least one role, e.g. [commander]' })], {
        error: 'expected a role name or a list of them, e.g. commander',
      })
      .optional()
      .meta({
        description:
          "People this target reaches by role: the failure handler's notify_commander step sends to the targets of role commander.",
      }),
    retried_at_least: z
      .number()
      .int()
      .min(2, { error: 'expected an attempt number of at least 2 (2 = the first retry)' })
      .max(MAX_ATTEMPTS)
      .optional()
      .meta({
        description: "With RETRIED: notify when a task's attempt number reaches this (default 2, the first retry).",
      }),
    nats: z
      .boolean()
      .optional()
      .meta({ description: 'Publish on lf.notify.<workflow>.<status> (on NATS JetStream only).' }),
    webhook: z
      .string()
      .refine(isHttpUrl, { error: 'expected an absolute http:// or https:// URL' })
      .optional()
      .meta({ description: 'POST a JSON body to this http(s) URL.' }),
    headers: z
      .record(
        z.string().regex(HEADER_NAME, { error: 'expected an HTTP header name' }),
        z.string({ error: 'expected a header value (a string)' }),
        { error: 'expected a map of Header-Name: value' },
      )
      .optional()
      .meta({ description: 'Headers added to the webhook POST.' }),
  })
  .check((ctx) => {
    const r = ctx.value;
    const on = r.on === undefined ? [] : Array.isArray(r.on) ? r.on : [r.on];
    if (r.on === undefined && r.role === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: r,
        path: [],
        message: `a notification needs \`on:\` (when to send: ${NOTIFY_ON.join(', ')}) and/or \`role:\` (who it reaches, e.g. commander)`,
      });
    }
    if (r.nats !== true && r.webhook === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: r,
        path: [],
        message: 'a notification needs a target: `nats: true` and/or `webhook: <http(s) URL>`',
      });
    }
    if (r.retried_at_least !== undefined && !on.includes('RETRIED')) {
      ctx.issues.push({
        code: 'custom',
        input: r.retried_at_least,
        path: ['retried_at_least'],
        message: 'retried_at_least applies to RETRIED only: add RETRIED to `on`',
      });
    }
    if (r.headers !== undefined && r.webhook === undefined) {
      ctx.issues.push({
        code: 'custom',
        input: r.headers,
        path: ['headers'],
        message: 'headers go with a webhook: add `webhook: <http(s) URL>`',
      });
    }
    for (const name of Object.keys(r.headers ?? {})) {
      if (RESERVED_WEBHOOK_HEADERS.includes(name.toLowerCase())) {
        ctx.issues.push({
          code: 'custom',
          input: name,
          path: ['headers', name],
          message: `${name} is set by ledgerflow itself (the JSON body, the notification's id): leave it out`,
        });
      }
    }
  });

const LIMIT_FIX = 'expected a whole number of runs of at least 1, e.g. limit: 2';
const ConcurrencySchema = z.object(
  {
    limit: z.number({ error: LIMIT_FIX }).int({ error: LIMIT_FIX }).min(1, { error: LIMIT_FIX }),
    key: z
      .string({ error: 'expected a template of the input, e.g. key: "${workflow.input.customer}"' })
      .min(1)
      .optional(),
    on_limit: z
      .enum(ON_LIMIT, {
        error: `expected one of ${ON_LIMIT.join(', ')} (queue: wait in QUEUED for a slot; refuse: the start fails)`,
      })
      .optional(),
  },
  { error: 'expected a map: { limit: 2, key: "${workflow.input.customer}", on_limit: queue }' },
);

const PRIORITY_FIX = `expected a whole number from 0 to ${MAX_PRIORITY} (higher is admitted first)`;
export const PrioritySchema = z
  .number({ error: PRIORITY_FIX })
  .int({ error: PRIORITY_FIX })
  .min(0, { error: PRIORITY_FIX })
  .max(MAX_PRIORITY, { error: PRIORITY_FIX });

export const NotificationsSchema = z.array(NotificationRuleSchema, {
  error: 'expected a list of notification rules (each with `on:` and a target)',
});

export const WorkflowSchema = z.object({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, {
      error: 'a workflow id contains only letters, digits, _ and - (it becomes a NATS subject token)',
    })
    .max(MAX_ID_LENGTH, {
      error: `a workflow id is at most ${MAX_ID_LENGTH} characters, as a run id (it becomes part of run ids, NATS subjects and KV keys)`,
    }),
  name: z.string().optional(),
  version: z.number().int().min(1).optional(),
  description: z.string().optional(),
  domain: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'The domain whose Station OPS (L2) may start runs of this workflow (docs/users.md).' }),
  input: z
    .object({
      required: z
        .array(
          z.union([z.string(), z.record(z.string(), InputSpecSchema.nullable())], {
            error: 'expected an input name or a map of name: { type, default, description }',
          }),
        )
        .optional(),
      optional: z
        .array(
          z.union([z.string(), z.record(z.string(), z.unknown())], {
            error: 'expected an input name or a map of name: default',
          }),
        )
        .optional(),
    })
    .optional(),
  output: OutputDecl.optional(),
  search: SearchMap.optional().meta({
    description:
      'Search attributes: typed values resolved from the input when a run starts (SET tasks may set them again); `list --where name=value` finds runs by them.',
  }),
  tasks: z.array(TaskSchema).min(1, { error: 'a workflow needs at least one task' }),
  failure_workflow: FailureWorkflowSchema.optional(),
  monitoring: MonitoringSchema.optional(),
  triggers: z.array(TriggerSchema).optional(),
  handlers: z.string().optional().meta({ description: 'Handler module path, relative to this file.' }),
  id_reuse: z
    .enum(ID_REUSE_POLICIES, { error: `expected one of ${ID_REUSE_POLICIES.join(', ')}` })
    .optional()
    .meta({
      description:
        'What a start with a caller-chosen run id (`run --id`) does when that id has a run already (default reject_duplicate: return that run).',
    }),
  concurrency: ConcurrencySchema.optional().meta({
    description:
      'At most `limit` runs of this workflow (per value of `key`) going at once; the others QUEUED (on_limit: queue, the default) or refused (refuse).',
  }),
  priority: PrioritySchema.optional().meta({
    description:
      'Which queued run is admitted first when a slot frees: 0..99, higher first (default 50); equal priorities keep arrival order.',
  }),
  notifications: NotificationsSchema.optional().meta({
    description:
      "Who hears of status changes: NATS subjects and webhooks (at least once; each delivery noted in the run's history).",
  }),
  // Run timeout (docs/runs.md#run-timeouts)
  timeout: Duration.refine((v) => (parseDuration(v) ?? 1) > 0, {
    error: 'a run timeout must be longer than 0, e.g. "2h" (leave timeout out to let runs take as long as they need)',
  })
    .optional()
    .meta({
      description:
        'How long a run may take from its start, paused time included: past it, it ends as timeout_policy says (error LF_RUN_TIMEOUT).',
    }),
  timeout_policy: z
    .enum(RUN_TIMEOUT_POLICIES, { error: `expected one of ${RUN_TIMEOUT_POLICIES.join(', ')}` })
    .optional()
    .meta({
      description:
        'What a run that reaches its timeout becomes: fail (default: FAILED, the failure workflow runs) or cancel (CANCELLED).',
    }),
});

export const DefinitionSchema = z.object({ workflow: WorkflowSchema });

/** Known keys per kind of map, for "unknown key" warnings: taken from the schema so they never drift. */
export const KNOWN_KEYS = {
  workflow: Object.keys(WorkflowSchema.shape),
  input: ['required', 'optional'],
  task: Object.keys(TaskSchema.shape),
  retry_policy: Object.keys(RetryPolicySchema.shape),
  decision_case: Object.keys(DecisionCaseSchema.shape),
  failure_workflow: Object.keys(FailureWorkflowSchema.shape),
  trigger: ['event', 'filter', 'schedule', 'cron', 'timezone', 'catch_up', 'input', 'debounce', 'throttle'],
  notification: ['on', 'role', 'retried_at_least', 'nats', 'webhook', 'headers'],
  concurrency: ['limit', 'key', 'on_limit'],
} as const;
