/**
 * Runtime inputs (stream LF_INPUTS), as an engine takes them: each is a claim, checked here before anything is folded
 * (an input counts only when its sender may send it).
 *
 * - lf.inputs.<sender>.<queue>.<runId>: a worker's report of an attempt (its outcome, its loss, or the run it gave
 *   back as it stopped: task.released, which a restarted run's claim token must go with). Counted only with
 *   the attempt's token (only the worker handed the attempt has it) and only on the attempt's own queue: nats.conf
 *   gives each worker user `lf.inputs.<user>.<queue>.*` for the queues it is given, so a user cannot report attempts of
 *   another queue, even one whose token it came by.
 * - lf.inputs.<sender>.<runId>: a kick (act on the run's state), and the outcomes of the attempts engines run
 *   themselves (SUB_WORKFLOW, EMIT), from the `engine` sender, whose user may publish anything anyway.
 *
 * A loss report (task.lost) carries what the attempt ledger said, which any worker may have written: the run's log
 * decides. An attempt whose outcome is recorded, or that the run no longer wants, is left alone (stale); any other is
 * restarted. One the ledger says another worker finished is the honest race of a redelivery: that worker publishes its
 * outcome before it marks the ledger, so the outcome is in LF_INPUTS but maybe not folded yet (or held by an engine
 * that died). The report is then put back once, for longer than an engine holds an input, before the log decides: a
 * finished attempt is not run twice, and a forged mark costs its attempt that delay, not its run.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { instanceFields, instanceToken, iso } from '../../compiler/index.js';
import type { PendingEvent } from '../../events/index.js';
import type { HandedCommit } from '../../store/index.js';
import { attemptQueue, reviewLoss, reviewRelease } from '../../runtime/index.js';
import {
  parseInbound,
  rawOf,
  type AttemptTokens,
  type DeadLetterDetails,
  type OutcomeMessage,
  type ReleaseMessage,
  type Custody,
} from '../transport/index.js';
import type { Inbox } from './inbox.js';
import type { Loaded, RunHost } from './run-host.js';

/** What of its engine the input path uses. */
export interface InputHost {
  readonly tokens: AttemptTokens;
  readonly stats: { inputs: number; forged: number; refused: number; restarts: number; unletteredReports: number };
  /** Whether the server proves who publishes (it has users). */
  sendersProven(): boolean;
  now(): number;
  log(line: string): void;
  /** The run host's lock, load and one commit; the inbox's dead letters (and acks of what parseInbound refused). */
  readonly runs: Pick<RunHost, 'withRun' | 'load' | 'process'>;
  readonly inbox: Pick<Inbox, 'deadLetter' | 'dropMalformed'>;
  /** Whether a refusal of `sender`'s is kept as a dead letter, a few a minute per sender (letter-rate.ts); else it is refused without one. */
  letterAllowed(sender: string): boolean;
  /** How long a loss the ledger says another worker finished is put back, for that outcome to arrive first. */
  readonly finishedRecheckMs: number;
  /**
   * An outcome of the attempt is recorded and the commit's effects handed on: an engine that offered it
   * straight to a worker lets go of it (direct-dispatch.ts), whichever way the outcome came.
   */
  reported?(e: { runId: string; taskId: string; iteration?: number; item?: number; attempt: number }): void;
  /** A run of the attempt was given back and restarted (task.released): an engine that offered that run lets go of it. */
  givenBack?(e: {
    runId: string;
    taskId: string;
    iteration?: number;
    item?: number;
    attempt: number;
    restart: number;
  }): void;
  /** A report's values opened when the worker sealed them (src/encryption/wire.ts), before they are folded. */
  openReport?(input: OutcomeMessage): Promise<OutcomeMessage>;
  /**
   * Hands the store the run's first commit a start's kick carried, for the step's read of the run; returns what forgets
   * it after the step, or null when not taken (a sender that may not write the log, or a commit that does not check,
   * which is logged).
   */
  handFirstCommit?(sender: string, runId: string, first: HandedCommit): (() => void) | null;
}

type Done = Loaded | null | { refused: string } | 'recheck';

/** The attempt's queue as the run's definition says, against the subject's (`queue`): a report from a user not given that queue is refused (the queue it was handed out on). */
function queueRefused(st: Loaded, task: string, queue: string | undefined): string | null {
  if (queue === undefined) return null;
  const want = attemptQueue(st.compiled, task);
  return want === undefined || want === queue ? null : want;
}

/**
 * Folds an attempt's outcome (its token already checked) into its run and commits it, the
 * commit's effects handed on: the run as it is then, null when the run reads as empty, or the
 * queue the attempt was handed out on when `queue` (the report's subject's) is another.
 * The one way an outcome is recorded, whether it came on LF_INPUTS or straight (direct-reports.ts).
 */
