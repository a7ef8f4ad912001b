/**
 * How a RunDriver acts on what the core's reconcile asks for: the EffectPerformer it hands each effect to, and the
 * gate waits it puts the attempts of gated tasks in (limits/gate-waits.ts). Apart from driver.ts, which is the loop
 * and its lifecycle, so that file reads as the loop alone.
 */
import type { CompiledWorkflow, TimerState } from '../compiler/index.js';
import type { PendingEvent } from '../events/index.js';
import { agentSkillSets, type EffectPerformer, type RunLog } from '../executor/index.js';
import { GateWaits, hasSkills } from '../limits/index.js';
import {
  type AbortAttempt,
  type ArmTimer,
  type CancelTimer,
  type EmitEvent,
  type RunSnapshot,
  type StartAttempt,
  type StartChild,
  type WaitAttempt,
  attemptQueue,
} from '../runtime/index.js';
import type { ArmedTimers } from './armed-timers.js';
import type { DriverOptions } from './driver-options.js';
import type { InProcessAttempts } from './in-process-attempts.js';

/** What the gate waits ask of the driver they belong to. */
export interface DriverWaitHooks {
  current(): RunSnapshot;
  submit(ev: PendingEvent): void;
  changed(): void;
  /** Resolves once the outcomes the driver committed are counted on their breakers. */
  counted(): Promise<void>;
}

/** The gate waits of one driver: its workflow is asked of `driver` each time (a run.migrated followed changes it). */
export function driverGateWaits(
  opts: DriverOptions,
  driver: { readonly compiled: CompiledWorkflow },
  hooks: DriverWaitHooks,
): GateWaits {
  return new GateWaits({
    store: opts.store,
    get compiled() {
      return driver.compiled;
    },
    clock: opts.clock,
    current: hooks.current,
    submit: hooks.submit,
    changed: hooks.changed,
    warn: (message) => opts.onLog?.('', message),
    counted: hooks.counted,
    skilled: (w) => {
      const queue = attemptQueue(driver.compiled, w.taskId);
      // This process, else a file agent declared on the task's queue with every skill (executor/agent-queues.ts).
      return async (skills) =>
        hasSkills(opts.skills ?? [], skills) ||
        (queue !== undefined && (await agentSkillSets(opts.store, queue)).some((have) => hasSkills(have, skills)));
    },
  });
}

/** How a driver performs each effect: methods of one object, not seven closures made per run. */
export class DriverEffects implements EffectPerformer {
  constructor(
    private readonly attempts: InProcessAttempts,
    private readonly timers: ArmedTimers,
    private readonly waits: GateWaits,
    private readonly log: RunLog,
    private readonly fire: (timer: TimerState) => void,
  ) {}

  cancelTimer(effect: CancelTimer): void {
    this.timers.cancel(effect.timerId);
  }
  armTimer(effect: ArmTimer): void {
    this.timers.arm(effect.timer, this.fire);
  }
  abortAttempt(effect: AbortAttempt): void {
    this.attempts.abort(effect, this.log.current);
  }
  startAttempt(effect: StartAttempt): void {
    this.attempts.invoke(effect);
  }
  startChild(effect: StartChild): void {
    if (effect.parent.task === undefined) this.attempts.startFailureChild(effect);
    else this.attempts.startChild(effect);
  }
  emitEvent(effect: EmitEvent): void {
    this.attempts.emit(effect);
  }
  waitAttempt(effect: WaitAttempt): void {
    this.waits.wait(effect);
  }
}
