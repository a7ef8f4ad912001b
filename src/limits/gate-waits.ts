/**
 * Gate waits of both executors: askWait is one round of a waiting attempt (its place given up when the run no longer
 * has the wait, else its gate asked and the answer committed through the executor: the start, at the time of the
 * grant, or why it is held, once per wait). How a wait wakes up to ask again is the executor's: GateWaits below on
 * the in-process clock (a timer, a slot freed in this process), a durable message on NATS (cluster/engine/gate-waits.ts).
 */
import { instanceFields, iso, type CompiledWorkflow } from '../compiler/index.js';
import type { PendingEvent } from '../events/index.js';
import type { Clock } from '../executor/commit.js';
import {
  delayedByBreaker,
  delayedBySkills,
  grantedStart,
  stillWaiting,
  type RunSnapshot,
  type WaitAttempt,
} from '../runtime/index.js';
import type { EventStore } from '../store/index.js';
import { errorMessage } from '../errors/index.js';
import { trimOldest } from '../bounded.js';
import { askAttemptGate, withdrawAttemptWait } from './breaker-gate.js';
import type { SkillCheck } from './skill-gate.js';
import { gateParts, onGateKick } from './task-gate.js';

/** `since`: when it began to wait (its place in every line); `said`: why it is held is in the run's history already. */
interface WaitRound {
  store: EventStore;
  compiled: CompiledWorkflow;
  state: RunSnapshot;
  now: () => number;
  effect: WaitAttempt;
  since: number;
  said: boolean;
  skilled: SkillCheck | undefined;
  commit(ev: PendingEvent, kind: 'gate' | 'delayed'): unknown;
}

/** Done (granted, or its place given up), or asked again in `retryInMs`; `skills`: nobody has them. */
type WaitNext = { done: true } | { done: false; retryInMs: number; said: boolean; skills?: readonly string[] };

export async function askWait(r: WaitRound): Promise<WaitNext> {
  const w = r.effect;
  if (!stillWaiting(r.compiled, r.state, w.instance, w.attempt)) {
    await withdrawAttemptWait(r.store, w);
    return { done: true };
  }
  const answer = await askAttemptGate(r.store, w, r.now, r.since, r.skilled);
  const held = { ref: { task: w.taskId, ...instanceFields(w) }, attempt: w.attempt };
  if (answer.granted) {
    await r.commit(grantedStart(held, iso(answer.at)), 'gate');
    return { done: true };
  }
  // Held by nobody with the skills or an open breaker: the run's history says why, once (an audit record; the attempt stays SCHEDULED).
  const skills = 'skills' in answer ? answer.skills : undefined;
  const breaker = 'breaker' in answer ? answer.breaker : undefined;
  const notice = r.said
    ? null
    : skills
      ? delayedBySkills(held, skills, iso(r.now()))
      : breaker
        ? delayedByBreaker(
            held,
            breaker.name,
            breaker.until !== undefined ? iso(breaker.until) : undefined,
            iso(r.now()),
          )
        : null;
  if (notice) await r.commit(notice, 'delayed');
  return { done: false, retryInMs: answer.retryInMs, said: r.said || notice !== null, ...(skills ? { skills } : {}) };
}

interface Waiting {
  effect: WaitAttempt;
  since: number;
  timer: unknown;
  unkick: () => void;
  asking: boolean;
  again: boolean;
  granted: boolean;
  /** Its task.delayed is recorded (an open breaker held it), once per wait. */
  delayed: boolean;
  /** Nobody has the skills its task requires (asked again all the same, for whoever comes). */
  unserved: boolean;
}

interface GateWaitsHost {
  store: EventStore;
  compiled: CompiledWorkflow;
  clock: Clock;
  /** The state the driver acts on now. */
  current(): RunSnapshot;
  submit(ev: PendingEvent): void;
  /** A wait began or ended: the driver's idleness and hold on the process change. */
  changed(): void;
  /** A gate's store failed (the wait is asked again later). */
  warn(message: string): void;
  /**
   * Resolves once the outcomes this driver has committed are counted on their breakers: a gate is asked after, so
   * the failure that opens a breaker holds the very retry it scheduled (asked before, a 10 ms retry slipped through).
   */
  counted?(): Promise<void>;
  /** Who has the skills a waiting attempt's task requires (`requires:`), for its queue: without it, nobody is asked. */
  skilled?(w: WaitAttempt): SkillCheck | undefined;
}

/** Whether a log is to say again that nobody has the skill set `key`: once a minute per key (both executors' logs). */
export function sayAgain(said: Map<string, number>, key: string, at: number): boolean {
  const last = said.get(key);
  if (last !== undefined && at - last < 60_000) return false;
  said.set(key, at);
  trimOldest(said, 1000);
  return true;
}

export class GateWaits {
  private readonly waits = new Map<string, Waiting>();
  private stopped = false;
  /** When each skill set nobody has was last said in the log. */
  private readonly saidSkills = new Map<string, number>();

  constructor(private readonly host: GateWaitsHost) {}

  get size(): number {
    return this.waits.size;
  }

