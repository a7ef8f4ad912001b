/**
 * A commit's effects, interpreted on NATS, after the commit is appended and never before (a crash in between is mended
 * by the next engine's reconcile). Each is published with a message id that makes publishing it again harmless: an
 * attempt to its queue's work stream (with the token only its worker gets), a timer to LF_TIMERS. Child runs and
 * emitted events are the engine's own attempts (children.ts, trigger-events.ts), and so are TRANSFORMs'
 * (transforms.ts).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { childRunId, instanceFields, instanceToken, type CompiledWorkflow } from '../../compiler/index.js';
import { attemptQueue, DEFAULT_QUEUE, type Effect, type StartAttempt, type WaitAttempt } from '../../runtime/index.js';
import { performEffect, type EffectPerformer } from '../../executor/index.js';
import {
  AttemptLedger,
  encode,
  skillKey,
  subjects,
  type AttemptTokens,
  type TaskMessage,
  type TimerMessage,
  type TaskQueues,
  type Custody,
} from '../transport/index.js';
import type { ChildRuns } from './children.js';
import { DirectDispatch } from './direct-dispatch.js';
import type { LocalAttempts } from './local-attempts.js';
import type { TriggerEvents } from './trigger-events.js';
import { errorMessage } from '../../errors/index.js';
import { failureStepOf, type FailureStep } from '../../definition/index.js';

export interface EffectPublisherOptions {
  js: JetStreamClient;
  tokens: AttemptTokens;
  ledger: AttemptLedger;
  taskQueues: TaskQueues;
  /** Attempts offered straight to idle workers first (direct-dispatch.ts); without it, every attempt is queued. */
  direct?: DirectDispatch | null;
  stats: { dispatched: number; timers: number };
  log: (line: string) => void;
  children: Pick<ChildRuns, 'start' | 'cancel'>;
  triggers: Pick<TriggerEvents, 'emit'>;
  /** An attempt of a gated task: its wait, durable on LF_TIMERS (gate-waits.ts). */
  waitAttempt(effect: WaitAttempt): Promise<void>;
  /** An attempt of a built-in failure step: the engine's own (failure-steps.ts), never a worker's. */
  failureStep?(effect: StartAttempt, step: FailureStep): Promise<void>;
  /** A TRANSFORM attempt: the engine runs its jq itself (transforms.ts), never a worker. */
  transform?(effect: StartAttempt): Promise<void>;
  /** The attempt's values sealed for the worker (encryption at rest, src/encryption/wire.ts); as it is without a key. */
  sealAttempt?(msg: TaskMessage): TaskMessage;
  /**
   * The attempt with its largest input fields kept apart in the blobs bucket when its input is over the task's inline
   * limit (a template that picked a large field out of a body); null when it is within it, the common case, no await.
   */
  keepApart?(effect: StartAttempt): Promise<StartAttempt> | null;
  /** Attempts this engine runs itself (`engine --handlers`, local-attempts.ts): taken under the run's custody, else offered or queued. */
  local?: Pick<LocalAttempts, 'take'> | null;
}

/**
 * How the NATS engine performs each effect (the executors' EffectPerformer port, the same dispatch the in-process
 * driver uses): each returns the publish to wait for. An abort settles the attempt in the attempt ledger when no worker
 * has claimed it yet, so the worker it is delivered to drops it unrun (a queued attempt of a cancelled run, or a
 * restarted one whose lost run reported after all); one a worker runs stops at its deadline, and its outcome is dropped
 * as stale. Timer cancels have nothing to publish: a timer the run no longer wants is stale when it comes back.
 */
