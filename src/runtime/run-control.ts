/**
 * The one run-control rule, used by every path that pauses, resumes or cancels a run (the library and CLI on any store,
 * NATS engines): pure, so a request is recorded as the same event and judged the same everywhere. The run takes it or
 * refuses it with the reason (settled, already paused, not paused, queued); a refusal records nothing.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import type { PendingEvent } from '../events/index.js';
import { applyEvent, rejectionReason, type RunSnapshot } from './fold.js';
import type { SignalRequest } from './signals.js';

type ControlAction = 'pause' | 'resume' | 'cancel';

/** Who asked and when it is recorded, as for a signal. */
interface ControlRequest extends Pick<SignalRequest, 'time' | 'by' | 'unauthenticated'> {
  action: ControlAction;
  /** Why (a pause or a cancel; a resume records none). */
  reason?: string;
}

type ControlEvent = Extract<PendingEvent, { type: 'run.paused' | 'run.resumed' | 'run.cancelled' }>;

type ControlReview =
  | { accepted: true; event: ControlEvent; snapshot: RunSnapshot }
  | { accepted: false; event: ControlEvent; reason: string };

/** The event a request records: run.paused, run.resumed or run.cancelled, with who (and why) in one shape. */
function controlEvent(req: ControlRequest): ControlEvent {
  const who = { ...(req.by ? { by: req.by } : {}), ...(req.unauthenticated ? { unauthenticated: true as const } : {}) };
  if (req.action === 'resume') return { type: 'run.resumed', time: req.time, data: who };
  const data = { ...who, ...(req.reason !== undefined ? { reason: req.reason } : {}) };
  return req.action === 'pause'
    ? { type: 'run.paused', time: req.time, data }
    : { type: 'run.cancelled', time: req.time, data };
}

/** Judges a request against the run as it is now. */
export function reviewControl(compiled: CompiledWorkflow, snapshot: RunSnapshot, req: ControlRequest): ControlReview {
  const event = controlEvent(req);
  const r = applyEvent(compiled, snapshot, event);
  return r.accepted
    ? { accepted: true, event, snapshot: r.snapshot }
    : { accepted: false, event, reason: rejectionReason(snapshot, event) };
}
