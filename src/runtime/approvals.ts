/**
 * The one approval rule, used by every path that takes a decision on a HUMAN task (the library and CLI on any store,
 * NATS engines): pure, so the same decision on the same state is judged the same everywhere.
 *
 * A decision on a HUMAN task of the run that may not be taken is not thrown away: it becomes an `approval.refused`
 * event, which the caller appends to the run's history (who tried what, and why not) and which changes no state.
 * Locally and on NATS alike, the audit trail shows every decision anyone sent.
 */
import { judge, parseLevel, type Level } from '../authority/index.js';
import type { CompiledWorkflow } from '../compiler/index.js';
import { HELD_REASON, isHeld } from '../compiler/index.js';
import { mayDecide, type Definition } from '../definition/index.js';
import type { EventData, EventEnvelope, PendingEvent } from '../events/index.js';
import type { RunSnapshot } from './fold.js';

export interface ApprovalRequest {
  taskId: string;
  decision: 'approved' | 'rejected';
  /** Who decides: the NATS user, or the name given with `--as`. */
  by: string;
  comment?: string;
  /** The name was given, not proven (`--as` on a NATS server without users): recorded as such. */
  unauthenticated?: boolean;
  /**
   * The decider's level, where a users file says it (docs/users.md): the task's agent_level (default L0) is the
   * least that may decide it. Absent: no level is asked (no users file; the approvers list still applies).
   */
  level?: Level;
  /** ISO time the decision is recorded at. */
  time: string;
}

/**
 * `event: null` on a refusal: nothing is written, the caller refuses it as it is. Either the decision names no HUMAN
 * task of the run (`noTask`: a typo, a task of another kind; nothing to audit in this run's history), or the run has
 * settled, or the history already keeps this person's refusal on this task.
 */
export type ApprovalReview =
  | { accepted: true; event: Extract<PendingEvent, { type: 'approval.recorded' }> }
  | {
      accepted: false;
      reason: string;
      event: Extract<PendingEvent, { type: 'approval.refused' }> | null;
      notApprover?: true;
      noTask?: true;
    };

/**
 * Judges a decision against the run's recorded definition and its state now. A refusal is kept in the run's history
 * once per person and task, and never in a settled run's: `refusedBefore` (the history holds an approval.refused of
 * `req.by` on `req.taskId`, refusedBefore() below) and a settled run refuse without an event, so an approver repeating
 * a refused decision cannot grow any run's log (500 refusals in 0.4 s did).
 */
export function reviewApproval(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  req: ApprovalRequest,
  opts: { refusedBefore?: boolean } = {},
): ApprovalReview {
  const { reason, notApprover, noTask } = refusal(compiled, snapshot, req);
  if (noTask) return { accepted: false, reason: reason!, event: null, noTask };
  if (reason !== null && (opts.refusedBefore || snapshot.status !== 'active')) {
    const why =
      snapshot.status !== 'active'
        ? reason
        : `${reason} (refused before: the run's history keeps one refusal per person and task)`;
    return { accepted: false, reason: why, event: null, ...(notApprover ? { notApprover } : {}) };
  }
  const data = {
    task: req.taskId,
    decision: req.decision,
    by: req.by,
    ...(req.comment !== undefined ? { comment: req.comment } : {}),
    ...(req.unauthenticated ? { unauthenticated: true as const } : {}),
  } satisfies EventData<'approval.recorded'>;
  if (reason === null) return { accepted: true, event: { type: 'approval.recorded', time: req.time, data } };
  return {
    accepted: false,
    reason,
    event: { type: 'approval.refused', time: req.time, data: { ...data, reason } },
    ...(notApprover ? { notApprover } : {}),
  };
}

/** Whether `history` holds a refusal of `by`'s decision on `taskId` (reviewApproval keeps one per person and task). */
export function refusedBefore(history: readonly EventEnvelope[], taskId: string, by: string): boolean {
  return history.some((e) => e.type === 'approval.refused' && e.data.task === taskId && e.data.by === by);
}

/** A task a run waits on and for whom: a HUMAN task's approvers (empty: anyone), a WAIT's signal (none: it waits for its time). */
export interface WaitingFor {
  task: string;
  approvers?: string[];
  signal?: string;
}

/** Who a run waits for in this state: HUMAN tasks pending approval and WAIT tasks waiting, in the definition's order. */
export function waitingFor(definition: Definition, snapshot: RunSnapshot): WaitingFor[] {
  const out: WaitingFor[] = [];
  for (const t of definition.tasks) {
    const status = snapshot.context.tasks[t.id]?.status;
    if (t.type === 'HUMAN' && status === 'PENDING_APPROVAL') out.push({ task: t.id, approvers: [...t.approvers] });
    if (t.type === 'WAIT' && status === 'WAITING')
      out.push({ task: t.id, ...(t.event !== undefined ? { signal: t.event } : {}) });
  }
  return out;
}

/**
 * Why a decision cannot be taken (`reason` null when it can). `notApprover`: the decider may not decide this task at
 * all, whatever the run's state (the UI answers 403 for it, 409 for the rest).
 */
function refusal(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  req: ApprovalRequest,
): { reason: string | null; notApprover?: true; noTask?: true } {
  const { taskId, by } = req;
  // The run's recorded definition decides who may approve, not whatever file is current.
  const def = compiled.definition.tasks.find((t) => t.id === taskId);
  const task = snapshot.context.tasks[taskId];
  const human = compiled.definition.tasks.filter((t) => t.type === 'HUMAN').map((t) => t.id);
  const its = `its HUMAN tasks are ${human.join(', ') || '(none)'}`;
  if (!def || !task) return { reason: `the run has no task "${taskId}"; ${its}`, noTask: true };
  if (def.type !== 'HUMAN')
    return { reason: `task ${taskId} is a ${def.type} task; only HUMAN tasks take approvals (${its})`, noTask: true };
  if (!mayDecide(def, by))
    return {
      reason: `${by} may not decide task ${taskId}; its approvers are ${def.approvers.join(', ')}`,
      notApprover: true,
    };
  if (req.level !== undefined) {
    const verdict = judge({ name: by, level: req.level }, 'approve', {
      task: taskId,
      taskLevel: parseLevel(def.agentLevel) ?? 'L0',
    });
    if (!verdict.allowed) return { reason: verdict.reason, notApprover: true };
  }
  if (snapshot.status !== 'active') return { reason: 'the run is already settled' };
  if (isHeld(snapshot.context)) return { reason: HELD_REASON };
  if (task.status !== 'PENDING_APPROVAL')
    return { reason: `task ${taskId} is ${task.status}, not waiting for approval` };
  return { reason: null };
}