export function effectPublisher(
  o: EffectPublisherOptions,
  custody: Custody | null,
  compiled?: CompiledWorkflow,
  queueOnly?: (effect: StartAttempt) => boolean,
): EffectPerformer<Promise<unknown>> {
  /** An attempt handed to a worker: sealed, then offered straight to an idle one or queued. */
  const dispatch = (effect: StartAttempt): Promise<unknown> => {
    // The priority is the subject's (the level the attempt waits on), not the message's: the body is as before levels.
    const {
      type: _t,
      queue,
      idempotencyKey,
      instance: _key,
      task: { id: _id, ...task },
      priority,
      secrets,
      ...fields
    } = effect;
    const { restart, ...rest } = fields;
    // Where the secrets go, references only: the worker reads their values (src/secrets/kv.ts).
    const secretSites = secrets ? { secrets: secrets.map((x) => ({ path: [...x.path], parts: [...x.parts] })) } : {};
    const instance = instanceToken({ task: effect.taskId, ...instanceFields(effect) });
    const claimToken =
      restart > 0 ? { claimToken: o.tokens.claimTokenFor(effect.runId, instance, effect.attempt, restart) } : {};
    const clear: TaskMessage = {
      ...rest,
      ...(restart > 0 ? { restart } : {}),
      ...secretSites,
      task,
      token: o.tokens.tokenFor(effect.runId, instance, effect.attempt),
      ...claimToken,
    };
    // Sealed only when it leaves this engine (an attempt run here needs no seal).
    let sealed: TaskMessage | undefined;
    const msg = () => (sealed ??= o.sealAttempt ? o.sealAttempt(clear) : clear);
    o.stats.dispatched++;
    // A restarted attempt is a new message (its own id), carrying the same attempt number and idempotency key.
    // `redispatch`: a copy of an attempt that may have been offered to a worker, which claims it only when needed
    // (claim-asks.ts): the worker given the copy asks before it claims. Its message id is its own (`/copy`): with one
    // id for both, a copy queued by a reconcile just before this engine queued the attempt its offer could not give
    // away made JetStream drop the attempt as a duplicate, and the copy, unanswered (nobody ran it), was restarted.
    // A task that requires skills waits on its handler key (subjects.ts skillKey): only workers with them pull it.
    const key = skillKey(effect.handler, effect.task.requires);
    const msgId = restart > 0 ? `${idempotencyKey}/r${restart}` : idempotencyKey;
    const queueIt = (redispatch = false) =>
      o.taskQueues.dispatch(
        queue,
        key,
        encode(redispatch ? { ...msg(), redispatch: true } : msg()),
        redispatch ? `${msgId}/copy` : msgId,
        priority,
      );
    // Outstanding ones a reconcile publishes may have been offered, by this engine or another.
    if (!o.direct) return queueIt(queueOnly?.(effect) === true);
    // Never offered straight to a worker (an offer goes to any idle worker of the handler, skilled or not): always queued.
    if (key !== effect.handler) return queueIt();
    // Handed to a worker already (a reconcile's effects): it runs it.
    if (o.direct.holds(effect)) {
      // The message processed now is held until it reports too (its run's custody, direct-dispatch.ts).
      o.direct.join(effect.runId, custody);
      return Promise.resolve();
    }
    // Outstanding ones a reconcile publishes go to the queue, under their message ids, as before: one
    // handed straight to a worker by an engine that died is claimed there, and its claim decides.
    if (queueOnly?.(effect)) return queueIt(true);
    // This engine has the handler: run here under the run's custody, no offer (local-attempts.ts).
    if (o.local?.take(effect, clear, custody)) return Promise.resolve();
    // The queue's stream and consumer are made first all the same (once per pair): the fallback, and what workers wait for.
    // Refused (no worker took it): queued as never offered; no answer either way: queued as a copy that may have been.
    return o.taskQueues
      .ensure(queue, effect.handler)
      .then(() => o.direct!.offer(effect, msg(), () => queueIt(true), custody))
      .then((answer) => (answer === 'taken' ? undefined : queueIt(answer === 'unsure')));
  };
  return {
    startAttempt(effect) {
      const step = failureStepOf(effect.handler);
      if (step && o.failureStep) return o.failureStep(effect, step);
      if (effect.transform && o.transform) return o.transform(effect);
      const apart = o.keepApart?.(effect);
      return apart ? apart.then(dispatch) : dispatch(effect);
    },
    abortAttempt(effect) {
      const publishes: Promise<unknown>[] = [];
      // A SUB_WORKFLOW attempt (or a MAP item run as a workflow) no longer wanted (parent cancelled, timed out, settled): its child run is cancelled too.
      const aborted = compiled?.definition.tasks.find((t) => t.id === effect.taskId);
      // A FORK_DYNAMIC's branch may be either: cancelling a child that was never started does nothing.
      if (aborted?.type === 'SUB_WORKFLOW' || (aborted?.type === 'MAP' && (aborted.workflow || aborted.fork))) {
        const ref = { task: effect.taskId, ...instanceFields(effect) };
        publishes.push(
          o.children.cancel(
            {
              childRunId: childRunId(effect.runId, ref, effect.attempt),
              parent: { runId: effect.runId, ...ref, attempt: effect.attempt },
            },
            effect.reason,
            custody,
          ),
        );
      }
      // Best effort: if it fails, the attempt merely runs and its outcome is stale.
      const instance = instanceToken({ task: effect.taskId, ...instanceFields(effect) });
      // The queue the attempt was handed out on: its claims are keyed under it (attempts.ts).
      const queue = (compiled && attemptQueue(compiled, effect.taskId)) ?? DEFAULT_QUEUE;
      publishes.push(
        o.ledger
          .abort(
            AttemptLedger.key(
              queue,
              effect.runId,
              instance,
              effect.attempt,
              effect.restart,
              o.tokens.tokenFor(effect.runId, instance, effect.attempt),
              o.tokens.claimTokenFor(effect.runId, instance, effect.attempt, effect.restart),
            ),
          )
          .catch((err: unknown) =>
            o.log(
              `run ${effect.runId}: could not settle ${effect.instance} attempt ${effect.attempt} in the attempt ledger: ${errorMessage(err)}`,
            ),
          ),
      );
      return Promise.all(publishes);
    },
    armTimer(effect) {
      const { timer } = effect;
      o.stats.timers++;
      const msg: TimerMessage = {
        runId: effect.runId,
        task: timer.task,
        kind: timer.kind,
        attempt: timer.attempt,
        dueAt: timer.dueAt,
        ...instanceFields(timer),
      };
      return o.js.publish(subjects.timer(effect.runId), encode(msg), { msgID: `${effect.runId}/${timer.id}` });
    },
    cancelTimer: () => Promise.resolve(),
    startChild: (effect) => o.children.start(effect, custody),
    emitEvent: (effect) => o.triggers.emit(effect),
    waitAttempt: (effect) => o.waitAttempt(effect),
  };
}

/**
 * Performs `effects` (of a run of `compiled`) at once, and waits for every publish. `fresh`: when
 * `effects` are every outstanding effect of the run (a reconcile), the commit's own: only those
 * attempts are offered to workers, the others queued.
 */
export async function publishEffects(
  o: EffectPublisherOptions,
  custody: Custody | null,
  effects: Effect[],
  compiled?: CompiledWorkflow,
  fresh: Effect[] | null = null,
): Promise<void> {
  const freshKeys =
    fresh && new Set(fresh.flatMap((e) => (e.type === 'attempt.start' ? [DirectDispatch.keyOf(e)] : [])));
  const performer = effectPublisher(
    o,
    custody,
    compiled,
    freshKeys ? (e) => !freshKeys.has(DirectDispatch.keyOf(e)) : undefined,
  );
  await Promise.all(effects.map((effect) => performEffect(effect, performer)));
}
