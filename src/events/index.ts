/**
 * The event envelope and the event types of a run. A run IS its events: every envelope carries the run and workflow
 * ids, a per-run sequence starting at 1, the time it was recorded, a type and its data, and the state it led to
 * (workflow status + a hash of the compact state) so replay can be checked. Everything read from a store is parsed with
 * these schemas at the boundary.
 */
import { z } from 'zod';
import { TaskDelayedData } from './task-delayed.js';
import { RunMigratedData } from './run-migrated.js';
import { RunForkedData } from './run-forked.js';
export { delayText, delayPart } from './task-delayed.js';
export { MAX_JSON_DEPTH, nestsDeeperThan, tooDeepText } from './json-depth.js';

export type { TaskError } from './task-error.js';
import * as data from './data.js';
export {
  PROGRESS_MESSAGE_MAX,
  ProgressSchema,
  type Progress,
  RunParentSchema,
  RunScheduleSchema,
  RunStartedData,
  SignalBodySchema,
  TaskCompletedData,
  TaskFailedData,
  TimerKind,
  type RunParent,
  type RunSchedule,
  type RunSource,
  type SignalBody,
} from './data.js';

export { definitionRecord, recordedDefinitionOf } from './recorded-definition.js';
export {
  isPayloadRef,
  labelPayloads,
  payloadLabel,
  PAYLOAD_REF_KEY,
  PayloadRefBodySchema,
  PayloadRefSchema,
  type PayloadRef,
  type PayloadRefBody,
} from './payload-ref.js';

export const EVENT_DATA = {
  'run.started': data.RunStartedData,
  'task.started': data.TaskStartedData,
  'task.completed': data.TaskCompletedData,
  'task.failed': data.TaskFailedData,
  'timer.fired': data.TimerFiredData,
  'approval.recorded': data.ApprovalRecordedData,
  'run.cancelled': data.RunCancelledData,
  'approval.refused': data.ApprovalRefusedData,
  'run.failed': data.RunFailedData,
  'task.restarted': data.TaskRestartedData,
  'signal.received': data.SignalReceivedData,
  'run.paused': data.RunPausedData,
  'run.resumed': data.RunResumedData,
  'run.queued': data.RunQueuedData,
  'run.admitted': data.RunAdmittedData,
  'notification.sent': data.NotificationSentData,
  'notification.dead_lettered': data.NotificationDeadLetteredData,
  'task.delayed': TaskDelayedData,
  'run.migrated': RunMigratedData,
  'run.forked': RunForkedData,
  'task.released': data.TaskReleasedData,
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
/** What a reader without the data key is shown in place of a sealed value (src/encryption), and of one made from it. */
export const REDACTED = '[encrypted]';
/**
 * Whether a value is a sealed record as a reader without the key has it: a field whose schema wants a record (a run's
 * input, a migration's outputs) holds `{ "[encrypted]": true }` in place of the sealed one; text shows it as REDACTED.
 */
export function isRedactedRecord(v: unknown): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    Object.keys(v).length === 1 &&
    (v as Record<string, unknown>)[REDACTED] === true
  );
}
/**
 * A run id: it becomes a file name (file store) and a NATS subject token (`lf.events.<workflowId>.<runId>`), so it
 * holds neither path separators nor `.`, `*`, `>` or spaces. Engine, trigger, nanoid and uuid ids all fit.
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
 * A run's header: which run of which workflow version, where it stands, when it started and settled. The one shape the
 * run's view (`status --json`), the stores' summaries, the query's run records (`list --json`, the runs page) and the
 * dashboard share, each adding its own fields; a schema so the query's stored records are checked against it.
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
  EnvelopeBase.extend({ type: z.literal('run.started'), data: data.RunStartedData }),
  EnvelopeBase.extend({ type: z.literal('task.started'), data: data.TaskStartedData }),
  EnvelopeBase.extend({ type: z.literal('task.completed'), data: data.TaskCompletedData }),
  EnvelopeBase.extend({ type: z.literal('task.failed'), data: data.TaskFailedData }),
  EnvelopeBase.extend({ type: z.literal('timer.fired'), data: data.TimerFiredData }),
  EnvelopeBase.extend({ type: z.literal('approval.recorded'), data: data.ApprovalRecordedData }),
  EnvelopeBase.extend({ type: z.literal('run.cancelled'), data: data.RunCancelledData }),
  EnvelopeBase.extend({ type: z.literal('approval.refused'), data: data.ApprovalRefusedData }),
  EnvelopeBase.extend({ type: z.literal('run.failed'), data: data.RunFailedData }),
  EnvelopeBase.extend({ type: z.literal('task.restarted'), data: data.TaskRestartedData }),
  EnvelopeBase.extend({ type: z.literal('signal.received'), data: data.SignalReceivedData }),
  EnvelopeBase.extend({ type: z.literal('run.paused'), data: data.RunPausedData }),
  EnvelopeBase.extend({ type: z.literal('run.resumed'), data: data.RunResumedData }),
  EnvelopeBase.extend({ type: z.literal('run.queued'), data: data.RunQueuedData }),
  EnvelopeBase.extend({ type: z.literal('run.admitted'), data: data.RunAdmittedData }),
  EnvelopeBase.extend({ type: z.literal('notification.sent'), data: data.NotificationSentData }),
  EnvelopeBase.extend({ type: z.literal('notification.dead_lettered'), data: data.NotificationDeadLetteredData }),
  EnvelopeBase.extend({ type: z.literal('task.delayed'), data: TaskDelayedData }),
  EnvelopeBase.extend({ type: z.literal('run.migrated'), data: RunMigratedData }),
  EnvelopeBase.extend({ type: z.literal('run.forked'), data: RunForkedData }),
  EnvelopeBase.extend({ type: z.literal('task.released'), data: data.TaskReleasedData }),
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
 * Commits the fold built itself (prepareCommit, the driver's open group, the engine's start), from inputs already
 * validated where they entered the system (definition and input at start, handler outputs made JSON, NATS messages
 * parsed with their schemas). Stores write these without parsing them with CommitSchema again, which was a tenth of an
 * engine's CPU; every other list of envelopes an append is given is parsed as before. The mark is on the list (one per
 * commit, not one per event: a WeakSet entry per event showed in profiles), and only code that puts nothing but
 * fold-built envelopes in a list marks it. A test drives all event kinds through the engine and checks each marked
 * commit against the schema, so the mark can only ever be a shortcut, never a way around.
 */
const BUILT_BY_FOLD = Symbol('ledgerflow.builtByFold');
/** The mark's descriptor, one for every list (a descriptor object per commit otherwise). */
const BUILT: PropertyDescriptor = Object.freeze({ value: true });

export function markBuiltByFold<T extends EventEnvelope[]>(events: T): T {
  // A non-enumerable property keyed by a module-private symbol (not a WeakSet: its table of short-lived lists cost 3%
  // of an engine's CPU). Copies of the list never carry it: spread, slice, Array.from and JSON take elements only, and
  // Object.assign takes enumerable properties only.
  Object.defineProperty(events, BUILT_BY_FOLD, BUILT);
  return events;
}

export function isBuiltByFold(events: unknown): boolean {
  return Array.isArray(events) && (events as unknown as Record<symbol, unknown>)[BUILT_BY_FOLD] === true;
}

/**
 * A torn last line (a write cut short by a crash, possibly of a commit that had been acknowledged) is cut from the log
 * so it stays appendable; its bytes are kept in `file` (appended, never overwritten), `bytes` in all.
 */
export interface TornTail {
  runId: string;
  file: string;
  bytes: number;
}
