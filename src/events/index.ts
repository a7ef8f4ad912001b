/**
 * The event envelope and the event types of a run. A run IS its events: every
 * envelope carries the run and workflow ids, a per-run sequence starting at 1,
 * the time it was recorded, a type and its data, and the state it led to
 * (workflow status + a hash of the compact state) so replay can be checked.
 * Everything read from a store is parsed with these schemas at the boundary.
 */
import { z } from 'zod';
import { TaskDelayedData } from './task-delayed.js';
import { RunMigratedData } from './run-migrated.js';
export { delayText, delayPart } from './task-delayed.js';

import { TaskErrorSchema } from './task-error.js';
export type { TaskError } from './task-error.js';

/**
 * Which attempt of which task instance an event is about. `iteration`: the
 * DO_WHILE iteration of a loop-body task; `item`: the MAP item. Absent for
 * every other task (see compiler/instances.ts), so older events parse as
 * they always did.
 */
const taskRef = {
  task: z.string().min(1),
  attempt: z.number().int().positive(),
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
};

/** The run that started a run: a SUB_WORKFLOW attempt's, or (`relation: failure`) a failed run whose failure_workflow it is. */
export const RunParentSchema = z.object({
  runId: z.string().min(1),
  workflowId: z.string().min(1),
  task: z.string().min(1).optional(),
  attempt: z.number().int().positive().optional(),
  /** The SUB_WORKFLOW's loop iteration / MAP item, when it is not the task's only instance. */
  iteration: z.number().int().positive().optional(),
  item: z.number().int().nonnegative().optional(),
  relation: z.literal('failure').optional(),
  /** How many runs are above this one (1: its parent is a top-level run); bounds a cycle of sub-workflows (LF_SUBWORKFLOW_CYCLE). */
  depth: z.number().int().positive().optional(),
});
export type RunParent = z.infer<typeof RunParentSchema>;

/**
 * The schedule slot that started a run (src/triggers/schedule.ts): the trigger's index, the
 * slot (UTC), its cron and zone; `missed`/`missedCount`: the slots catch_up latest skipped for it; `manual`: see below.
 */
export const RunScheduleSchema = z.object({
  trigger: z.number().int().nonnegative(),
  slot: z.string().min(1),
  cron: z.string(),
  timezone: z.string(),
  missed: z.array(z.string()).optional(),
  missedCount: z.number().int().nonnegative().optional(),
  manual: z.literal(true).optional(), // started by a person (`schedules trigger`): `slot` is when they asked, not a cron slot
});
export type RunSchedule = z.infer<typeof RunScheduleSchema>;

export const RunStartedData = z.object({
  /** The normalised Definition the run uses, recorded so replay never reads the file again. */
  definition: z.record(z.string(), z.unknown()),
  definitionHash: z.string(),
  input: z.record(z.string(), z.unknown()),
  /**
   * The format of the state hash every event of this run records (runtime/state-hash.ts): 2 for runs started
   * since 2026-11-23 (per-chunk digests, so a long run's hash costs the same per event as a short one's);
   * absent in older runs, which keep format 1 (sha256 of the whole state's text) and replay as they always did.
   */
  stateHashVersion: z.literal(2).optional(),
  /**
   * The priority the start gave the run (`run --priority`, `start --priority`, the API's and the HTTP
   * start's `priority`), over the workflow's `priority:`; absent when the start gave none. It orders
   * the run's waits: for a concurrency slot (run.queued records it too) and for a task's gate.
   */
  priority: z.number().int().min(0).max(99).optional(),
  /** Where the definition came from, which handler module it names (for `resume`), and the event that started the run. */
  source: z
    .object({
      file: z.string().optional(),
      handlers: z.string().optional(),
      event: z.string().optional(),
      parent: RunParentSchema.optional(),
      /**
       * Retry from failed (runtime/retry.ts): the FAILED or CANCELLED run this one retries, and the outputs of
       * its tasks this run reuses (task id → output), completed without an attempt as each becomes ready.
       * Recorded here so replay never reads the old run.
       */
      retryOf: z
        .object({
          runId: z.string().min(1),
          outputs: z.record(z.string(), z.unknown()).optional(),
        })
        .optional(),
      schedule: RunScheduleSchema.optional(),
      /** A debounced or throttled event trigger's run (docs/triggers.md#debounce-and-throttle): the events it absorbed, how long it was held. */
      gate: z
        .object({
          kind: z.enum(['debounce', 'throttle']),
          trigger: z.number().int().nonnegative(),
          key: z.string(),
          /** Events this run stands for (the starting one included). */
          count: z.number().int().positive(),
          /** Ids of the events merged into it (debounce; up to 100, oldest first). */
          absorbed: z.array(z.string()).optional(),
          /** When its first event arrived (ISO, the receiving process's clock). */
          firstAt: z.string().optional(),
        })
        .optional(),
      /**
       * Who asked for the run, where that is not the process that recorded it: on NATS, the person whose start
       * (or retry) an engine took from lf.starts.<user> and judged (docs/users.md#on-nats).
       */
      by: z.string().max(200).optional(),
    })
    .optional(),
});
export type RunSource = NonNullable<z.infer<typeof RunStartedData>['source']>;
export { definitionRecord, recordedDefinitionOf } from './recorded-definition.js';
/** A task a retry completed with the output of the run it retries (source.retryOf), without an attempt. */
const reused = { reused: z.object({ runId: z.string().min(1) }).optional() };
export const TaskStartedData = z.object({ ...taskRef, ...reused });
/**
 * Who reported an outcome, where a server could tell: on NATS, the user the
 * input came from (the subject's sender token, which nats.conf confines each
 * user to). Absent for in-process handlers. `unauthenticated`: the server has
 * no users, so the name is the sender's own claim.
 */
