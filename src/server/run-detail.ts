/**
 * GET /api/runs/:id: a run as the run page shows it: its view (DAMAGED when its log lost events; on NATS, tasks waiting
 * for a handler no worker announces say so), its record, definition and graph, the runs linked to it and what each
 * task's latest attempt ran with. The log is read once here for all but the view (which the engine's loader reads).
 */
import { workflowGraph } from '../definition/index.js';
import type { EventEnvelope } from '../events/index.js';
import { latestWorkflow } from '../runtime/index.js';
import type { Engine } from '../local/index.js';
import { track } from '../query/index.js';
import { foldLoaded } from '../executor/index.js';
import { progressOf, withProgress } from '../progress/index.js';
import { attemptInputs } from './attempt-inputs.js';
import type { Backend } from './backend.js';
import { shownRun } from './damaged-view.js';
import { ApiError } from './errors.js';
import { runLinks } from './run-links.js';

export async function runDetail(backend: Backend, reader: Engine, id: string): Promise<Record<string, unknown>> {
  // The log read and folded once: the view, the record and the inputs all come from that read (a run of 40,000 events
  // took two seconds a request when each read the log again and the record folded it again).
  const loaded = await reader.load(id);
  const { events } = loaded;
  startedBy(id, events);
  const status = await reader.commits.statusOf(loaded);
  // The run's definition now: its latest run.migrated's, else run.started's (docs/runs.md#migrating-in-flight-runs).
  const definition = latestWorkflow(events).definition;
  const view = backend.markUnserved ? await backend.markUnserved(definition, status) : status;
  // Each task's progress: live while its attempt runs (the store's channel), else what its outcome kept.
  const live = (await backend.progress?.read(id).catch(() => [])) ?? [];
  const run = shownRun(
    withProgress(view, progressOf(view, live, events)),
    (await backend.damage?.(id, view.seq)) ?? null,
    backend.storeDir,
  );
  // inputs: what each task's latest attempt ran with (the runtime's startAttempt at its task.started); a large payload a
  // DECISION read is loaded where this process has not (foldLoaded).
  const { record, inputs } = await foldLoaded(backend.store.blobs?.(), () => ({
    // The record from the fold made above (track's `after`: the same record as recordOf, no second fold).
    record: track(events, { compiled: loaded.compiled, snapshot: loaded.snapshot }).record,
    inputs: attemptInputs(events),
  }));
  // The retry link both ways: the runs that retry this one (and its children), and (the new run) the run it retries.
  const { children, retries } = await runLinks(backend, id);
  const retryOf = record?.trigger.kind === 'retry' ? { runId: record.trigger.runId } : undefined;
  return {
    run,
    record,
    definition,
    graph: workflowGraph(definition),
    children,
    retries,
    ...(retryOf ? { retryOf } : {}),
    ...(run.parent ? { parent: run.parent } : {}),
    inputs,
  };
}

/** The run's run.started, from its events (404 when it has none). */
export function startedBy(
  id: string,
  events: readonly EventEnvelope[],
): Extract<EventEnvelope, { type: 'run.started' }> {
  const first = events[0];
  if (!first) throw new ApiError(404, 'LF_RUN_NOT_FOUND', `run ${id} does not exist in this store`);
  if (first.type !== 'run.started')
    throw new ApiError(409, 'LF_CORRUPT_RUN', `run ${id} does not begin with run.started`);
  return first;
}
