/**
 * A virtual clock for the runtime (the `Clock` of src/runtime/clock.ts): time stands still until a timer fires, and
 * firing one moves time to its due moment at once — a 24 h approval deadline costs nothing. Timers fire in due order
 * (ties in the order they were armed, as the path model assumes), one at a time, and only when the process is quiet:
 * every scripted handler answers within the same turn of the event loop, so by the next macrotask everything that could
 * happen without time passing has happened.
 *
 * Manual mode (`fireNext`) lets a caller decide when time moves (the lockstep path runner); automatic mode fires by
 * itself whenever quiet and no `hold()` is pending (expectations). `onStall` is called, in automatic mode, when it is
 * quiet and no timer is armed: time cannot help any more.
 */
import type { Clock } from '../executor/index.js';

interface Armed {
  due: number;
  order: number;
  fire: () => void;
}

export const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

export class VirtualClock implements Clock {
  private t: number;
  private readonly timers = new Map<object, Armed>();
  private armed = 0;
  private holds = 0;
  private ticking = false;
  private quietTurns = 0;
  private stopped = false;

  constructor(
    startMs: number,
    private readonly opts: { auto?: boolean; onStall?: () => void } = {},
  ) {
    this.t = startMs;
    this.wake();
  }

  now(): number {
    return this.t;
  }

  setTimer(delayMs: number, fire: () => void): unknown {
    const handle = {};
    this.timers.set(handle, { due: this.t + Math.max(0, delayMs), order: this.armed++, fire });
    this.quietTurns = 0;
    this.wake();
    return handle;
  }

  clearTimer(handle: unknown): void {
    this.timers.delete(handle as object);
  }

  /** Keeps automatic time from moving while outside work (an approval being recorded) is under way. */
  hold<T>(work: Promise<T>): Promise<T> {
    this.holds++;
    this.quietTurns = 0;
    this.wake();
    return work.finally(() => {
      this.holds--;
    });
  }

  get pending(): number {
    return this.timers.size;
  }

  /** When the earliest armed timer is due (ms), or null when none is armed. */
  get nextDue(): number | null {
    let due: number | null = null;
    for (const t of this.timers.values()) if (due === null || t.due < due) due = t.due;
    return due;
  }

  /** Fires the earliest timer (moving time to it); false when none is armed. */
  fireNext(): boolean {
    let next: [object, Armed] | null = null;
    for (const entry of this.timers) {
      if (!next || entry[1].due < next[1].due || (entry[1].due === next[1].due && entry[1].order < next[1].order))
        next = entry;
    }
    if (!next) return false;
    this.timers.delete(next[0]);
    this.t = Math.max(this.t, next[1].due);
    this.quietTurns = 0;
    next[1].fire();
    return true;
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Automatic mode: one check per macrotask; after two quiet turns in a row the earliest timer fires. With none armed
   * the loop ends (telling `onStall`) until a timer or a hold wakes it again.
   */
  private wake(): void {
    if (!this.opts.auto || this.ticking || this.stopped) return;
    this.ticking = true;
    const loop = () => {
      if (this.stopped) {
        this.ticking = false;
        return;
      }
      if (this.holds > 0) this.quietTurns = 0;
      else if (++this.quietTurns >= 2) {
        this.quietTurns = 0;
        if (!this.fireNext()) {
          this.ticking = false;
          this.opts.onStall?.();
          return;
        }
      }
      setImmediate(loop);
    };
    setImmediate(loop);
  }
}
