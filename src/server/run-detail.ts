/**
 * GET /api/runs/:id: a run as the run page shows it: its view (DAMAGED when its log lost events; on NATS, tasks waiting
 * for a handler no worker announces say so), its record, definition and graph, the runs linked to it and what each
 * task's latest attempt ran with, from the run page's fold of the run (viewed-runs.ts).
 */
import { workflowGraph } from '../definition/index.js';
import { latestWorkflow } from '../runtime/index.js';
import type { Engine } from '../local/index.js';
import { progressOf, withProgress } from '../progress/index.js';
import type { Backend } from './backend.js';
import { shownRun } from './damaged-view.js';
import { runLinks } from './run-links.js';
import type { ViewedRuns } from './viewed-runs.js';

export async function runDetail(
  backend: Backend,
  reader: Engine,
  viewed: ViewedRuns,
  id: string,
): Promise<Record<string, unknown>> {
  // The log read and folded once for the view, the record and the inputs (viewed-runs.ts), and only what it appended
  // since on the page's next ask (a run of 40,000 events took two seconds a request when each read the log again and
  // the record folded it again).
  const { loaded, record, inputs } = await viewed.view(id);
  const { events } = loaded;
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
  // The retry link both ways: the runs that retry this one (and its children), and (the new run) the run it retries.
  const { children, retries } = await runLinks(backend, id);
  const retryOf = record.trigger.kind === 'retry' ? { runId: record.trigger.runId } : undefined;
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
