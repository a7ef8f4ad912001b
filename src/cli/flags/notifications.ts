/** `--notifications <file>` (or LEDGERFLOW_NOTIFICATIONS) for the commands that drive runs on the embedded store. */
import { inert } from '../../terminal/index.js';
import { loadNotificationsConfig, Notifier } from '../../notify/index.js';
import type { EventStore } from '../../store/index.js';
import type { EventEnvelope } from '../../events/index.js';

/** The notifier of this process: the global file's rules (if any) plus each run's own; its messages go to `say`, its notes to `onNoted` (metrics). */
export function cliNotifier(
  store: EventStore,
  flag: string | undefined,
  say: (line: string) => void,
  onNoted?: (events: EventEnvelope[]) => void,
): Notifier {
  return new Notifier({
    store,
    config: loadNotificationsConfig(flag),
    log: (line) => say(`notify: ${inert(line)}`),
    ...(onNoted ? { onNoted } : {}),
  });
}