const reporter = {
  by: z.string().min(1).optional(),
  unauthenticated: z.literal(true).optional(),
};
export const TaskCompletedData = z.object({ ...taskRef, output: z.unknown(), ...reporter, ...reused });
export const TaskFailedData = z.object({ ...taskRef, error: TaskErrorSchema, ...reporter });
/**
 * The attempt in flight was lost with the process running it (a worker that
 * stopped answering, or this process's own crash before `resume`) and runs
 * again: the same attempt number and idempotency key, its retries untouched,
 * its timeout counted from now. `restart` numbers the restarts of this
 * attempt (1, 2, ...); past the cap the loss fails the attempt instead
 * (runtime/restarts.ts).
 */
export const TaskRestartedData = z.object({
  ...taskRef,
  restart: z.number().int().positive(),
  reason: z.enum(['resumed', 'worker_lost']),
  /** The worker (name it signed the attempt ledger with) or process that had the attempt, when known. */
  lost: z.string().optional(),
  ...reporter,
});
/** `run_timeout`: the workflow's `timeout:` (task `$run`, attempt 1: compiler/run-timeout.ts). */
export const TimerKind = z.enum(['backoff', 'timeout', 'approval_timeout', 'wait', 'run_timeout']);
export type TimerKind = z.infer<typeof TimerKind>;
export const TimerFiredData = z.object({ ...taskRef, timer: TimerKind });
export const ApprovalRecordedData = z.object({
  task: z.string().min(1),
  decision: z.enum(['approved', 'rejected']),
  by: z.string().min(1),
  comment: z.string().optional(),
  /** `by` is a name the sender gave, not an identity a server proved (`--as` on a NATS server without users). */
  unauthenticated: z.literal(true).optional(),
});
/** Largest signal payload, as JSON text: signals come from outside (CLI, NATS) and are kept in the log. */
export const MAX_SIGNAL_DATA_BYTES = 64 * 1024;
/** A signal name: what a WAIT's `event:` names (1-256 characters, no control characters). */
export const SignalNameSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'a signal name holds no control characters' });
/**
 * A signal for the WAITs of a run that wait for `name` (`event:`): every such
 * WAIT that is waiting completes with `data` as its output, and one not yet
 * reached keeps it until it is. `by`/`unauthenticated` as for approvals.
 */
export const SignalReceivedData = z.object({
  name: SignalNameSchema,
  data: z.unknown().optional(),
  by: z.string().min(1).optional(),
  unauthenticated: z.literal(true).optional(),
  /** The WAITs that may take it where a users file's default for a WAIT without from: leaves one out (runtime/signals.ts); else absent. */
  waits: z.array(z.string().min(1)).min(1).optional(),
});
/**
 * A signal as it comes from outside (CLI `--data`, a NATS message body):
 * JSON, its data at most MAX_SIGNAL_DATA_BYTES as JSON text.
 */
