/**
 * The data of each event type: what `data` holds in an envelope of that type, parsed at the store boundary. A file of
 * its own so the module's entry (events/index.ts) keeps the envelope, the statuses and the commit.
 */
import { z } from 'zod';
import { TaskErrorSchema } from './task-error.js';

/**
 * Which attempt of which task instance an event is about. `iteration`: the DO_WHILE iteration of a loop-body task;
 * `item`: the MAP item. Absent for every other task (see compiler/instances.ts), so older events parse as they did.
 */
export const taskRef = {
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
  /** `failure`: a failed run's failure workflow; `start`: started by a SUB_WORKFLOW with `wait: false` (it reports nothing back). */
  relation: z.enum(['failure', 'start']).optional(),
  /** How many runs are above this one (1: its parent is a top-level run); bounds a cycle of sub-workflows (LF_SUBWORKFLOW_CYCLE). */
  depth: z.number().int().positive().optional(),
});
export type RunParent = z.infer<typeof RunParentSchema>;

/**
 * The schedule slot that started a run (src/triggers/schedule.ts): the trigger's index, the slot (UTC), its cron and
 * zone; `missed`/`missedCount`: the slots catch_up latest skipped for it; `manual`: see below.
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
   * The format of the state hash every event of this run records (runtime/state-hash.ts): 2 for runs started since
   * 2026-11-23 (per-chunk digests, so a long run's hash costs the same per event as a short one's); absent in older
   * runs, which keep format 1 (sha256 of the whole state's text) and replay as they always did.
   */
  stateHashVersion: z.literal(2).optional(),
  /**
   * The priority the start gave the run (`run --priority`, `start --priority`, the API's and the HTTP start's
   * `priority`), over the workflow's `priority:`; absent when the start gave none. It orders the run's waits: for a
   * concurrency slot (run.queued records it too) and for a task's gate.
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
       * Retry from failed (runtime/retry.ts): the FAILED or CANCELLED run this one retries, and the outputs of its
       * tasks this run reuses (task id → output), completed without an attempt as each becomes ready. Recorded here so
       * replay never reads the old run.
       */
      retryOf: z
        .object({
          runId: z.string().min(1),
          outputs: z.record(z.string(), z.unknown()).optional(),
        })
        .optional(),
      /**
       * A fork (runtime/fork.ts): the run it was forked `from`, the point `at` (after event `seq` of that run; `task`:
       * the task `--at` named, which starts again here), and the outputs this run reuses, as retryOf's. Recorded here,
       * with the changed input in `input`, so replay never reads the original run. Who forked it is the audit record
       * run.forked's (run-forked.ts), the event right after this one.
       */
      forked: z
        .object({
          from: z.string().min(1),
          at: z.object({ seq: z.number().int().positive(), task: z.string().min(1).optional() }),
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
       * Who asked for the run, where that is not the process that recorded it: on NATS, the person whose start (or
       * retry) an engine took from lf.starts.<user> and judged (docs/users.md#on-nats).
       */
      by: z.string().max(200).optional(),
    })
    .optional(),
});
export type RunSource = NonNullable<z.infer<typeof RunStartedData>['source']>;

/** A task a retry or fork completed with the output of the run it came from (source.retryOf, source.forked), without an attempt. */
const reused = { reused: z.object({ runId: z.string().min(1) }).optional() };
export const TaskStartedData = z.object({ ...taskRef, ...reused });
/**
 * Who reported an outcome, where a server could tell: on NATS, the user the input came from (the subject's sender
 * token, which nats.conf confines each user to). Absent for in-process handlers. `unauthenticated`: the server has no
 * users, so the name is the sender's own claim.
 */
const reporter = {
  by: z.string().min(1).optional(),
  unauthenticated: z.literal(true).optional(),
};
/** The longest progress message kept (characters): a line for a status bar, not a log. */
export const PROGRESS_MESSAGE_MAX = 200;
/**
 * How far an attempt had come (`ctx.progress(fraction, message)`, a COMMAND task's progress line): `fraction` 0..1,
 * `at` when it was reported (the reporting process's clock). Live values are never events (docs/handlers.md#progress);
 * the last one an attempt reported is kept on its outcome.
 */
