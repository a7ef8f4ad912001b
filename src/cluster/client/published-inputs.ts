/**
 * How ClusterClient publishes a person's approval, signal and run control (pause, resume, cancel) as their NATS
 * user (user-publish.ts), and what each refusal and verdict becomes: the errors the embedded store throws. Apart
 * from client.ts, the client's public face.
 */
import {
  ApprovalRefusedError,
  CancelRefusedError,
  PauseRefusedError,
  RunNotFoundError,
  SignalRefusedError,
  judgedApprovalRefusal,
} from '../../errors/index.js';
import type { WorkflowStatus } from '../../events/index.js';
import {
  ANONYMOUS_SENDER,
  ApprovalVerdict,
  type ControlMessage,
  ControlVerdict,
  SignalMessage,
  SignalVerdict,
  encode,
  subjects,
  token,
} from '../transport/index.js';
import { publishAsUser, refusal } from './user-publish.js';

/**
 * What became of a pause or resume over NATS: `recorded` once an engine's
 * verdict said so (false when none came in time: it waits in LF_CONTROL), the
 * run's `status` after it (null without a verdict) and the event's `seq`.
 */
export interface ControlOutcome {
  recorded: boolean;
  status: WorkflowStatus | null;
  seq?: number;
  reason?: string;
}

/** Publishes a decision as `user` on its own connection; a refusal throws (ClusterClient.publishDecision). */
export async function publishApproval(
  url: string,
  runId: string,
  taskId: string,
  user: string,
  decision: 'approved' | 'rejected',
  comment: string | undefined,
  waitMs: number,
): Promise<ApprovalVerdict | null> {
  const verdict = await publishAsUser({
    url,
    connectionName: 'ledgerflow-approval',
    as: user,
    subject: () => subjects.approval(runId, taskId, user),
    body: encode({ decision, ...(comment !== undefined ? { comment } : {}) }),
    verdict: { subject: () => subjects.approvalVerdict(runId, taskId, user), schema: ApprovalVerdict, waitMs },
    refused: refusal(
      (m, meta, o) => new ApprovalRefusedError(m, meta, o),
      {
        forbidden: `NATS user ${user} may not publish approvals under that name (nats.conf permissions)`,
        noStream:
          'no stream takes approvals on this NATS server yet: ledgerflow creates it with the first run, start, deploy, emit or engine command there (check the URL, or run `ledgerflow deploy` once)',
        failed: 'could not publish the approval',
      },
      { runId, taskId, by: user },
    ),
  });
  if (verdict && !verdict.accepted)
    throw judgedApprovalRefusal({
      runId,
      taskId,
      by: user,
      decision,
      reason: verdict.reason ?? 'refused',
      kept: verdict.seq !== undefined,
      notApprover: verdict.notApprover === true,
    });
  return verdict;
}

/** Publishes a signal as this connection's user (or `as`, on a server without users); a refusal throws (ClusterClient.signal). */
export async function publishSignal(
  url: string,
  ownSender: string,
  runId: string,
  name: string,
  opts: { data?: unknown; as?: string; waitMs?: number },
): Promise<SignalVerdict | null> {
  const body = SignalMessage.parse({ name, ...(opts.data !== undefined ? { data: opts.data } : {}) });
  const sender = ownSender === ANONYMOUS_SENDER && opts.as ? token(opts.as) : ownSender;
  const verdict = await publishAsUser({
    url,
    connectionName: 'ledgerflow-signal',
    as: sender,
    subject: () => subjects.signal(sender, runId),
    body: encode(body),
    verdict: {
      subject: () => subjects.signalVerdict(sender, runId),
      schema: SignalVerdict,
      waitMs: opts.waitMs ?? 0,
    },
    refused: refusal(
      (m, meta, o) => new SignalRefusedError(m, meta, o),
      {
        forbidden: `NATS user ${sender} may not send signals (nats.conf permissions: it may publish on lf.signals.${sender}.> only if its block says so)`,
        noStream:
          'no stream takes signals on this NATS server yet: ledgerflow creates it with the first run, start, deploy, emit or engine command there (check the URL, or run `ledgerflow deploy` once)',
        failed: 'could not publish the signal',
      },
      { runId, name, by: sender },
    ),
  });
  if (verdict && !verdict.accepted)
    throw new SignalRefusedError(
      `cannot signal "${name}" to run ${runId}: ${verdict.reason ?? 'refused'}; nothing was recorded`,
      { runId, name, by: sender },
    );
  return verdict;
}

/** A pause or cancel published, and what the engine said of it: refused (`Refused`), a run that does not exist, or recorded (or queued, no verdict in time). */
export async function controlOutcome(
  url: string,
  ownSender: string,
  runId: string,
  body: ControlMessage,
  opts: { as?: string; waitMs?: number },
  Refused: typeof PauseRefusedError | typeof CancelRefusedError,
): Promise<ControlOutcome> {
  const { sender, verdict } = await publishControl(url, ownSender, runId, body, opts);
  if (verdict && !verdict.accepted) {
    if (verdict.status === undefined) throw new RunNotFoundError(runId);
    throw new Refused(`cannot ${body.action} run ${runId}: ${verdict.reason ?? 'refused'}; nothing was recorded`, {
      runId,
      status: verdict.status,
      by: sender,
    });
  }
  return {
    recorded: verdict !== null,
    status: verdict?.status ?? null,
    ...(verdict?.seq !== undefined ? { seq: verdict.seq } : {}),
  };
}

/** Publishes run control as this NATS user on its own connection, listening for the engine's verdict first. */
export async function publishControl(
  url: string,
  ownSender: string,
  runId: string,
  body: ControlMessage,
  opts: { as?: string; waitMs?: number },
): Promise<{ sender: string; verdict: ControlVerdict | null }> {
  const sender = ownSender === ANONYMOUS_SENDER && opts.as ? token(opts.as) : ownSender;
  const Refused = body.action === 'cancel' ? CancelRefusedError : PauseRefusedError;
  const verdict = await publishAsUser({
    url,
    connectionName: `ledgerflow-${body.action}`,
    as: sender,
    subject: () => subjects.control(sender, runId),
    body: encode(body),
    verdict: {
      subject: () => subjects.controlVerdict(sender, runId),
      schema: ControlVerdict,
      waitMs: opts.waitMs ?? 10_000,
    },
    refused: refusal(
      (m, meta, o) => new Refused(m, meta, o),
      {
        forbidden: `NATS user ${sender} may not ${body.action} runs (nats.conf permissions: it may publish on lf.control.${sender}.* only if its block says so)`,
        noStream:
          'no stream takes run control on this NATS server yet: engines of this version create LF_CONTROL when they start (or run `ledgerflow deploy` once)',
        failed: `could not publish the ${body.action}`,
      },
      { runId, by: sender },
    ),
  });
  return { sender, verdict };
}
