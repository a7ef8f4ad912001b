/**
 * The runs a process picks up without committing anything: on NATS, an engine that starts finds runs already waiting
 * (an approval, a far timer) that no message will bring it until they move on. The run index knows every run's status;
 * each active run is loaded once and its holdings shown (LedgerflowMetrics.observeRun), so the approvals-waiting and
 * timers-pending gauges are not blank after a restart until each run's next commit.
 */
import type { WorkflowStatus } from '../events/index.js';
import { loadRun } from '../executor/index.js';
import { openRunIndex, type RunIndex } from '../query/index.js';
import type { RunSnapshot } from '../runtime/index.js';
import type { EventStore, SnapshotStore } from '../store/index.js';
import { errorMessage } from '../errors/index.js';

/** The statuses of runs that may hold an approval or a timer. */
const ACTIVE_STATUSES: readonly WorkflowStatus[] = ['WAITING', 'PAUSED', 'RUNNING'];

/** Index pages of this many runs; runs loaded at once. */
const PAGE = 500;
const LOADS_AT_ONCE = 8;

/**
 * Loads every active run the index lists and tells `observe` its state; resolves with how many were shown. A run that
 * cannot be loaded is said and left out (the gauges are derived, never worth failing a process for).
 */
export async function reportActiveRuns(
  index: Pick<RunIndex, 'query'>,
  load: (runId: string) => Promise<RunSnapshot | null>,
  observe: (snapshot: RunSnapshot) => void,
  opts: { log?: (line: string) => void; stopped?: () => boolean } = {},
): Promise<number> {
  const stopped = opts.stopped ?? (() => false);
  let shown = 0;
  for (const status of ACTIVE_STATUSES) {
    let cursor: string | null = null;
    do {
      if (stopped()) return shown;
      const page = await index.query({ status, limit: PAGE, ...(cursor ? { cursor } : {}) });
      for (let i = 0; i < page.runs.length && !stopped(); i += LOADS_AT_ONCE) {
        await Promise.all(
          page.runs.slice(i, i + LOADS_AT_ONCE).map(async ({ runId }) => {
            try {
              const snapshot = await load(runId);
              if (snapshot) {
                observe(snapshot);
                shown++;
              }
            } catch (err) {
              opts.log?.(`metrics: run ${runId} not shown in the gauges until its next commit: ${errorMessage(err)}`);
            }
          }),
        );
      }
      cursor = page.nextCursor;
    } while (cursor);
  }
  return shown;
}

/**
 * The gauges of the runs active in `source`'s store when a process (a NATS engine) starts, read through the run index
 * and loaded with its snapshots. A failure is said, not thrown, unless the process is stopping anyway.
 */
export async function showActiveRuns(
  source: { store: EventStore; snapshots: SnapshotStore | null },
  metrics: { observeRun(snapshot: RunSnapshot): void },
  log: (line: string) => void,
  stopped: () => boolean,
): Promise<void> {
  const index = openRunIndex({ store: source.store });
  try {
    await reportActiveRuns(
      index,
      async (runId) => (await loadRun(source.store, runId, source.snapshots))?.snapshot ?? null,
      (s) => metrics.observeRun(s),
      { log, stopped },
    );
  } catch (err) {
    if (!stopped())
      log(`metrics: the runs already active are shown in the gauges from their next commit only: ${errorMessage(err)}`);
  } finally {
    await index.close();
  }
}