  /**
   * The waits that hold a driver told to wait at most `maxWaitMs` for what is not up to it (`run --max-wait`): those
   * that have waited less than that (a breaker open longer, a slot that does not free: the command returns and the
   * run waits on, for a serve or resume), but for those nobody can serve (no worker or agent with the skills: like
   * an approval, they wait on the outside world, so a `run` returns WAITING rather than block). `until`: when the first of them has waited
   * that long (null: none will), to look again then.
   */
  blockingWithin(maxWaitMs: number, now: number): { count: number; until: number | null } {
    let count = 0;
    let until: number | null = null;
    for (const w of this.waits.values()) {
      if (w.unserved || now - w.since >= maxWaitMs) continue;
      count++;
      const end = w.since + maxWaitMs;
      if (Number.isFinite(end) && (until === null || end < until)) until = end;
    }
    return { count, until };
  }

  /** Waits this driver holds (instance key → attempt), for reconcile: read at every step, so none is one empty map. */
  held(): ReadonlyMap<string, number> {
    if (this.waits.size === 0) return this.none;
    return new Map([...this.waits].map(([k, w]) => [k, w.effect.attempt]));
  }

  private readonly none: ReadonlyMap<string, number> = new Map();

  wait(effect: WaitAttempt): void {
    if (this.stopped) return;
    const known = this.waits.get(effect.instance);
    if (known?.effect.attempt === effect.attempt) return;
    if (known) this.end(known, true);
    const w: Waiting = {
      effect,
      since: this.host.clock.now(),
      timer: null,
      unkick: () => {},
      asking: false,
      again: false,
      granted: false,
      delayed: false,
      unserved: false,
    };
    // A slot freed in this process of any of its limits wakes it.
    const unkicks = gateParts(effect.gate).map((part) => onGateKick(part, () => this.ask(w)));
    w.unkick = () => {
      for (const u of unkicks) u();
    };
    this.waits.set(effect.instance, w);
    this.host.changed();
    this.ask(w);
  }

  /** Drops waits the state no longer has: started (granted) or gone (their place given up). Called at each reconcile. */
  sync(state: RunSnapshot): void {
    if (this.waits.size === 0) return;
    for (const w of [...this.waits.values()]) {
      if (!stillWaiting(this.host.compiled, state, w.effect.instance, w.effect.attempt)) this.end(w, !w.granted);
    }
  }

  /** Stops asking (the driver stops or drains); places are given up, so no gate waits for a driver that is gone. */
  stopAll(): void {
    this.stopped = true;
    for (const w of [...this.waits.values()]) this.end(w, !w.granted);
  }

  private end(w: Waiting, withdraw: boolean): void {
    if (this.waits.get(w.effect.instance) === w) this.waits.delete(w.effect.instance);
    if (w.timer !== null) this.host.clock.clearTimer(w.timer);
    w.timer = null;
    w.unkick();
    if (withdraw)
      withdrawAttemptWait(this.host.store, w.effect).catch((err: unknown) =>
        this.host.warn(`could not give up the gate place of ${w.effect.instance}: ${errorMessage(err)}`),
      );
    this.host.changed();
  }

  /** Nobody has the skills: the wait stops holding the driver, and the log says so once a minute per skill set. */
  private noSkills(w: Waiting, skills: readonly string[], at: number): void {
    if (!w.unserved) {
      w.unserved = true;
      this.host.changed();
    }
    if (sayAgain(this.saidSkills, skills.join('+'), at))
      this.host.warn(
        `${w.effect.instance} waits: no worker with skills ${skills.join(', ')} (start one with --skills ${skills.join(',')}: ledgerflow agent, worker, or this process)`,
      );
  }

  private ask(w: Waiting): void {
    if (this.waits.get(w.effect.instance) !== w || w.granted) return;
    if (w.asking) {
      w.again = true;
      return;
    }
    if (w.timer !== null) {
      this.host.clock.clearTimer(w.timer);
      w.timer = null;
    }
    w.asking = true;
    const now = () => this.host.clock.now();
    const mine = () => this.waits.get(w.effect.instance) === w;
    const { store, compiled } = this.host;
    (this.host.counted?.() ?? Promise.resolve())
      .then(() =>
        askWait({
          store,
          compiled,
          state: this.host.current(),
          now,
          effect: w.effect,
          since: w.since,
          said: w.delayed,
          skilled: this.host.skilled?.(w.effect),
          commit: (ev, kind) => {
            if (!mine()) return;
            if (kind === 'gate') w.granted = true;
            this.host.submit(ev);
          },
        }),
      )
      .then(
        (next) => {
          w.asking = false;
          if (!mine() || w.granted) return;
          if (next.done) {
            this.end(w, false);
            return;
          }
          w.delayed = next.said;
          if (next.skills) this.noSkills(w, next.skills, now());
          const delay = w.again ? 0 : next.retryInMs;
          w.again = false;
          w.timer = this.host.clock.setTimer(delay, () => {
            w.timer = null;
            this.ask(w);
          });
        },
        (err: unknown) => {
          w.asking = false;
          this.host.warn(`gate ${gateParts(w.effect.gate).join(', ')}: ${errorMessage(err)} (asked again in 1 s)`);
          if (this.waits.get(w.effect.instance) === w)
            w.timer = this.host.clock.setTimer(1000, () => {
              w.timer = null;
              this.ask(w);
            });
        },
      );
  }
}
