/**
 * What the built-in failure steps write about a failed run, from its log alone (pure): the incident record
 * `log_to_incident` keeps, the message `notify_commander` sends, what `preserve_state` copies. The same log gives the
 * same bytes, so a step run again (a retry, a resume) writes the same.
 */
import { stringify } from 'yaml';
import { taskEntries } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import { runView } from '../runtime/index.js';
import { stateEntry, type FoldedRun } from '../state-file/index.js';

/** An incident record (`.3ox/incidents/<run>.yaml`, lf.incidents.<workflow> on NATS). */
export interface IncidentRecord {
  incident: string;
  run_id: string;
  workflow: string;
  version: number;
  status: string;
  failed_task: string | null;
  error: { code?: string; message: string } | null;
  started_at: string;
  failed_at: string | null;
  failure_run: string;
  /** The tasks that failed, each with its attempts and last error. */
  failed_tasks: { id: string; attempts: number; error: string | null }[];
  input: unknown;
}

export function incidentRecord(run: FoldedRun, failureRunId: string): IncidentRecord {
  const view = runView(run.snapshot, run.seq, run.compiled.definition);
  const failed = taskEntries(run.snapshot.context.tasks)
    .filter(([, t]) => t.status === 'FAILED' || t.status === 'TIMED_OUT')
    .map(([id, t]) => ({ id, attempts: t.attempts, error: t.error?.message ?? null }));
  return {
    incident: `INC-${view.runId}`,
    run_id: view.runId,
    workflow: view.workflowId,
    version: view.version,
    status: view.status,
    failed_task: view.error?.task ?? null,
    error: view.error ? { ...(view.error.code ? { code: view.error.code } : {}), message: view.error.message } : null,
    started_at: view.startedAt,
    failed_at: view.completedAt,
    failure_run: failureRunId,
    failed_tasks: failed,
    input: view.input,
  };
}

export const INCIDENT_HEADER =
  '# An incident ledgerflow recorded when the run failed (failure_workflow step log_to_incident). Its run: `ledgerflow history <run_id>`.\n';

export function incidentText(record: IncidentRecord): string {
  return INCIDENT_HEADER + stringify(record, { lineWidth: 0 });
}

/** What preserve_state keeps of a failed run: its state-file entry, each task's output, its last events. */
export interface PreservedRun {
  /** File name → text, written under `.3ox/preserved/<run>/`. */
  files: Map<string, string>;
}

/** How many of a run's last events preserve_state keeps (the whole history stays in the log). */
export const PRESERVED_EVENTS = 200;

export function preservedRun(run: FoldedRun, events: readonly EventEnvelope[]): PreservedRun {
  const files = new Map<string, string>();
  const entry = stateEntry(run);
  files.set(
    'state.yaml',
    `# The run's state-file entry when it failed (preserve_state).\n${stringify({ [run.snapshot.context.runId]: entry }, { lineWidth: 0 })}`,
  );
  for (const [id, t] of taskEntries(run.snapshot.context.tasks)) {
    if (t.output === null || t.output === undefined) continue;
    files.set(`outputs/${safeName(id)}.json`, `${JSON.stringify(t.output, null, 2)}\n`);
  }
  files.set(
    'events.jsonl',
    events
      .slice(-PRESERVED_EVENTS)
      .map((e) => JSON.stringify(e))
      .join('\n') + '\n',
  );
  return { files };
}

/** A task id as a file name: ids are letters, digits, _ and - already; anything else is replaced, never a path. */
function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_#.-]/g, '_').replace(/^\.+/, '_');
}
