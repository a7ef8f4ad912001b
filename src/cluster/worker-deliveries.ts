/**
 * What a worker reads off a task delivery that may not parse, and what it says
 * while its queue's consumer is not there yet: pure helpers of worker.ts.
 */
import type { JsMsg } from 'nats';
import type { DeadLetterDetails } from './dead-letters.js';
import type { TaskMessage } from './messages.js';
import { parseInbound, rawOf } from './parse.js';

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
export function consumerWaitReason(err: unknown, at: { sender: string; queue: string; stream: string; name: string; handler: string }): string {
  const { sender, queue, stream, name, handler } = at;
  const message = (err as Error).message ?? String(err);
  if (/permission/i.test(message)) {
    return `waiting: NATS user ${sender} may not read queue ${queue} (${message}); nats.conf must give it "$JS.API.STREAM.INFO.${stream}", "$JS.API.CONSUMER.INFO.${stream}.*", "$JS.API.CONSUMER.MSG.NEXT.${stream}.*", "$JS.ACK.${stream}.>" and "lf.inputs.${sender}.${queue}.*" (then reload the server)`;
  }
  if (/stream not found/i.test(message)) return `waiting for stream ${stream} of queue ${queue}: an engine creates it when it first hands out an attempt on queue ${queue}`;
  return `waiting for consumer ${name} of ${stream} (${message}): an engine creates it when it first hands out an attempt of ${handler} on queue ${queue}`;
}
