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

/** The record an archive's entry holds, without where the entry says the bytes are. */
export function recordOf(e: ArchivedRun): ArchivedRun {
  const { runId, workflowId, version, status, startedAt, completedAt, lastSeq, period, archivedAt, attachments } = e;
  const record = { runId, workflowId, version, status, startedAt, completedAt, lastSeq, period, archivedAt };
  return attachments ? { ...record, attachments } : record;
}