export function recordOutcome(
  host: InputHost,
  input: OutcomeMessage,
  queue: string | undefined,
  by: { by: string; unauthenticated?: true },
  time: string,
  commit: { reconcile?: boolean; fresh?: boolean; commitKey?: string; custody: Custody | null },
): Promise<Loaded | null | { refused: string }> {
  return host.runs.withRun(input.runId, async () => {
    const report = host.openReport ? await host.openReport(input) : input;
    const inputs: PendingEvent[] = [{ type: report.type, time, data: { ...report.data, ...by } } as PendingEvent];
    const st = await host.runs.load(input.runId);
    if (!st) return null;
    const want = queueRefused(st, input.data.task, queue);
    if (want) return { refused: want };
    const done = await host.runs.process(input.runId, inputs, commit);
    host.reported?.({
      runId: input.runId,
      taskId: input.data.task,
      ...instanceFields(input.data),
      attempt: input.data.attempt,
    });
    return done;
  });
}

/**
 * A run of an attempt its worker gave back as it stopped cleanly (its token, and a restarted run's claim token, already
 * checked): task.released and task.restarted in one commit (runtime/restarts.ts reviewRelease), whose effects hand the
 * attempt out again at once; not a loss. The run as it is then, null when it reads as empty, or the queue the attempt
 * was handed out on when `queue` is another. A run that ended, or was given back or restarted since, is left alone.
 */
export function recordRelease(
  host: InputHost,
  input: ReleaseMessage,
  queue: string | undefined,
  by: { by: string; unauthenticated?: true },
  time: string,
  commit: { reconcile?: boolean; fresh?: boolean; commitKey?: string; custody: Custody | null },
): Promise<Loaded | null | { refused: string }> {
  return host.runs.withRun(input.runId, async () => {
    const st = await host.runs.load(input.runId, true);
    if (!st) return null;
    const { task, attempt, restart, worker } = input.data;
    const want = queueRefused(st, task, queue);
    if (want) return { refused: want };
    const run = { taskId: task, ...instanceFields(input.data), attempt, restart };
    const review = reviewRelease(st.snapshot, {
      ...run,
      ...(worker !== undefined ? { lost: worker } : {}),
      ...by,
      time,
    });
    if (review.kind === 'stale') {
      host.log(
        `run ${input.runId}: ${task} attempt ${attempt} given back by ${by.by}: no longer applies (${review.reason})`,
      );
      return st;
    }
    host.stats.restarts++;
    host.log(
      `run ${input.runId}: ${task} attempt ${attempt} given back by ${worker ?? by.by} as it stopped; running it again (not a loss)`,
    );
    const done = await host.runs.process(input.runId, review.events, commit);
    host.givenBack?.({ runId: input.runId, ...run });
    return done;
  });
}