export const SignalBodySchema = z
  .object({
    name: SignalNameSchema,
    /** Any JSON value (the body is JSON): the WAIT's output. */
    data: z.unknown().optional(),
  })
  .check((ctx) => {
    if (ctx.value.data === undefined) return;
    const bytes = Buffer.byteLength(JSON.stringify(ctx.value.data), 'utf8');
    if (bytes > MAX_SIGNAL_DATA_BYTES) {
      ctx.issues.push({
        code: 'custom',
        input: ctx.value.data,
        path: ['data'],
        message: `signal data has ${bytes} bytes as JSON; at most ${MAX_SIGNAL_DATA_BYTES} (64 KB): pass a reference (a path, an id) to larger data`,
      });
    }
  });
export type SignalBody = z.infer<typeof SignalBodySchema>;
/** `unauthenticated`: `by` is a name nobody proved (run control over NATS on a server without users). */
export const RunCancelledData = z.object({
  by: z.string().optional(),
  reason: z.string().optional(),
  unauthenticated: z.literal(true).optional(),
});
/**
 * The engine could not fold an input into the run (a bug, or a definition
 * that got past validation but cannot run): the run fails with the error
 * instead of crashing the engine or staying stuck. The input is named in the
 * message; it is not recorded itself, since no state can be computed for it.
 */
export const RunFailedData = z.object({ error: TaskErrorSchema });
/**
 * A person paused the run: no new attempt starts until `run.resumed`
 * (running ones finish and are recorded; timers fire; approvals are taken).
 * `by`: who paused it (on NATS the input's sender); `reason` as given.
 */
export const RunPausedData = z.object({
  by: z.string().min(1).optional(),
  reason: z.string().optional(),
  unauthenticated: z.literal(true).optional(),
});
/** The run was un-paused: the next commit starts every task that was scheduled meanwhile. */
export const RunResumedData = z.object({
  by: z.string().min(1).optional(),
  unauthenticated: z.literal(true).optional(),
});
/**
 * The run waits for a slot of its workflow's `concurrency:` (status QUEUED): nothing starts until
 * run.admitted. `priority` (0..99, higher first) and then the time of this event order the queue;
 * `key`: the value of `concurrency.key` the limit holds per (null without one).
 */
export const RunQueuedData = z.object({
  priority: z.number().int().min(0).max(99),
  key: z.string().nullable(),
  limit: z.number().int().positive(),
  /**
   * Recorded by every start since 2026-11-23: nothing of the run moves while it is queued (no timer
   * but the run's own `timeout:` fires; no approval, signal or outcome is taken), and at run.admitted
   * its timers' due times move on by the time it waited, so a `WAIT 3s` waits 3 s after admission.
   * Absent in runs queued before: they fold as they did (timers fired and approvals were taken while queued).
   */
  holds: z.literal(true).optional(),
});
/** A slot was free: the queued run goes on (its first tasks start with the next commit). */
export const RunAdmittedData = z.object({ by: z.string().min(1).optional() });
/** An approval that was refused (not an approver, already decided, not a HUMAN task): kept for the audit trail, changes no state. */
export const ApprovalRefusedData = z.object({
  task: z.string().min(1),
  decision: z.enum(['approved', 'rejected']),
  by: z.string().min(1),
  reason: z.string(),
  comment: z.string().optional(),
  unauthenticated: z.literal(true).optional(),
});

/** What a notification rule reacts to (src/notify): a run status it reaches, or a task retried (attempt N). */
export const NotifyOn = z.enum(['FAILED', 'WAITING', 'COMPLETED', 'CANCELLED', 'RETRIED']);
export type NotifyOn = z.infer<typeof NotifyOn>;
/**
 * A notification's delivery to one target, noted in the run's history by
 * whoever drove the run (src/notify). Like approval.refused it changes no
 * state, and it may follow a settled run. `id`: the notification's stable id
 * (`<runId>/<seq>/<on>`: what the NATS msg id and the webhook's
 * Idempotency-Key carry); `seq`: the event that made it due; `target`: which
 * target (`nats:<subject>`, or `webhook:<origin>#<hash of the whole URL>`, so
 * no secret in a URL's path or query lands in the log); `stateTime`: the time
 * of the last event that changed the run's state, what summaries take as the
 * run's time (completedAt) when a note comes last.
 */
