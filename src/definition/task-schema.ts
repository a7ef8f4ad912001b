/**
 * The zod schema of one task as users write it (TaskSchema), with the pieces only tasks have: retry policy, decision
 * cases, the command list, task flow control (concurrency, rate_limit, breaker), skills and id limits.
 */
import { z } from 'zod';
import { TASK_TYPES } from './task-types.js';
import { parseDuration } from '../duration.js';
import { STATION_NAME } from './task-handlers.js';
import { HTTP_FIELDS } from './http.js';
import { Duration, JsonMap, OutputDecl, SetSearchMap, TaskIds, Template } from './schema-values.js';

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
  handler: z.string().optional().meta({
    description:
      'The handler its attempts run (default: assigned_to, else the id). A SIMPLE task may name it by a template (`${workflow.input.task}`), resolved when an attempt starts.',
  }),
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
  wait_forever: z.boolean().optional().meta({
    description:
      'HUMAN or WAIT on an event: waiting with no timeout is meant (`ledgerflow verify` then accepts that nobody may ever answer).',
  }),
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
  wait: z.boolean().optional().meta({
    description:
      'SUB_WORKFLOW: false starts the child run and completes the task at once with { runId, workflow }; the child goes on by itself (default true: the task waits for it).',
  }),
  // MAP
  items: Template.optional(),
  iterator: z.string().optional(),
  max_concurrency: z.number().int().min(1).optional(),
  // FORK_DYNAMIC (fork-dynamic.ts)
  branches: Template.optional().meta({
    description:
      'FORK_DYNAMIC: a template giving the list of branches when the task starts, each { id, type: SIMPLE | SUB_WORKFLOW, handler | workflow, input }.',
  }),
  inputs: Template.optional().meta({
    description:
      "FORK_DYNAMIC: a template giving a map of branch id to that branch's input (over the element's own input).",
  }),
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
