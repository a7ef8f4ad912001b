/**
 * The zod schema of the YAML language as users write it (snake_case, older aliases, strings or lists). It validates
 * shapes only: no transforms, so the same schema exports to JSON Schema for editors. normalize.ts turns the raw shape
 * into the canonical Definition; checks.ts does everything that needs the whole graph. This file holds the workflow
 * level; a task's schema is in task-schema.ts, a notification rule's in notification-schema.ts.
 */
import { z } from 'zod';
import { ID_REUSE_POLICIES, MAX_PRIORITY, MONITORING_METRICS, ON_LIMIT, RUN_TIMEOUT_POLICIES } from './types.js';
import { parseDuration } from '../duration.js';
import { Duration, JsonMap, OutputDecl, SearchMap, Template } from './schema-values.js';
import { DecisionCaseSchema, MAX_ID_LENGTH, RetryPolicySchema, TaskSchema } from './task-schema.js';
import { NotificationsSchema } from './notification-schema.js';
import { PayloadsSchema } from './payloads.js';

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

const InputType = z.enum(['string', 'number', 'boolean', 'object', 'array', 'any']);
const InputSpecSchema = z.object({
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
const DebounceSchema = z.strictObject(
  {
    period: GatePeriod.meta({ description: "Quiet time after the burst's last event before its one run starts." }),
    key: GateKey.optional(),
  },
  { error: 'expected { period: 30s, key: "${event.data.<field>}" }' },
);
/** An event trigger's `throttle`: at most `limit` runs start in any span of `per`; the rest wait (queue) or are dropped. */
const ThrottleSchema = z.strictObject(
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
 * `{ id, input }`: a run of workflow `id` when the run fails. `{ steps }` (the inline form): tasks of this definition
 * that run only when it fails (an `id` beside them only names the handler). One of the two is needed.
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

const PropertyTasks = z.union([z.string(), z.array(z.string())], { error: 'expected a task id or a list of task ids' });
const PropertiesSchema = z.strictObject({
  at_most_once: PropertyTasks.optional().meta({
    description: 'Tasks that never run twice on one path (retries of one run aside).',
  }),
  always_before: z
    .record(z.string(), PropertyTasks)
    .optional()
    .meta({ description: 'task: [tasks]: the task runs only after each of these tasks completed.' }),
  never_together: z
    .array(z.array(z.string()).min(2, { error: 'a never_together group names at least two tasks' }), {
      error: 'expected a list of groups of task ids, e.g. never_together: [[refund, ship]]',
    })
    .optional()
    .meta({ description: 'Groups of tasks of which no two run on one path.' }),
  eventually: PropertyTasks.optional().meta({ description: 'Tasks that ran on every path that completes.' }),
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
  properties: PropertiesSchema.optional().meta({
    description:
      'What must hold on every path (`ledgerflow verify`): at_most_once, always_before, never_together, eventually.',
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
  payloads: PayloadsSchema.optional().meta({
    description:
      'Large values: `inline_limit`, the most bytes of JSON kept inline in an event (default 256KiB); a larger input, output, signal or approval is stored apart and read as if inline.',
  }),
  timeout_policy: z
    .enum(RUN_TIMEOUT_POLICIES, { error: `expected one of ${RUN_TIMEOUT_POLICIES.join(', ')}` })
    .optional()
    .meta({
      description:
        'What a run that reaches its timeout becomes: fail (default: FAILED, the failure workflow runs) or cancel (CANCELLED).',
    }),
  retention: Duration.refine((v) => (parseDuration(v) ?? 1) > 0, {
    error: 'a retention must be longer than 0, e.g. "30d" (leave retention out to keep settled runs live)',
  })
    .optional()
    .meta({
      description:
        'How long a settled run stays in the live log and index after it settles; then `serve` and the engines move it to the archive (docs/retention.md).',
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
  payloads: ['inline_limit'],
} as const;
