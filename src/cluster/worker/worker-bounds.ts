/**
 * A worker's bounds on one delivery (worker.ts): a delivery past `taskMaxDeliver` is dead-lettered unrun (every one
 * before it ended without an ack: its workers died, or it kept failing here), and a failure at the bound is
 * dead-lettered with the error; before that a failure is put back with a growing delay. The bound is generous: a
 * redelivery is mostly a lost worker, which is not poison. Dead letters go to lf.dlq.tasks.<user>, under the worker's
 * own NATS user, the one dead-letter subject nats.conf lets it write: what a worker writes is listed as its own and
 * never replayed with an engine's rights (dead-letter-queue.ts).
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { instanceFields } from '../../compiler/index.js';
import {
  deadLetterOf,
  publishDeadLetter,
  REDELIVERY_DEFAULTS,
  retryDelayMs,
  subjects,
  type DeadLetterDetails,
  type ClusterSettings,
} from '../transport/index.js';
import type { OutcomeReporter } from './report-outcome.js';
import { aboutDelivery as about, attemptOf } from './worker-deliveries.js';
import { errorMessage } from '../../errors/index.js';

export interface BoundsHost {
  js: () => JetStreamClient;
  /** The worker's NATS user. */
  sender: () => string;
  reporter: () => OutcomeReporter;
  settings: ClusterSettings | undefined;
  log: (line: string) => void;
  /** Handed back when a stop's grace ran out: a failure then is the connection closing, and the delivery another worker's. */
  handedBack: () => boolean;
  /** Runs a delivery (parses it, claims and runs its attempt). */
  run: (m: JsMsg) => Promise<void>;
}

export interface DeliveryBounds {
  bounded(m: JsMsg): Promise<void>;
  deadLetter(m: JsMsg, reason: string, details?: DeadLetterDetails): Promise<void>;
}

export function deliveryBounds(h: BoundsHost): DeliveryBounds {
  const maxDeliver = h.settings?.taskMaxDeliver ?? REDELIVERY_DEFAULTS.taskMaxDeliver;

  async function deadLetter(m: JsMsg, reason: string, details: DeadLetterDetails = {}): Promise<void> {
    h.log(`dead letter (tasks): ${reason}`);
    await publishDeadLetter(
      h.js(),
      subjects.workerDlq(h.sender()),
      deadLetterOf(m, reason, new Date().toISOString(), details),
    );
  }

  /**
   * Gives up on a delivery: the attempt is reported failed (LF_ATTEMPT_UNDELIVERABLE, retryable, so the task's retry
   * policy decides, rather than the run waiting for a timeout it may not have), then dead-lettered and terminated.
   */
  async function giveUp(m: JsMsg, reason: string): Promise<void> {
    const task = attemptOf(m);
    if (task) {
      await h.reporter().report([], task, {
        runId: task.runId,
        time: new Date().toISOString(),
        token: task.token,
        type: 'task.failed',
        data: {
          task: task.taskId,
          attempt: task.attempt,
          ...instanceFields(task),
          error: { code: 'LF_ATTEMPT_UNDELIVERABLE', retryable: true, message: reason },
        },
      });
    }
    await deadLetter(m, reason, about(m));
    m.term();
  }

  async function bounded(m: JsMsg): Promise<void> {
    const n = m.info.deliveryCount;
    try {
      if (n > maxDeliver) {
        await giveUp(
          m,
          `delivered ${n} times (the bound is ${maxDeliver}) and never reported: no worker runs it any more, so it is reported failed`,
        );
        return;
      }
      await h.run(m);
    } catch (err) {
      if (h.handedBack()) return;
      const message = errorMessage(err);
      if (n >= maxDeliver) {
        try {
          await giveUp(
            m,
            `gave up after ${n} deliveries (the bound is ${maxDeliver}); the last failed with: ${message}`,
          );
          return;
        } catch (dlqErr) {
          h.log(`task message ${m.seq}: could not dead-letter it (${errorMessage(dlqErr)}); it comes back`);
        }
      }
      const delay = retryDelayMs(n, h.settings);
      h.log(`task message: ${message}; delivery ${n} of ${maxDeliver}, trying again in ${delay} ms`);
      m.nak(delay);
    }
  }

  return { bounded, deadLetter };
}
