/**
 * The messages people and services send to steer runs (run control, signals) and the engine's verdicts on them
 * (control, approvals, signals, triggers), answered on core NATS: apart from messages.ts, which holds what engines
 * and workers exchange about attempts, so each file reads as one conversation.
 */
import { z } from 'zod';
import { WorkflowStatus } from '../../events/index.js';
/** What run control can ask of a run. */
export const ControlAction = z.enum(['pause', 'resume', 'cancel']);
export type ControlAction = z.infer<typeof ControlAction>;

/**
 * On lf.control.<sender>.<runId>: pause, resume or cancel the run, whichever engine owns it. Who asks is the
 * subject's sender token (nats.conf: people users under their own name, workers not at all), recorded as `by`;
 * nothing in the body names anyone. `reason` is recorded with a pause or a cancel.
 */
export const ControlMessage = z.strictObject({
  action: ControlAction,
  reason: z.string().max(2000).optional(),
});
export type ControlMessage = z.infer<typeof ControlMessage>;

/**
 * On lf.verdicts.control.<sender>.<runId> (core NATS): what the engine made of a pause, resume or cancel. A refused
 * one records nothing; each sender may subscribe to its own verdicts only.
 */
export const ControlVerdict = z.object({
  action: ControlAction,
  accepted: z.boolean(),
  reason: z.string().optional(),
  /**
   * The error code when the engine gave up on it for a failure no retry mends (LF_BLOB_ALTERED); `reason` is its
   * message. With `stalled`, it was recorded (`seq`) and this failure came after: the run waits until it is mended.
   */
  code: z.string().max(100).optional(),
  /** Recorded, then its run could not go on (`code`, `reason`); the engines carry it on once that is mended. */
  stalled: z.literal(true).optional(),
  /** The run's status after it (or as it was, when refused); absent when the run does not exist. */
  status: WorkflowStatus.optional(),
  /** The sequence of the event that recorded it, if it was. */
  seq: z.number().int().positive().optional(),
});
export type ControlVerdict = z.infer<typeof ControlVerdict>;

/** On lf.verdicts.approvals.<runId>.<taskId>.<user> (core NATS): what the engine made of an approval. */
export const ApprovalVerdict = z.object({
  decision: z.enum(['approved', 'rejected']),
  /** Recorded as approval.recorded (true) or approval.refused (false), or not at all (the run does not exist). */
  accepted: z.boolean(),
  reason: z.string().optional(),
  /**
   * The error code when the engine gave up on it for a failure no retry mends (LF_BLOB_ALTERED); `reason` is its
   * message. With `stalled`, it was recorded (`seq`) and this failure came after: the run waits until it is mended.
   */
  code: z.string().max(100).optional(),
  /** Recorded, then its run could not go on (`code`, `reason`); the engines carry it on once that is mended. */
  stalled: z.literal(true).optional(),
  /** Refused because this user may not decide the task at all (not one of its approvers), whatever the run's state. */
  notApprover: z.literal(true).optional(),
  /** The sequence of the event that recorded it, if any. */
  seq: z.number().int().positive().optional(),
});
export type ApprovalVerdict = z.infer<typeof ApprovalVerdict>;

/** On lf.signals.<sender>.<runId>: a signal for the run's WAITs on `name`, its `data` their output. */
export { SignalBodySchema as SignalMessage } from '../../events/index.js';

/** On lf.verdicts.signals.<sender>.<runId> (core NATS): what the engine made of a signal (refused: unrecorded). */
export const SignalVerdict = z.object({
  name: z.string(),
  accepted: z.boolean(),
  reason: z.string().optional(),
  /**
   * The error code when the engine gave up on it for a failure no retry mends (LF_BLOB_ALTERED); `reason` is its
   * message. With `stalled`, it was recorded (`seq`) and this failure came after: the run waits until it is mended.
   */
  code: z.string().max(100).optional(),
  /** Recorded, then its run could not go on (`code`, `reason`); the engines carry it on once that is mended. */
  stalled: z.literal(true).optional(),
  /** The sequence of the event that recorded it, if it was. */
  seq: z.number().int().positive().optional(),
});
export type SignalVerdict = z.infer<typeof SignalVerdict>;

/** On lf.verdicts.triggers.<eventId> (core NATS, no stream): what the engine made of a trigger event. */
export const TriggerVerdict = z.object({
  accepted: z.boolean(),
  reason: z.string().optional(),
  /** The admission stage that refused it (schema, filter, ...), when refused. */
  stage: z.string().optional(),
  runs: z.array(
    z.object({ runId: z.string(), workflowId: z.string(), started: z.boolean(), reason: z.string().optional() }),
  ),
  /** What a debounced or throttled trigger made of it (docs/triggers.md#debounce-and-throttle): debounced, queued, dropped, started, duplicate. */
  gated: z
    .array(
      z.object({
        workflowId: z.string(),
        version: z.number(),
        trigger: z.number(),
        kind: z.enum(['debounce', 'throttle']),
        key: z.string(),
        decision: z.enum(['started', 'debounced', 'queued', 'dropped', 'duplicate', 'merged']),
        runId: z.string().optional(),
        dueAt: z.string().optional(),
        reason: z.string().optional(),
      }),
    )
    .optional(),
});
export type TriggerVerdict = z.infer<typeof TriggerVerdict>;
