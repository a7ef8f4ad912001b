/**
 * What the monitor's ETA is measured from: each workflow's median run duration over its last PAST_RUNS runs that
 * COMPLETED (a failed run's duration says nothing about how long a run takes), from the store's listing.
 */
import type { EventStore, RunSummary } from '../store/index.js';
import { median } from './overview.js';

/** How many of a workflow's last completed runs the median is taken over. */
const PAST_RUNS = 20;

/** The medians of these runs' durations by workflow (pure). */
export function mediansOf(
  runs: readonly Pick<RunSummary, 'workflowId' | 'status' | 'startedAt' | 'completedAt'>[],
): Map<string, number> {
  const byWorkflow = new Map<string, { at: string; ms: number }[]>();
  for (const r of runs) {
    if (r.status !== 'COMPLETED' || !r.completedAt) continue;
    const list = byWorkflow.get(r.workflowId) ?? [];
    list.push({ at: r.completedAt, ms: Date.parse(r.completedAt) - Date.parse(r.startedAt) });
    byWorkflow.set(r.workflowId, list);
  }
  const out = new Map<string, number>();
  for (const [id, list] of byWorkflow)
    out.set(
      id,
      median(
        list
          .sort((a, b) => (a.at < b.at ? 1 : -1))
          .slice(0, PAST_RUNS)
          .map((x) => x.ms),
      )!,
    );
  return out;
}

export async function pastMedians(store: EventStore): Promise<Map<string, number>> {
  return mediansOf(await store.listRuns({ status: 'COMPLETED' }));
}