const notificationNote = {
  id: z.string().min(1),
  on: NotifyOn,
  seq: z.number().int().positive(),
  target: z.string().min(1),
  attempts: z.number().int().positive(),
  stateTime: z.string(),
};
export const NotificationSentData = z.object({ ...notificationNote, statusCode: z.number().int().optional() });
export const NotificationDeadLetteredData = z.object({ ...notificationNote, error: z.string() });

export const EVENT_DATA = {
  'run.started': RunStartedData,
  'task.started': TaskStartedData,
  'task.completed': TaskCompletedData,
  'task.failed': TaskFailedData,
  'timer.fired': TimerFiredData,
  'approval.recorded': ApprovalRecordedData,
  'run.cancelled': RunCancelledData,
  'approval.refused': ApprovalRefusedData,
  'run.failed': RunFailedData,
  'task.restarted': TaskRestartedData,
  'signal.received': SignalReceivedData,
  'run.paused': RunPausedData,
  'run.resumed': RunResumedData,
  'run.queued': RunQueuedData,
  'run.admitted': RunAdmittedData,
  'notification.sent': NotificationSentData,
  'notification.dead_lettered': NotificationDeadLetteredData,
  'task.delayed': TaskDelayedData,
  'run.migrated': RunMigratedData,
} as const;
export type EventType = keyof typeof EVENT_DATA;
export const EVENT_TYPES = Object.keys(EVENT_DATA) as EventType[];

export type EventData<T extends EventType> = z.infer<(typeof EVENT_DATA)[T]>;
/**
 * PAUSED: active, and paused (`run.paused`): no new attempt starts until `run.resumed`.
 * QUEUED: waiting for a concurrency slot (`run.queued`): nothing starts until `run.admitted`.
 */
export const WorkflowStatus = z.enum(['RUNNING', 'WAITING', 'COMPLETED', 'FAILED', 'CANCELLED', 'PAUSED', 'QUEUED']);
export type WorkflowStatus = z.infer<typeof WorkflowStatus>;
export const SETTLED_STATUSES: readonly WorkflowStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];
/**
 * A run id: it becomes a file name (file store) and a NATS subject token
 * (`lf.events.<workflowId>.<runId>`), so it holds neither path separators nor
 * `.`, `*`, `>` or spaces. Engine, trigger, nanoid and uuid ids all fit.
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const RunIdSchema = z
  .string()
  .regex(RUN_ID_PATTERN, { error: 'expected a run id (1-128 characters among A-Z a-z 0-9 _ -)' });
/** The state an event led to: enough to list runs without folding, and to check replay. */
export const RecordedState = z.object({ status: WorkflowStatus, hash: z.string() });
export type RecordedState = z.infer<typeof RecordedState>;
const EnvelopeBase = z.object({
  runId: z.string().min(1),
  workflowId: z.string().min(1),
  version: z.number().int(),
  seq: z.number().int().positive(),
  /** ISO 8601, from the recording engine's clock: the only time the fold ever sees. */
  time: z.string(),
  state: RecordedState,
});

/**
 * A run's header: which run of which workflow version, where it stands, when
 * it started and settled. The one shape the run's view (`status --json`), the
 * stores' summaries, the query's run records (`list --json`, the runs page)
 * and the dashboard share, each adding its own fields; a schema so the
 * query's stored records are checked against the same fields.
 */
export const RunHeaderSchema = EnvelopeBase.pick({ runId: true, workflowId: true, version: true }).extend({
  status: WorkflowStatus,
  /** The time of the run's run.started. */
  startedAt: z.string(),
  /** The time of the event that settled the run, or null while it is not settled. */
  completedAt: z.string().nullable(),
});
export type RunHeader = z.infer<typeof RunHeaderSchema>;

