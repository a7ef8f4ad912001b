/**
 * The runs linked to a run, as the run page's header shows them: its sub-workflow children and failure workflow, the
 * runs that retry it, and the run it retries. Now (GET /api/runs/:id) or as they were at one of its events (GET
 * /api/runs/:id/at/:seq, time travel): then only the runs already started by that event's time, each with its status as
 * of that time (its own log folded up to it), so the whole page shows the run as it was.
 */
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import type { RunRecord } from '../query/index.js';
import type { Backend } from './backend.js';

export interface LinkedRun {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
  startedAt: string;
  completedAt: string | null;
  task?: string;
  relation?: string;
}

export interface RunLinks {
  children: LinkedRun[];
  retries: LinkedRun[];
}

const row = ({ runId, workflowId, version, status, startedAt, completedAt }: RunRecord): LinkedRun => ({
  runId,
  workflowId,
  version,
  status,
  startedAt,
  completedAt,
});

/** The linked runs now (`at` absent), or as of the time `at` (an ISO time: the chosen event's). */
export async function runLinks(backend: Backend, id: string, at?: string): Promise<RunLinks> {
  // From the run index (by parent and by retry), not from a scan of the store.
  const kids = await backend.runs.children(id);
  const asOf = async (k: RunRecord): Promise<LinkedRun | null> => {
    if (at === undefined) return row(k);
    if (k.startedAt > at) return null;
    if (k.completedAt !== null && k.completedAt <= at) return row(k);
    // Under way then: its own status at that time (it may have been waiting or paused, or settled since).
    const events = (await backend.store.read(k.runId)).filter((e: EventEnvelope) => e.time <= at);
    if (events.length === 0) return null;
    // The status its last event then recorded: what a fold of them gives with the key, and right without it too.
    const status = events.at(-1)!.state.status;
    return { ...row(k), status, completedAt: null };
  };
  const children: LinkedRun[] = [];
  const retries: LinkedRun[] = [];
  for (const k of kids) {
    const isChild = k.parent?.runId === id;
    const isRetry = k.trigger.kind === 'retry' && k.trigger.runId === id;
    if (!isChild && !isRetry) continue;
    const r = await asOf(k);
    if (!r) continue;
    if (isChild)
      children.push({
        ...r,
        ...(k.parent?.task ? { task: k.parent.task } : {}),
        ...(k.parent?.relation ? { relation: k.parent.relation } : {}),
      });
    if (isRetry) retries.push(r);
  }
  return { children, retries };
}
