/**
 * How ClusterClient publishes a person's approval, signal and run control (pause, resume, cancel) as their NATS
 * user (user-publish.ts), and what each refusal and verdict becomes: the errors the embedded store throws. Apart
 * from client.ts, the client's public face.
 */
import {
  ApprovalRefusedError,
  ERROR_CODES,
  LedgerflowError,
  type ErrorCode,
  type JsonSafe,
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
  ControlMessage,
  ControlVerdict,
  senderOf,
  SignalMessage,
  SignalVerdict,
  encode,
  subjects,
  token,
} from '../transport/index.js';
import { publishAsUser, refusal } from './user-publish.js';

/**
 * What became of a pause, resume or cancel over NATS: `recorded` once an engine's
 * verdict said so (false when none came in time: it waits in LF_CONTROL), the
 * run's `status` after it (null without a verdict) and the event's `seq`; `reason`: why a resume was refused.
 */
export interface ControlOutcome {
  recorded: boolean;
  status: WorkflowStatus | null;
  seq?: number;
  reason?: string;
}

/** Who publishes: the URL's NATS user, or on a server without users `as` (not proven), else the anonymous sender. */
function senderAs(url: string, as: string | undefined): string {
  const own = senderOf(url);
  return own === ANONYMOUS_SENDER && as ? token(as) : own;
}

/**
 * A refused verdict that carries an error code (the engine gave up on the input for a failure no retry mends, e.g.
 * LF_BLOB_ALTERED) is that error, in the engine's words, which name the fix; null for any other verdict (an engine
 * before codes were sent, a refusal by the rules), which the caller judges as before.
 */
function gaveUp(
  verdict: {
    accepted: boolean;
    reason?: string | undefined;
    code?: string | undefined;
    seq?: number | undefined;
    stalled?: true | undefined;
  },
  what: string,
  meta: Record<string, JsonSafe | undefined>,
): LedgerflowError | null {
  if (verdict.code === undefined || !(verdict.code in ERROR_CODES)) return null;
  // Recorded, then the run could not go on: not a refusal (the input stands), but the person must know the run waits.
  if (verdict.stalled === true)
    return new LedgerflowError(
      verdict.code as ErrorCode,
      `${what}: recorded (event ${verdict.seq ?? '?'}), but the run cannot go on past it (${verdict.code}): ${verdict.reason ?? 'no reason given'}; once that is mended the engines carry the run on by themselves (they try again, up to a minute apart, for about a quarter of an hour)`,
      { ...meta, ...(verdict.seq !== undefined ? { seq: verdict.seq } : {}) },
    );
  if (verdict.accepted) return null;
  return new LedgerflowError(
    verdict.code as ErrorCode,
    // The code said in the words too: the CLI prints a message only, and a person searches the troubleshooting page by it.
    `cannot ${what}: the engine gave up on it (${verdict.code}, which no retry mends): ${verdict.reason ?? 'no reason given'}; nothing was recorded`,
    meta,
  );
}

/** Where an approval or a signal finds no stream: the cluster's streams are made by any command there. */
const NO_INPUT_STREAM = (what: string) =>
  `no stream takes ${what} on this NATS server yet: ledgerflow creates it with the first run, start, deploy, emit or engine command there (check the URL, or run \`ledgerflow deploy\` once)`;

/** Publishes a decision as `user` on its own connection (an approver's user may publish its approvals and nothing else); a refusal throws, as on the embedded store. */
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
        noStream: NO_INPUT_STREAM('approvals'),
        failed: 'could not publish the approval',
      },
      { runId, taskId, by: user },
    ),
  });
  const failed =
    verdict && gaveUp(verdict, `record the ${decision} of ${taskId} in run ${runId}`, { runId, taskId, by: user });
  if (failed) throw failed;
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

/** Publishes a signal as the URL's user (or `as`, on a server without users); a refusal throws (ClusterClient.signal). */
export async function publishSignal(
  url: string,
  runId: string,
  name: string,
  opts: { data?: unknown; as?: string; waitMs?: number },
): Promise<SignalVerdict | null> {
  const body = SignalMessage.parse({ name, ...(opts.data !== undefined ? { data: opts.data } : {}) });
  const sender = senderAs(url, opts.as);
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
        noStream: NO_INPUT_STREAM('signals'),
        failed: 'could not publish the signal',
      },
      { runId, name, by: sender },
    ),
  });
  const failed = verdict && gaveUp(verdict, `signal "${name}" to run ${runId}`, { runId, name, by: sender });
  if (failed) throw failed;
  if (verdict && !verdict.accepted)
    throw new SignalRefusedError(
      `cannot signal "${name}" to run ${runId}: ${verdict.reason ?? 'refused'}; nothing was recorded`,
      { runId, name, by: sender },
    );
  return verdict;
}

/**
 * Publishes a pause, resume or cancel as the URL's user (or `as`) on its own connection, listening for the engine's
 * verdict first, and says what became of it: a pause or cancel refused throws (PauseRefusedError,
 * CancelRefusedError), a resume refused is said with its `reason` (nothing changed), a run that does not exist is
 * RunNotFoundError; no verdict in time (`waitMs`, default 10 s): not `recorded`, it waits in LF_CONTROL.
 */
export async function publishControl(
  url: string,
  runId: string,
  action: ControlMessage['action'],
  opts: { reason?: string; as?: string; waitMs?: number },
): Promise<ControlOutcome> {
  const sender = senderAs(url, opts.as);
  const Refused = action === 'cancel' ? CancelRefusedError : PauseRefusedError;
  // A resume carries no reason.
  const body = ControlMessage.parse({
    action,
    ...(action !== 'resume' && opts.reason !== undefined ? { reason: opts.reason } : {}),
  });
  const verdict = await publishAsUser({
    url,
    connectionName: `ledgerflow-${action}`,
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
        forbidden: `NATS user ${sender} may not ${action} runs (nats.conf permissions: it may publish on lf.control.${sender}.* only if its block says so)`,
        noStream:
          'no stream takes run control on this NATS server yet: engines of this version create LF_CONTROL when they start (or run `ledgerflow deploy` once)',
        failed: `could not publish the ${action}`,
      },
      { runId, by: sender },
    ),
  });
  const failed = verdict && gaveUp(verdict, `${action} run ${runId}`, { runId, by: sender });
  if (failed) throw failed;
  if (verdict && !verdict.accepted) {
    if (verdict.status === undefined) throw new RunNotFoundError(runId);
    const reason = verdict.reason ?? 'refused';
    if (action === 'resume') return { recorded: false, status: verdict.status, reason };
    throw new Refused(`cannot ${action} run ${runId}: ${reason}; nothing was recorded`, {
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