export const ProgressSchema = z.object({
  fraction: z.number().min(0).max(1),
  // Reporters cut a message to PROGRESS_MESSAGE_MAX; the schema takes more, for one sealed at rest (encryption/).
  message: z
    .string()
    .max(PROGRESS_MESSAGE_MAX * 8)
    .optional(),
  at: z.string().min(1),
});
export type Progress = z.infer<typeof ProgressSchema>;
/** The last progress the attempt reported before its outcome; absent when it reported none. */
const lastProgress = { progress: ProgressSchema.optional() };
export const TaskCompletedData = z.object({
  ...taskRef,
  output: z.unknown(),
  ...reporter,
  ...reused,
  ...lastProgress,
});
export const TaskFailedData = z.object({ ...taskRef, error: TaskErrorSchema, ...reporter, ...lastProgress });
/**
 * The attempt in flight was lost with the process running it (a worker that stopped answering, or this process's own
 * crash before `resume`) and runs again: the same attempt number and idempotency key, its retries untouched, its
 * timeout counted from now. `restart` numbers the restarts of this attempt (1, 2, ...); past the cap the loss fails the
 * attempt instead (runtime/restarts.ts).
 */
export const TaskRestartedData = z.object({
  ...taskRef,
  restart: z.number().int().positive(),
  reason: z.enum(['resumed', 'worker_lost']),
  /** The worker (name it signed the attempt ledger with) or process that had the attempt, when known. */
  lost: z.string().optional(),
  ...reporter,
});
/**
 * The attempt in flight was given back by a clean stop of the process running it (Ctrl-C, SIGTERM, a `serve` whose grace
 * ran out), recorded before that process ended. The attempt stays in flight in the log; the next driver restarts it
 * (task.restarted) without counting the restart as a loss: a clean stop is not the process dying with the attempt, so
 * it does not use up the budget that stops an attempt that keeps killing its process (runtime/restarts.ts). `restart`:
 * which run of the attempt was given back (0: its first).
 */
export const TaskReleasedData = z.object({
  ...taskRef,
  restart: z.number().int().nonnegative(),
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
const MAX_SIGNAL_DATA_BYTES = 64 * 1024;
/** A signal name: what a WAIT's `event:` names (1-256 characters, no control characters). */
const SignalNameSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'a signal name holds no control characters' });
/**
 * A signal for the WAITs of a run that wait for `name` (`event:`): every such WAIT that is waiting completes with
 * `data` as its output, and one not yet reached keeps it until it is. `by`/`unauthenticated` as for approvals.
 */
export const SignalReceivedData = z.object({
  name: SignalNameSchema,
  data: z.unknown().optional(),
  by: z.string().min(1).optional(),
  unauthenticated: z.literal(true).optional(),
  /** The WAITs that may take it where a users file's default for a WAIT without from: leaves one out (runtime/signals.ts); else absent. */
  waits: z.array(z.string().min(1)).min(1).optional(),
});
/** A signal as it comes from outside (CLI `--data`, a NATS message body): its data at most MAX_SIGNAL_DATA_BYTES. */
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
 * The engine could not fold an input into the run (a bug, or a definition that got past validation but cannot run): the
 * run fails with the error instead of crashing the engine or staying stuck. The input is named in the message; it is
 * not recorded itself, since no state can be computed for it.
 */
export const RunFailedData = z.object({ error: TaskErrorSchema });
/**
 * A person paused the run: no new attempt starts until `run.resumed` (running ones finish and are recorded; timers
 * fire; approvals are taken). `by`: who paused it (on NATS the input's sender); `reason` as given.
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
 * The run waits for a slot of its workflow's `concurrency:` (status QUEUED): nothing starts until run.admitted.
 * `priority` (0..99, higher first) and then the time of this event order the queue; `key`: the value of
 * `concurrency.key` the limit holds per (null without one).
 */
export const RunQueuedData = z.object({
  priority: z.number().int().min(0).max(99),
  key: z.string().nullable(),
  limit: z.number().int().positive(),
  /**
   * Recorded by every start since 2026-11-23: nothing of the run moves while it is queued (no timer but the run's own
   * `timeout:` fires; no approval, signal or outcome is taken), and at run.admitted its timers' due times move on by
   * the time it waited, so a `WAIT 3s` waits 3 s after admission. Absent in runs queued before: they fold as they did
   * (timers fired and approvals were taken while queued).
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
 * A notification's delivery to one target, noted in the run's history by whoever drove the run (src/notify). Like
 * approval.refused it changes no state, and it may follow a settled run. `id`: the notification's stable id
 * (`<runId>/<seq>/<on>`: what the NATS msg id and the webhook's Idempotency-Key carry); `seq`: the event that made it
 * due; `target`: which target (`nats:<subject>`, or `webhook:<origin>#<hash of the whole URL>`, so no secret in a URL's
 * path or query lands in the log); `stateTime`: the time of the last event that changed the run's state, what summaries
 * take as the run's time (completedAt) when a note comes last.
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
