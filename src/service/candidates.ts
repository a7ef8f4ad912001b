/**
 * Which runs a scan of the service looks at: on the file store every run not yet seen settled (a settled run stays
 * settled, so it is read once, not on every scan: a scan of a store of 100,000 settled runs is one readdir), and which
 * of them a parent's driver drives instead. Apart from service.ts because it is reading the store, not driving runs.
 */
import { SETTLED_STATUSES } from '../events/index.js';
import type { Engine } from '../local/index.js';
import { FileEventStore, type CorruptRun, type RunSummary } from '../store/index.js';
import { filterAndSort, reportCorrupt } from '../store/common.js';

/** Run summaries read at once by a scan. */
const SCAN_CONCURRENCY = 32;

/** A run read settled by a scan, as much of it as the scan needs (the rest is read again if it is looked at). */
export interface SettledRun {
  runId: string;
  status: RunSummary['status'];
  completedAt: string | null;
}

/**
 * The runs worth looking at: the unsettled ones, oldest first, and the runs read settled for the first time (added to
 * `settled`). On the file store only the runs neither in `settled` nor `drivenHere` are read; on another store, every
 * run, and `settled` is not consulted. A settled run costs the service its id, not its summary (100,000 settled runs:
 * 100,000 ids), and so does a run it drives (100,000 runs waiting for a person, held: not 100,000 reads a second).
 */
export async function candidateRuns(
  engine: Engine,
  settled: Set<string>,
  drivenHere: { has(runId: string): boolean },
  onCorrupt: (c: CorruptRun) => void,
  queued: ReadonlySet<string> = new Set(),
): Promise<{ active: RunSummary[]; newlySettled: SettledRun[]; queuedListed: Set<string> | null }> {
  const store = engine.store;
  const active: RunSummary[] = [];
  const newlySettled: SettledRun[] = [];
  const sort = (s: RunSummary) => {
    if (!SETTLED_STATUSES.includes(s.status)) {
      active.push(s);
      return;
    }
    if (settled.has(s.runId)) return;
    settled.add(s.runId);
    newlySettled.push({ runId: s.runId, status: s.status, completedAt: s.completedAt });
  };
  if (!(store instanceof FileEventStore)) {
    for (const s of await engine.list({ onCorrupt })) if (!drivenHere.has(s.runId)) sort(s);
    return { active: filterAndSort(active), newlySettled, queuedListed: null };
  }
  // The runs still queued to be taken up (`queued`) are not read again: only whether they are still there is noted.
  const queuedListed = new Set<string>();
  const ids = (await store.runIds()).filter((id) => {
    if (queued.has(id)) {
      queuedListed.add(id);
      return false;
    }
    return !settled.has(id) && !drivenHere.has(id);
  });
  for (let i = 0; i < ids.length; i += SCAN_CONCURRENCY) {
    const batch = await Promise.all(
      ids.slice(i, i + SCAN_CONCURRENCY).map(async (id) => {
        try {
          return await store.summary(id);
        } catch (err) {
          if (reportCorrupt(err, { onCorrupt })) return null;
          throw err;
        }
      }),
    );
    for (const s of batch) if (s) sort(s);
  }
  return { active: filterAndSort(active), newlySettled, queuedListed };
}

/**
 * The run a change in the runs folder named, read alone (not a scan of the store): null when it is gone or corrupt
 * (a scan reports that), undefined when the store is not the file store (a scan is the way there).
 */
export async function namedRun(engine: Engine, runId: string): Promise<RunSummary | null | undefined> {
  const store = engine.store;
  if (!(store instanceof FileEventStore)) return undefined;
  try {
    return await store.summary(runId);
  } catch (err) {
    if (reportCorrupt(err, { onCorrupt: () => undefined })) return null;
    throw err;
  }
}

/**
 * A sub-workflow's child whose parent is unsettled (`unsettled(parentId)`: among the scan's active runs, or driven here
 * unsettled): the parent's driver drives it.
 */
export function parentDrives(run: Pick<RunSummary, 'parent'>, unsettled: (runId: string) => boolean): boolean {
  const parent = run.parent;
  if (!parent || parent.task === undefined) return false;
  return unsettled(parent.runId);
}
