/**
 * Task concurrency and rate limits on NATS (runtime/task-gates.ts decides
 * what waits; executor/task-gate.ts asks the gate, whose state is a KV entry
 * in LF_TASK_GATES changed by compare-and-set). A waiting attempt is a
 * durable message on `lf.timers.<runId>.gate` (stream LF_TIMERS), so any
 * engine takes it and none owns it: the engine that gets it reads the run,
 * asks the gate, and either records the attempt's start (task.started at the
 * time of the grant, through the run host's one commit, whose effects then
 * hand the attempt to a worker) or puts the message back for when the gate
 * says to ask again. An engine that dies mid-way leaves the message to the
 * next (ack wait); a wait the run no longer has gives its place up.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { instanceFields, instanceKey, instanceState, instanceToken } from '../../compiler/index.js';
import { askAttemptGate, withdrawAttemptWait } from '../../executor/index.js';
import { delayedByBreaker, grantedStart, runPriority, stillWaiting, taskGates, type WaitAttempt } from '../../runtime/index.js';
import { iso } from '../../compiler/index.js';
import type { EventStore } from '../../store/index.js';
import { encode, GateWaitMessage, subjects, type Custody } from '../transport/index.js';
import type { RunHost } from './run-host.js';

/** Deliveries of one copy after which a wait is published afresh: the stream's bound on deliveries never ends a long wait. */
const FRESH_AFTER_DELIVERIES = 1000;

export const gateWaitSubject = (runId: string): string => `${subjects.timer(runId)}.gate`;

/** Publishes a wait (the engine's performer of `attempt.wait`); its message id makes publishing it again harmless. */
export function publishWait(js: JetStreamClient, e: WaitAttempt, gen = 0, since?: number, delayed = false): Promise<unknown> {
  const msg: GateWaitMessage = { runId: e.runId, task: e.taskId, attempt: e.attempt, ...instanceFields(e), gate: true, ...(gen > 0 ? { gen } : {}), ...(since !== undefined ? { since } : {}), ...(delayed ? { delayed } : {}) };
  return js.publish(gateWaitSubject(e.runId), encode(msg), { msgID: `${e.runId}/wait/${e.instance}/${e.attempt}${gen > 0 ? `/g${gen}` : ''}` });
}

export interface GateWaitHost { js: JetStreamClient; store: EventStore; host: RunHost; now: () => number; log: (line: string) => void }

/** One delivery of a wait message: grant and record the start, or put it back until the gate says to ask again. */
export async function takeGateWait(o: GateWaitHost, m: JsMsg, custody: Custody): Promise<void> {
  let body: unknown;
  try { body = JSON.parse(new TextDecoder().decode(m.data)); } catch { body = null; }
  const parsed = GateWaitMessage.safeParse(body);
  if (!parsed.success) { o.log(`dropped a malformed gate wait on ${m.subject}`); m.term(); return; }
  const w = parsed.data;
  const ref = { task: w.task, ...instanceFields(w) };
  const key = instanceKey(ref);
  const run = await o.host.load(w.runId, true);
  if (!run) { m.ack(); return; }
  const gate = taskGates(run.compiled).get(w.task);
  if (!gate) {
    // No longer gated (the limits file changed): an attempt still SCHEDULED starts now, as a step would have started it.
    const t = run.snapshot.status === 'active' ? instanceState(run.snapshot.context, ref) : undefined;
    if (t?.status === 'SCHEDULED' && t.attempts + 1 === w.attempt) {
      await o.host.withRun(w.runId, () => o.host.process(w.runId, [grantedStart({ ref, attempt: w.attempt }, iso(o.now()))], { commitKey: `gate-${instanceToken(ref)}-${w.attempt}`, custody }));
    }
    m.ack();
    return;
  }
  const effect: WaitAttempt = {
    type: 'attempt.wait', runId: w.runId, workflowId: run.snapshot.context.workflowId, taskId: w.task, ...instanceFields(w), instance: key,
    attempt: w.attempt, gate, priority: runPriority(run.compiled, run.snapshot.context),
  };
  if (!stillWaiting(run.compiled, run.snapshot, key, w.attempt)) {
    await withdrawAttemptWait(o.store, effect);
    m.ack();
    return;
  }
  // Its place in every line: when it began to wait, the same whichever engine asks (executor/gate-state.ts).
  const since = w.since ?? Math.floor(m.info.timestampNanos / 1e6);
  const answer = await askAttemptGate(o.store, effect, o.now, since);
  if (!answer.granted) {
    if ('breaker' in answer && answer.breaker && w.delayed !== true) {
      // Held by an open breaker: the run's history says so once (an audit record), and the wait, published afresh, says it is said.
      const until = answer.breaker.until !== undefined ? iso(answer.breaker.until) : undefined;
      await o.host.withRun(w.runId, () => o.host.process(w.runId, [delayedByBreaker({ ref, attempt: w.attempt }, answer.breaker.name, until, iso(o.now()))], { commitKey: `delayed-${instanceToken(ref)}-${w.attempt}`, custody }));
      await publishWait(o.js, effect, (w.gen ?? 0) + 1, since, true);
      m.ack();
      return;
    }
    if (m.info.deliveryCount >= FRESH_AFTER_DELIVERIES) {
      await publishWait(o.js, effect, (w.gen ?? 0) + 1, since, w.delayed === true);
      m.ack();
    } else m.nak(answer.retryInMs);
    return;
  }
  await o.host.withRun(w.runId, () => o.host.process(w.runId, [grantedStart({ ref, attempt: w.attempt }, iso(answer.at))], { commitKey: `gate-${instanceToken(ref)}-${w.attempt}`, custody }));
  m.ack();
}
