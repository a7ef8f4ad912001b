/**
 * Runs a `serve` holds without a driver: waiting on the outside world (a person, a signal, a timer further off than
 * the service waits in process) with nothing running or queued here. Each keeps
 *
 * - its lease, so every other process still sees the run driven by this serve (`approve` says so and leaves it here);
 * - a follow of its log: an approval, a signal, a pause, resume or cancel appended by any process wakes it;
 * - when a timer is armed, a wake-up WAKE_LEAD_MS before the first is due (the driver then waits for it in process).
 *
 * A woken run is driven again under the same lease. A driver per waiting run held ~40 KB of serve's memory each
 * (bench scale: 100,000 runs waiting for approval would be 4 GB); a parked run holds its id, its lease, a follow and
 * at most one timer.
 */
import type { Clock } from '../executor/index.js';
import type { RunView } from '../runtime/index.js';
import type { EventStore, RunLease, Subscription } from '../store/index.js';

/** How long before its first timer is due a parked run is woken (the drive waits for it in process from there). */
export const WAKE_LEAD_MS = 1_000;

interface Parked {
  lease: RunLease;
  /** Its status when parked (WAITING, PAUSED, RUNNING while a far backoff runs out): told when the service stops. */
  status: RunView['status'];
  sub: Subscription;
  timer: unknown;
}

export class ParkedRuns {
  private readonly runs = new Map<string, Parked>();

  /** `wake`: drive the run again, under its lease (now the caller's). */
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly wake: (runId: string, lease: RunLease) => void,
  ) {}

  get size(): number {
    return this.runs.size;
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  ids(): IterableIterator<string> {
    return this.runs.keys();
  }

  /** Holds `view`'s run parked under `lease` until its log changes after `view.seq` or its first timer is near. */
  park(lease: RunLease, view: RunView): void {
    const { runId } = view;
    let due = Number.POSITIVE_INFINITY;
    for (const t of view.timers) due = Math.min(due, Date.parse(t.dueAt));
    const woken = () => {
      const p = this.take(runId);
      if (p) this.wake(runId, p.lease);
    };
    // Follow first: an append between the drive's end and here is delivered (it comes after view.seq).
    const sub = this.store.follow(runId, view.seq, woken);
    const timer = Number.isFinite(due)
      ? this.clock.setTimer(Math.max(0, due - this.clock.now() - WAKE_LEAD_MS), woken)
      : undefined;
    this.runs.set(runId, { lease, status: view.status, sub, timer });
  }

  /** Takes a run out of the parked ones (its follow and timer ended): its lease is the caller's now. */
  take(runId: string): { lease: RunLease; status: RunView['status'] } | undefined {
    const p = this.runs.get(runId);
    if (!p) return undefined;
    this.runs.delete(runId);
    p.sub.close();
    if (p.timer !== undefined) this.clock.clearTimer(p.timer);
    return { lease: p.lease, status: p.status };
  }

  /** Lets every parked run go (the service stops): follows and timers ended, leases released; each run and its status. */
  async releaseAll(): Promise<Array<{ runId: string; status: RunView['status'] }>> {
    const left: Array<{ runId: string; status: RunView['status'] }> = [];
    for (const runId of [...this.runs.keys()]) {
      const p = this.take(runId)!;
      await p.lease.release();
      left.push({ runId, status: p.status });
    }
    return left;
  }
}
