/**
 * The payload schemas of the NATS wire protocol (docs/asyncapi.yaml), by the name the document gives them: each is the
 * zod schema the receiving side parses that payload with, so the JSON Schemas in the document are generated from these
 * (`npm run docs:wire`) and cannot drift from what is checked.
 */
import { z } from 'zod';
import { CommitSchema, RunStartedData } from '../../events/index.js';
import { StoredSnapshotSchema } from '../../store/index.js';
import { EventEnvelopeIn, ScheduleCursorEntrySchema } from '../../triggers/index.js';
import { NotificationBodySchema } from '../../notify/index.js';
import { AttemptRecord } from './attempts.js';
import { BreakerStateSchema, GateStateSchema } from '../../limits/index.js';
import {
  DeployRequest,
  DeployVerdict,
  LimitsRequest,
  LimitsVerdict,
  StartRequest,
  StartVerdict,
  UpkeepRequest,
  UpkeepVerdict,
} from './requests.js';
import {
  ApprovalMessage,
  AskAnswer,
  AskMessage,
  DeadLetterMessage,
  GateWaitMessage,
  HeldMessage,
  InputMessage,
  OfferAnswer,
  PresenceMessage,
  PresenceReport,
  ReportAnswer,
  TaskMessage,
  TimerMessage,
} from './messages.js';
import {
  ApprovalVerdict,
  ControlMessage,
  ControlVerdict,
  SignalMessage,
  SignalVerdict,
  TriggerVerdict,
} from './run-verdicts.js';

export const WIRE_SCHEMAS = {
  /** lf.triggers.<eventType> */
  TriggerEvent: EventEnvelopeIn,
  /** lf.approvals.<runId>.<taskId>.<user> */
  Approval: ApprovalMessage,
  /** lf.signals.<sender>.<runId> */
  Signal: SignalMessage,
  /** lf.control.<sender>.<runId> */
  Control: ControlMessage,
  /** lf.starts.<sender>, the request id in the body (stream LF_REQUESTS): a person's start or retry, judged by an engine */
  StartRequest,
  /** lf.deploys.<sender> (stream LF_REQUESTS): a person's deploy, the definition's text, judged by an engine */
  DeployRequest,
  /** lf.limits.<sender> (stream LF_REQUESTS): a person's `limits set`, the limits file's text, judged by an engine */
  LimitsRequest,
  /** lf.upkeep.<sender> (stream LF_REQUESTS): a person's archive, restore, blob gc or keys rotate, judged by an engine */
  UpkeepRequest,
  /** lf.inputs.<sender>.<queue>.<runId> (a worker's report of an attempt) and lf.inputs.<sender>.<runId> (a kick, an engine's report) */
  Input: InputMessage,
  /** The engine's answer to an outcome handed to it on lf.reports.<sender>.<queue>.<runId> (core NATS request) */
  ReportAnswer,
  /** lf.q.<queue>.<handler> (stream LF_TASKS_<queue>), and lf.offer.<queue>.<handler> (core NATS request, with reportTo) */
  TaskAttempt: TaskMessage,
  /** A worker's answer to an offer on lf.offer.<queue>.<handler> */
  OfferAnswer,
  /** lf.asks.<queue> (core NATS request to every worker of the queue): does a worker run this attempt without a claim yet? */
  Ask: AskMessage,
  /** The answer of the worker that runs it, once its claim is in LF_ATTEMPTS (no other worker answers) */
  AskAnswer,
  /** lf.presence.<sender>.<queue> (core NATS, every engine): the handlers a worker serves on the queue */
  Presence: PresenceMessage,
  /** An engine's answer on lf.presence.who: the workers it heard lately */
  PresenceReport,
  /** lf.reports.<sender>.<queue>.<runId>.<engine>: a worker's word that it still runs an attempt offered to it */
  Held: HeldMessage,
  /** lf.timers.<runId> */
  Timer: TimerMessage,
  /** lf.timers.<runId>.gate: an attempt of a task with concurrency: or rate_limit: waiting for its gate */
  GateWait: GateWaitMessage,
  /** KV LF_TASK_GATES, gate-<sha256>: who holds a task's slots, who waits, the starts of its rate window */
  TaskGateState: GateStateSchema,
  /** KV LF_TASK_GATES, gate-<sha256 of <gate>#breaker>: a circuit breaker's phase, its failures in the window, its probe */
  TaskBreakerState: BreakerStateSchema,
  /** lf.dlq.<kind> */
  DeadLetter: DeadLetterMessage,
  /** lf.verdicts.approvals.<runId>.<taskId>.<user> (core NATS) */
  ApprovalVerdict,
  /** lf.verdicts.signals.<sender>.<runId> (core NATS) */
  SignalVerdict,
  /** lf.verdicts.control.<sender>.<runId> (core NATS) */
  ControlVerdict,
  /** lf.verdicts.starts.<sender>.<request> (core NATS) */
  StartVerdict,
  /** lf.verdicts.deploys.<sender>.<request> (core NATS) */
  DeployVerdict,
  /** lf.verdicts.limits.<sender>.<request> (core NATS) */
  LimitsVerdict,
  /** lf.verdicts.upkeep.<sender>.<request> (core NATS) */
  UpkeepVerdict,
  /** lf.verdicts.triggers.<eventId> (core NATS) */
  TriggerVerdict,
  /** lf.notify.<workflowId>.<status> (core NATS; Nats-Msg-Id = its id) */
  Notification: NotificationBodySchema,
  /** lf.events.<workflowId>.<runId> (stream LF_EVENTS) */
  Commit: CommitSchema,
  /** KV LF_DEFINITIONS, def.<hash>: the normalised definition, as run.started records it (src.<hash>: the YAML it was deployed from, plain text). */
  Definition: RunStartedData.shape.definition,
  /** KV LF_ATTEMPTS, <queue>.<runId>.<taskId>.<attempt>.<digest of the attempt's token> */
  AttemptRecord,
  /** KV LF_SNAPSHOTS, <runId> */
  Snapshot: StoredSnapshotSchema,
  /** KV LF_SCHEDULES, <workflowId>.<triggerIndex>: where a schedule stands (src/triggers/scheduler.ts) */
  ScheduleCursor: ScheduleCursorEntrySchema,
} as const satisfies Record<string, z.ZodType>;

export type WireSchemaName = keyof typeof WIRE_SCHEMAS;

/**
 * JSON Schema (draft-07, the dialect AsyncAPI schemas extend) of every wire payload, as its zod schema accepts it (io:
 * 'input'): properties it does not know are allowed, and dropped by the parse.
 */
export function wireJsonSchemas(): Record<WireSchemaName, Record<string, unknown>> {
  const out = {} as Record<WireSchemaName, Record<string, unknown>>;
  for (const name of Object.keys(WIRE_SCHEMAS).sort() as WireSchemaName[]) {
    // $schema is dropped: the document states the dialect once, for all of them.
    const { $schema: _dialect, ...schema } = z.toJSONSchema(WIRE_SCHEMAS[name], {
      target: 'draft-7',
      io: 'input',
    }) as Record<string, unknown>;
    out[name] = schema;
  }
  return out;
}
