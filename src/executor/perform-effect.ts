/**
 * The executors' last phase, as a port: after a commit is durable, each effect the core asked for
 * (src/runtime/effects.ts) is performed by the executor's transport. The in-process driver runs attempts with handlers
 * and arms timers on its clock (src/local/driver.ts); the NATS engine publishes attempts and timers for workers and
 * other engines. One dispatch, so both interpret the same effects by the same names.
 */
import type {
  AbortAttempt,
  ArmTimer,
  CancelTimer,
  Effect,
  EmitEvent,
  StartAttempt,
  StartChild,
  WaitAttempt,
} from '../runtime/index.js';

/** What a transport does with each kind of effect; `R`: what performing one gives (a promise to await, or nothing). */
export interface EffectPerformer<R = void> {
  startAttempt(effect: StartAttempt): R;
  abortAttempt(effect: AbortAttempt): R;
  armTimer(effect: ArmTimer): R;
  cancelTimer(effect: CancelTimer): R;
  /** A SUB_WORKFLOW attempt's child run (`parent.task` set), or a failed run's failure workflow (no `parent.task`). */
  startChild(effect: StartChild): R;
  emitEvent(effect: EmitEvent): R;
  /** An attempt of a gated task: ask the gate until it may start, then feed its task.started in (limits/task-gate.ts). */
  waitAttempt(effect: WaitAttempt): R;
}

export function performEffect<R>(effect: Effect, performer: EffectPerformer<R>): R {
  switch (effect.type) {
    case 'attempt.start':
      return performer.startAttempt(effect);
    case 'attempt.abort':
      return performer.abortAttempt(effect);
    case 'timer.arm':
      return performer.armTimer(effect);
    case 'timer.cancel':
      return performer.cancelTimer(effect);
    case 'child.start':
      return performer.startChild(effect);
    case 'event.emit':
      return performer.emitEvent(effect);
    case 'attempt.wait':
      return performer.waitAttempt(effect);
  }
}