export const EventEnvelopeSchema = z.discriminatedUnion('type', [
  EnvelopeBase.extend({ type: z.literal('run.started'), data: RunStartedData }),
  EnvelopeBase.extend({ type: z.literal('task.started'), data: TaskStartedData }),
  EnvelopeBase.extend({ type: z.literal('task.completed'), data: TaskCompletedData }),
  EnvelopeBase.extend({ type: z.literal('task.failed'), data: TaskFailedData }),
  EnvelopeBase.extend({ type: z.literal('timer.fired'), data: TimerFiredData }),
  EnvelopeBase.extend({ type: z.literal('approval.recorded'), data: ApprovalRecordedData }),
  EnvelopeBase.extend({ type: z.literal('run.cancelled'), data: RunCancelledData }),
  EnvelopeBase.extend({ type: z.literal('approval.refused'), data: ApprovalRefusedData }),
  EnvelopeBase.extend({ type: z.literal('run.failed'), data: RunFailedData }),
  EnvelopeBase.extend({ type: z.literal('task.restarted'), data: TaskRestartedData }),
  EnvelopeBase.extend({ type: z.literal('signal.received'), data: SignalReceivedData }),
  EnvelopeBase.extend({ type: z.literal('run.paused'), data: RunPausedData }),
  EnvelopeBase.extend({ type: z.literal('run.resumed'), data: RunResumedData }),
  EnvelopeBase.extend({ type: z.literal('run.queued'), data: RunQueuedData }),
  EnvelopeBase.extend({ type: z.literal('run.admitted'), data: RunAdmittedData }),
  EnvelopeBase.extend({ type: z.literal('notification.sent'), data: NotificationSentData }),
  EnvelopeBase.extend({ type: z.literal('notification.dead_lettered'), data: NotificationDeadLetteredData }),
  EnvelopeBase.extend({ type: z.literal('task.delayed'), data: TaskDelayedData }),
  EnvelopeBase.extend({ type: z.literal('run.migrated'), data: RunMigratedData }),
]);
export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

/** An event before it has been folded: no seq, no recorded state yet. */
export type PendingEvent = { [T in EventType]: { type: T; time: string; data: EventData<T> } }[EventType];

/** A unit of append: consecutive events of one run written atomically (all or none). */
export const CommitSchema = z.object({
  dedupId: z.string().min(1),
  events: z.array(EventEnvelopeSchema).min(1),
});
export type Commit = z.infer<typeof CommitSchema>;

/**
 * Commits the fold built itself (prepareCommit, the driver's open group, the
 * engine's start), from inputs already validated where they entered the
 * system (definition and input at start, handler outputs made JSON, NATS
 * messages parsed with their schemas). Stores write these without parsing
 * them with CommitSchema again, which was a tenth of an engine's CPU; every
 * other list of envelopes an append is given is parsed as before. The mark is
 * on the list (one per commit, not one per event: a WeakSet entry per event
 * showed in profiles), and only code that puts nothing but fold-built
 * envelopes in a list marks it. A test drives all event kinds through the
 * engine and checks each marked commit against the schema, so the mark can
 * only ever be a shortcut, never a way around.
 */
const BUILT_BY_FOLD = Symbol('ledgerflow.builtByFold');
/** The mark's descriptor, one for every list (a descriptor object per commit otherwise). */
const BUILT: PropertyDescriptor = Object.freeze({ value: true });

export function markBuiltByFold<T extends EventEnvelope[]>(events: T): T {
  // A non-enumerable property keyed by a module-private symbol (not a WeakSet:
  // its table of short-lived lists cost 3% of an engine's CPU). Copies of the
  // list never carry it: spread, slice, Array.from and JSON take elements
  // only, and Object.assign takes enumerable properties only.
  Object.defineProperty(events, BUILT_BY_FOLD, BUILT);
  return events;
}

export function isBuiltByFold(events: unknown): boolean {
  return Array.isArray(events) && (events as unknown as Record<symbol, unknown>)[BUILT_BY_FOLD] === true;
}

/**
 * A torn last line (a write cut short by a crash, possibly of a commit that
 * had been acknowledged) is cut from the log so it stays appendable; its
 * bytes are kept in `file` (appended, never overwritten), `bytes` in all.
 */
export interface TornTail {
  runId: string;
  file: string;
  bytes: number;
}
