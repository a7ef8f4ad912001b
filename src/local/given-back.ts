/**
 * A clean stop's last commit (RunDriver.stop with releaseOnStop: Ctrl-C, SIGTERM, a `serve` whose grace ran out): the
 * inputs already in hand, then a task.released for each attempt that ran here. The next driver restarts those attempts
 * without counting a loss (runtime/restarts.ts): a person or a supervisor stopped the process, it did not die with
 * them. A crash writes none of this, so its attempts' restarts still count, and one that keeps killing its process
 * still fails.
 */
import { BlobNotLoadedError } from '../errors/index.js';
import type { PendingEvent } from '../events/index.js';
import type { RunLog } from '../executor/index.js';
import type { InProcessAttempts } from './in-process-attempts.js';

/** What a clean stop appends: `queue`'s inputs (taken from it) and the releases; null when nothing runs here. */
export function givenBack(queue: PendingEvent[], attempts: InProcessAttempts, time: string): PendingEvent[] | null {
  const released = attempts.givenBack(time);
  return released.length > 0 ? [...queue.splice(0), ...released] : null;
}

/**
 * Folds them into the log's open group, which the stopped driver's pump then appends. An input that needs a payload
 * this process has not loaded (NATS) is not waited for: the releases alone are folded, the inputs dropped as a stop
 * drops them.
 */
export function foldGivenBack(log: RunLog, events: readonly PendingEvent[]): void {
  const fold = (evs: readonly PendingEvent[]) => log.fold(evs.map((event) => ({ event, derived: false })));
  try {
    fold(events);
  } catch (err) {
    if (!(err instanceof BlobNotLoadedError)) throw err;
    fold(events.filter((e) => e.type === 'task.released'));
  }
}
