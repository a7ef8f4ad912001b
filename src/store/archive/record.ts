/** An archived run's record, as both archives (file-archive.ts, jetstream/archive.ts) keep it: the run's summary, and when and into which period it moved. */
import type { ArchivedRun, RunSummary } from '../port.js';

export function archivedOf(run: RunSummary, period: string, archivedAt: string): ArchivedRun {
  return {
    runId: run.runId,
    workflowId: run.workflowId,
    version: run.version,
    status: run.status,
    startedAt: run.startedAt,
    completedAt: run.completedAt,
    lastSeq: run.lastSeq,
    period,
    archivedAt,
  };
}
