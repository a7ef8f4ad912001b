/**
 * Task concurrency and rate limits on NATS (runtime/task-gates.ts decides what waits; limits/task-gate.ts asks the
 * gate, whose state is a KV entry in LF_TASK_GATES changed by compare-and-set). A waiting attempt is a durable message
 * on `lf.timers.<runId>.gate` (stream LF_TIMERS), so any engine takes it and none owns it: the engine that gets it
 * reads the run, asks the gate, and either records the attempt's start (task.started at the time of the grant, through
 * the run host's one commit, whose effects then hand the attempt to a worker) or puts the message back for when the
 * gate says to ask again. An engine that dies mid-way leaves the message to the next (ack wait). Each round is
 * limits/gate-waits.ts askWait, as in process.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { instanceFields, instanceKey, instanceState, instanceToken, iso } from '../../compiler/index.js';
import { askWait, sayAgain, type SkillCheck } from '../../limits/index.js';
import type { PendingEvent } from '../../events/index.js';
import { attemptPlan, grantedStart, runPriority, taskGates, type WaitAttempt } from '../../runtime/index.js';
import type { EventStore } from '../../store/index.js';
import {
  decodeOrUndefined,
  encode,
  GateWaitMessage,
  HEARD_ALL_MS,
  subjects,
  type Custody,
  type PresenceRegistry,
} from '../transport/index.js';
import type { RunHost } from './run-host.js';

/** Deliveries of one copy after which a wait is published afresh: the stream's bound on deliveries never ends a long wait. */
const FRESH_AFTER_DELIVERIES = 1000;

export const gateWaitSubject = (runId: string): string => `${subjects.timer(runId)}.gate`;

/** Publishes a wait (the engine's performer of `attempt.wait`); its message id makes publishing it again harmless. */
export function publishWait(
  js: JetStreamClient,
  e: WaitAttempt,
  gen = 0,
  since?: number,
  delayed = false,
): Promise<unknown> {
  const msg: GateWaitMessage = {
    runId: e.runId,
    task: e.taskId,
    attempt: e.attempt,
    ...instanceFields(e),
    gate: true,
    ...(gen > 0 ? { gen } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(delayed ? { delayed } : {}),
  };
  return js.publish(gateWaitSubject(e.runId), encode(msg), {
    msgID: `${e.runId}/wait/${e.instance}/${e.attempt}${gen > 0 ? `/g${gen}` : ''}`,
  });
}

export interface GateWaitHost {
  js: JetStreamClient;
  store: EventStore;
  host: RunHost;
  now: () => number;
  log: (line: string) => void;
  /** Who has the skills an attempt's task requires on its queue (the workers this engine hears: presence.ts). */
  skilled?: (queue: string, handler: string) => SkillCheck;
}

/** One delivery of a wait message: grant and record the start, or put it back until the gate says to ask again. */
export async function takeGateWait(o: GateWaitHost, m: JsMsg, custody: Custody): Promise<void> {
  const parsed = GateWaitMessage.safeParse(decodeOrUndefined(m.data));
  if (!parsed.success) {
    o.log(`dropped a malformed gate wait on ${m.subject}`);
    m.term();
    return;
  }
  const w = parsed.data;
  const ref = { task: w.task, ...instanceFields(w) };
  const key = instanceKey(ref);
  const commit = (ev: PendingEvent, kind: string) =>
    o.host.withRun(w.runId, () =>
      o.host.process(w.runId, [ev], { commitKey: `${kind}-${instanceToken(ref)}-${w.attempt}`, custody }),
    );
  const run = await o.host.load(w.runId, true);
  if (!run) {
    m.ack();
    return;
  }
  const gate = taskGates(run.compiled).get(w.task);
  if (!gate) {
    // No longer gated (the limits file changed): an attempt still SCHEDULED starts now, as a step would have started it.
    const t = run.snapshot.status === 'active' ? instanceState(run.snapshot.context, ref) : undefined;
    if (t?.status === 'SCHEDULED' && t.attempts + 1 === w.attempt)
      await commit(grantedStart({ ref, attempt: w.attempt }, iso(o.now())), 'gate');
    m.ack();
    return;
  }
  const effect: WaitAttempt = {
    type: 'attempt.wait',
    runId: w.runId,
    workflowId: run.snapshot.context.workflowId,
    taskId: w.task,
    ...instanceFields(w),
    instance: key,
    attempt: w.attempt,
    gate,
    priority: runPriority(run.compiled, run.snapshot.context),
  };
  // Its place in every line: when it began to wait, the same whichever engine asks (limits/gate-state.ts).
  const since = w.since ?? Math.floor(m.info.timestampNanos / 1e6);
  const plan = attemptPlan(run.compiled, w.task);
  const said = w.delayed === true;
  const next = await askWait({
    store: o.store,
    compiled: run.compiled,
    state: run.snapshot,
    now: o.now,
    effect,
    since,
    said,
    skilled: plan && o.skilled ? o.skilled(plan.queue, plan.handler) : undefined,
    commit,
  });
  // Held and said so just now (an audit record in the run's history): the wait, published afresh, says it is said.
  if (!next.done && (next.said !== said || m.info.deliveryCount >= FRESH_AFTER_DELIVERIES))
    await publishWait(o.js, effect, (w.gen ?? 0) + 1, since, next.said);
  else if (!next.done) {
    m.nak(next.retryInMs);
    return;
  }
  m.ack();
}

/**
 * The skill check of an engine: a live worker of the queue serving the handler with every skill (presence.ts). Until
 * the engine has listened long enough to have heard every live worker, it cannot tell: ask again then. Nobody: said in
 * the engine's log once a minute per queue, handler and skill set.
 */
export function skilledBy(
  presence: PresenceRegistry,
  log: (line: string) => void,
  now: () => number = Date.now,
): (queue: string, handler: string) => SkillCheck {
  const said = new Map<string, number>();
  return (queue, handler) => (skills) => {
    if (presence.servesWithSkills(queue, handler, skills)) return true;
    const wait = HEARD_ALL_MS - presence.listeningMs;
    if (wait > 0) return wait;
    if (sayAgain(said, `${queue}\u0000${handler}\u0000${skills.join('+')}`, now())) {
      log(
        `no worker with skills ${skills.join(', ')} serves handler ${handler} on queue ${queue}: its attempts wait (start one: ledgerflow worker --handlers <module>${queue === 'default' ? '' : ` --queue ${queue}`} --skills ${skills.join(',')})`,
      );
    }
    return false;
  };
}
