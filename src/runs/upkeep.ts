/**
 * The run API's upkeep verbs, written once for both stores: settled runs moved to the archive and one brought back
 * (docs/retention.md), and the large payloads no run refers to collected (`blob gc`). Each is run control (L1 where a
 * users file says who is who, as pause and cancel), judged before the store is touched: a refusal moves, restores and
 * deletes nothing. The rounds `serve` and the engines run by retention are the process's own, not a person's: they
 * call archiveRuns directly.
 */
import { requireAllowed } from '../authority/index.js';
import { collectPayloads } from '../executor/index.js';
import type { EventStore } from '../store/index.js';
import { archiveOf, archiveRuns } from './archival.js';
import type { Runs } from './port.js';

export type RunUpkeep = Pick<Runs, 'archive' | 'restore' | 'collectBlobs'>;

export function runUpkeep(store: EventStore): RunUpkeep {
  return {
    async archive(sel, as) {
      requireAllowed(as.actor, 'control');
      return archiveRuns(store, sel);
    },
    async restore(runId, as) {
      requireAllowed(as.actor, 'control');
      return archiveOf(store).restore(runId);
    },
    async collectBlobs(opts, as) {
      requireAllowed(as.actor, 'control');
      return collectPayloads(store, opts);
    },
  };
}
