/** `--notifications <file>` (or LEDGERFLOW_NOTIFICATIONS) for the commands that drive runs on the embedded store. */
import { inert } from '../terminal/index.js';
import { loadNotificationsConfig, Notifier } from '../notify/index.js';
import type { DriverHooks } from '../local/index.js';
import type { EventStore } from '../store/index.js';
import type { EventEnvelope } from '../events/index.js';

/** The notifier of this process: the global file's rules (if any) plus each run's own; its messages go to `say`, its notes to `onNoted` (metrics). */
export function cliNotifier(store: EventStore, flag: string | undefined, say: (line: string) => void, onNoted?: (events: EventEnvelope[]) => void): Notifier {
  return new Notifier({ store, config: loadNotificationsConfig(flag), log: (line) => say(`notify: ${inert(line)}`), ...(onNoted ? { onNoted } : {}) });
}

/** The hooks with the notifier's onCommit after the hooks' own. */
export function withNotifier<H extends DriverHooks>(hooks: H, notifier: Notifier): H {
  const own = hooks.onCommit;
  return {
    ...hooks,
    onCommit: (events, before, after, definition) => {
      own?.(events, before, after, definition);
      notifier.onCommit(events, before, after, definition);
    },
  };
}

/** Before the process exits: the deliveries under way finish (each bounded by its tries), so nothing is left for a later driver. */
export async function finishNotifications(notifier: Notifier, say: (line: string) => void): Promise<void> {
  if (notifier.pending > 0) say(`notify: waiting for ${notifier.pending} notification deliver${notifier.pending === 1 ? 'y' : 'ies'} to end`);
  await notifier.idle();
}

/**
 * The run's lease is kept until its notification deliveries here have ended:
 * a `serve` or `ui` on the store leaves a leased run to its driver, where it
 * would otherwise deliver, once the run settled, what the history does not note yet.
 */
export function keepLeaseFor(notifier: Notifier): { beforeLeaseRelease: (runId: string) => Promise<void> } {
  return { beforeLeaseRelease: (runId) => notifier.idleFor(runId) };
}