/** Handles one input; acks it, or puts it back (nak) when it is to be looked at again. */
export async function takeInput(host: InputHost, m: JsMsg, custody: Custody): Promise<void> {
  const parsed = parseInbound('input', rawOf(m));
  if (!parsed.ok) {
    // Who published it is the subject's second token (lf.inputs.<sender>.…, which nats.conf enforces), however malformed the rest.
    if (host.letterAllowed(m.subject.split('.')[2] ?? '')) return host.inbox.dropMalformed('inputs', m, parsed);
    host.stats.refused++;
    host.stats.unletteredReports++;
    m.ack();
    return;
  }
  const { sender, queue, input } = parsed.value;
  // Kept as a dead letter, a few a minute per sender (letter-rate.ts); past that, counted only.
  const refuse = async (reason: string, details: DeadLetterDetails) => {
    if (!host.letterAllowed(sender)) host.stats.unletteredReports++;
    else await host.inbox.deadLetter('inputs', reason, m, details);
  };
  if (
    input.type !== 'kick' &&
    (!host.tokens.verify(input.runId, instanceToken(input.data), input.data.attempt, input.token) ||
      (input.type === 'task.released' && !claimed(host, input)))
  ) {
    host.stats.forged++;
    await refuse(
      `${input.type} of ${input.data.task} attempt ${input.data.attempt} in run ${input.runId} does not carry that attempt's token${input.type === 'task.released' && input.data.restart > 0 ? ` and restart ${input.data.restart}'s claim token` : ''}: only the worker handed the attempt may report it`,
      { runId: input.runId, taskId: input.data.task, by: sender },
    );
    m.ack();
    return;
  }
  host.stats.inputs++;
  // Who reported it, as the server let them publish; the engine's clock stamps what it records, never the sender's.
  const by = { by: sender, ...(host.sendersProven() ? {} : { unauthenticated: true as const }) };
  const time = iso(host.now());
  const commit = {
    reconcile: m.redelivered || input.type === 'kick',
    fresh: m.redelivered,
    commitKey: `in${m.seq}`,
    custody,
  };
  let done: Done;
  if (input.type === 'kick') {
    // A kick says the run's log moved outside this engine's commits (an admission, a start, a caller's
    // commit): it is judged against the log as it is now, never this engine's cached copy (which may be
    // the run still QUEUED, and would start nothing). A start's kick has no copy to catch up with.
    const justStarted = input.started === true && !m.redelivered;
    const { first } = input;
    done = await host.runs.withRun(input.runId, async () => {
      const handed =
        justStarted && first !== undefined ? (host.handFirstCommit?.(sender, input.runId, first) ?? null) : null;
      try {
        return await host.runs.process(input.runId, [], {
          ...commit,
          fresh: !justStarted,
          justStarted,
          handed: handed !== null,
        });
      } finally {
        handed?.();
      }
    });
  } else if (input.type === 'task.lost') {
    done = await host.runs.withRun(input.runId, async (): Promise<Done> => {
      const st = await host.runs.load(input.runId, true);
      if (!st) return null;
      const { task, attempt, restart, lost, ledger } = input.data;
      const want = queueRefused(st, task, queue);
      if (want) return { refused: want };
      const review = reviewLoss(st.snapshot, {
        taskId: task,
        ...instanceFields(input.data),
        attempt,
        restart,
        reason: 'worker_lost',
        ...(lost !== undefined ? { lost } : {}),
        ...by,
        time,
      });
      if (review.kind === 'stale') {
        host.log(`run ${input.runId}: the loss of ${task} attempt ${attempt} no longer applies (${review.reason})`);
        // The task moved on (another engine recorded its outcome, and may have been killed between that commit and its
        // effects): what the run waits for now is published again (message ids dedup; the attempt ledger runs none
        // twice). A loss of an attempt still in progress (a duplicate report) publishes nothing.
        const moved = st.snapshot.status === 'active' && st.snapshot.context.tasks[task]?.status !== 'IN_PROGRESS';
        return moved ? host.runs.process(input.runId, [], { ...commit, reconcile: true }) : st;
      }
      if ((ledger === 'task.completed' || ledger === 'task.failed') && m.info.deliveryCount === 1) return 'recheck';
      if (review.kind === 'restart') host.stats.restarts++;
      const said =
        ledger === undefined || ledger === 'taken'
          ? `was lost with ${lost ?? 'its worker'}`
          : `was not run (the attempt ledger says ${ledger}${lost ? ` by ${lost}` : ''}, and the run has no outcome of it)`;
      host.log(
        `run ${input.runId}: ${task} attempt ${attempt} ${said}; ${review.kind === 'restart' ? 'running it again' : 'too many restarts: failing it'}`,
      );
      return host.runs.process(input.runId, [review.event], commit);
    });
  } else if (input.type === 'task.released') {
    done = await recordRelease(host, input, queue, by, time, commit);
  } else {
    done = await recordOutcome(host, input, queue, by, time, commit);
  }
  if (done === 'recheck' && input.type === 'task.lost') {
    host.log(
      `run ${input.runId}: ${input.data.task} attempt ${input.data.attempt} is marked ${input.data.ledger} in the attempt ledger and its outcome is not recorded yet; looking again in ${host.finishedRecheckMs} ms`,
    );
    m.nak(host.finishedRecheckMs);
    return;
  }
  if (done && done !== 'recheck' && 'refused' in done) {
    host.stats.refused++;
    const task = input.type === 'kick' ? '' : input.data.task;
    await refuse(
      `${input.type} of ${task} in run ${input.runId} was reported on queue ${queue} by ${sender}, but the attempt was handed out on queue ${done.refused}: only a user given that queue (nats.conf) may report it; nothing was recorded`,
      { runId: input.runId, taskId: task, by: sender },
    );
    m.ack();
    return;
  }
  if (!done) {
    // An outcome or a loss carries a token only an engine hands out, for an attempt of a run it had read:
    // the run exists, and reading none means the read failed (a node lost or catching up). Try again later
    // (bounded: see the engine's consume()). A kick proves nothing: one for a run that is not there is dead-lettered.
    if (input.type !== 'kick')
      throw new Error(
        `run ${input.runId} reads as empty, yet ${input.type} of ${input.data.task} carries a valid attempt token: the read must have failed`,
      );
    await refuse(`run ${input.runId} does not exist`, { runId: input.runId });
  }
  m.ack();
}

/** A restarted run is given back only with its own claim token: a worker handed an earlier run has the attempt's token. */
function claimed(host: InputHost, input: ReleaseMessage): boolean {
  const { restart, attempt } = input.data;
  return (
    restart === 0 || host.tokens.verifyClaim(input.runId, instanceToken(input.data), attempt, restart, input.claimToken)
  );
}
