/**
 * A Notifier beside a process that drives runs (the CLI's run, resume, emit, serve and ui; a library user's Engine):
 * its onCommit after the driver's own, the run's lease kept until its deliveries end, and the deliveries under way
 * finished before the process exits.
 */
import type { Definition } from '../definition/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { RunSnapshot } from '../runtime/index.js';
import type { Notifier } from './notifier.js';

/** A driver's commit hook, as the Engine's DriverHooks.onCommit is. */
type CommitHook = (events: EventEnvelope[], before: RunSnapshot, after: RunSnapshot, definition: Definition) => void;

/** The hooks with the notifier's onCommit after the hooks' own, and the notifier itself (for notify_commander). */
export function withNotifier<H extends { onCommit?: CommitHook }>(
  hooks: H,
  notifier: Notifier,
): H & { onCommit: CommitHook; notifier: Notifier } {
  const own = hooks.onCommit;
  return {
    ...hooks,
    // The failure handler's notify_commander sends through it (diskEngine).
    notifier,
    onCommit: (events, before, after, definition) => {
      own?.(events, before, after, definition);
      notifier.onCommit(events, before, after, definition);
    },
  };
}

/** Before the process exits: the deliveries under way finish (each bounded by its tries), so nothing is left for a later driver. */
export async function finishNotifications(notifier: Notifier, say: (line: string) => void): Promise<void> {
  if (notifier.pending > 0)
    say(`notify: waiting for ${notifier.pending} notification deliver${notifier.pending === 1 ? 'y' : 'ies'} to end`);
  await notifier.idle();
}

/**
 * The run's lease is kept until its notification deliveries here have ended (DriveOptions.beforeLeaseRelease): a
 * `serve` or `ui` on the store leaves a leased run to its driver, where it would otherwise deliver, once the run
 * settled, what the history does not note yet.
 */
export function keepLeaseFor(notifier: Notifier): { beforeLeaseRelease: (runId: string) => Promise<void> } {
  return { beforeLeaseRelease: (runId) => notifier.idleFor(runId) };
}
