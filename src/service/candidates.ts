/**
 * Which runs a scan of the service looks at: on the file store every run not
 * yet seen settled (a settled run stays settled, so it is read once, not on
 * every scan: a scan of a store of 100,000 settled runs is one readdir), and
 * which of them a parent's driver drives instead. Apart from service.ts
 * because it is reading the store, not driving runs.
 */
import { SETTLED_STATUSES } from '../events/index.js';
import type { Engine } from '../local/index.js';
import { FileEventStore, type CorruptRun, type RunSummary } from '../store/index.js';
import { filterAndSort, reportCorrupt } from '../store/common.js';

/** Run summaries read at once by a scan. */
const SCAN_CONCURRENCY = 32;

/**
 * The runs worth looking at, oldest first: on the file store every run not in
 * `settled` (those read now settled are added to it); on another store, every
 * run.
 */
export async function candidateRuns(engine: Engine, settled: Map<string, RunSummary>, onCorrupt: (c: CorruptRun) => void): Promise<RunSummary[]> {
  const store = engine.store;
  if (!(store instanceof FileEventStore)) return engine.list({ onCorrupt });
  const ids = (await store.runIds()).filter((id) => !settled.has(id));
  const out: RunSummary[] = [];
  for (let i = 0; i < ids.length; i += SCAN_CONCURRENCY) {
    const batch = await Promise.all(ids.slice(i, i + SCAN_CONCURRENCY).map(async (id) => {
      try {
        return await store.summary(id);
      } catch (err) {
        if (reportCorrupt(err, { onCorrupt })) return null;
        throw err;
      }
    }));
    for (const s of batch) {
      if (!s) continue;
      out.push(s);
      if (SETTLED_STATUSES.includes(s.status)) settled.set(s.runId, s);
    }
  }
  return filterAndSort(out);
}

/** A sub-workflow's child whose parent is unsettled: the parent's driver drives it. */
export function parentDrives(run: RunSummary, byId: Map<string, RunSummary>): boolean {
  const parent = run.parent;
  if (!parent || parent.task === undefined) return false;
  const p = byId.get(parent.runId);
  return p !== undefined && !SETTLED_STATUSES.includes(p.status);
}
