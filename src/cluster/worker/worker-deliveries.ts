/**
 * What a worker reads off a task delivery that may not parse, and what it says
 * while its queue's consumer is not there yet (and the wait for it): helpers of worker.ts.
 */
import type { JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { errorMessage, permissionDenied } from '../../errors/index.js';
import {
  parseInbound,
  rawOf,
  ensureWorkerConsumer,
  taskStream,
  workerConsumerName,
  type DeadLetterDetails,
  type TaskMessage,
  type ClusterSettings,
} from '../transport/index.js';

/** The attempt a task message holds, if it parses. */
export function attemptOf(m: JsMsg): TaskMessage | null {
  const t = parseInbound('task', rawOf(m));
  return t.ok ? t.value : null;
}

/** What the task message says it is, for the dead letter (it may not parse). */
export function aboutDelivery(m: JsMsg): DeadLetterDetails {
  const t = attemptOf(m);
  return t ? { runId: t.runId, taskId: t.taskId } : {};
}

/** What a worker waiting for its queue's consumer says it waits for. */
export function consumerWaitReason(
  err: unknown,
  at: { sender: string; queue: string; stream: string; name: string; handler: string },
): string {
  const { sender, queue, stream, name, handler } = at;
  const message = errorMessage(err);
  if (permissionDenied(err) !== null) {
    return `waiting: NATS user ${sender} may not read queue ${queue} (${message}); nats.conf must give it "$JS.API.STREAM.INFO.${stream}", "$JS.API.CONSUMER.INFO.${stream}.*", "$JS.API.CONSUMER.MSG.NEXT.${stream}.*", "$JS.ACK.${stream}.>" and "lf.inputs.${sender}.${queue}.*" (then reload the server)`;
  }
  if (/stream not found/i.test(message))
    return `waiting for stream ${stream} of queue ${queue}: an engine creates it when it first hands out an attempt on queue ${queue}`;
  return `waiting for consumer ${name} of ${stream} (${message}): an engine creates it when it first hands out an attempt of ${handler} on queue ${queue}`;
}

/** What a worker says when the attempt ledger says a delivery is not its to run (it reports it lost instead). */
export function lostLine(
  key: string,
  ledgerSaid: 'taken' | 'task.completed' | 'task.failed' | 'aborted',
  by: string | undefined,
  deliveryCount: number,
): string {
  if (ledgerSaid === 'aborted')
    return `${key}: settled in the attempt ledger as no longer wanted (delivery ${deliveryCount}); not running it, and telling the engine, which restarts it if its run still wants it`;
  if (ledgerSaid === 'taken')
    return `${key} was taken by ${by ?? 'another worker'}, which has not reported it (delivery ${deliveryCount}); reporting it lost, for the engine to run it again`;
  return `${key}: delivered again (delivery ${deliveryCount}) after ${by ?? 'another worker'} reported ${ledgerSaid}; not running it, and telling the engine, which runs it again only if that outcome never reaches it`;
}

/**
 * The consumer of `handler` on the worker's queue once it exists (null: stopped first). Made here when the worker's
 * NATS user may create consumers; else (nats.conf's `worker`, which may not) an engine makes the queue's stream and the
 * consumer when it first hands out an attempt of that handler on that queue. Until then the worker waits, saying what
 * it waits for. `ackWait`: the consumer's ack wait as the server has it.
 */
export async function consumerOf(
  jsm: JetStreamManager,
  o: {
    queue: string;
    handler: string;
    sender: string;
    settings?: ClusterSettings;
    log(line: string): void;
    stopped(): boolean;
    ackWait(ms: number): void;
  },
): Promise<string | null> {
  const { queue, handler, sender } = o;
  const name = workerConsumerName(queue, handler);
  const stream = taskStream(queue).name;
  let waiting = '';
  for (let tries = 0; !o.stopped(); tries++) {
    try {
      // Tried once: a user that may not create consumers would only be refused again.
      if (tries === 0) await ensureWorkerConsumer(jsm, queue, handler, o.settings).catch(() => undefined);
      const actual = (await jsm.consumers.info(stream, name)).config.ack_wait;
      if (actual) o.ackWait(actual / 1_000_000);
      if (waiting) o.log(`consumer ${name} of ${stream} is there: taking attempts of ${handler} from queue ${queue}`);
      return name;
    } catch (err) {
      const why = consumerWaitReason(err, { sender, queue, stream, name, handler });
      if (why !== waiting) o.log(why);
      waiting = why;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  return null;
}
