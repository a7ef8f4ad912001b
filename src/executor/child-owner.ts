/**
 * A SUB_WORKFLOW's or failure workflow's child has a derived run id (`<run>-<task>-<attempt>`, `<run>-failure`), which
 * anyone may foresee and take first with a start of their own. Such a run is never adopted as the child (its output
 * taken for the child's), nor cancelled or reported for it: the child starts under its spare id instead (`<child>--0`,
 * which no start can take: compiler/children.ts spareChildRunId), and the squatter's run is left as it is. Where a
 * child is (placeChild) is decided from the store alone, the derived id first, so every executor, a re-attach after a
 * crash, a cancel and a status all find the same run.
 */
import { spareChildRunId } from '../compiler/index.js';
import type { TaskError } from '../events/index.js';
import type { ParentRef, RunView } from '../runtime/index.js';
import type { EventStore } from '../store/index.js';

/** What a run's run.started says of it, as far as this check needs. */
interface StartedAs {
  workflowId: string;
  parent?: Partial<ParentRef>;
}

/** A child as its parent's attempt names it: its derived id and the parent it is started for. */
export interface ChildRef {
  childRunId: string;
  parent: Omit<ParentRef, 'workflowId'>;
}

/** Where a child is: the run id it is (or is to be) started under, and that run's run.started (null: not written yet). */
interface ChildPlace {
  runId: string;
  started: StartedAs | null;
}

type Reads = Pick<EventStore, 'lastSeq' | 'read'>;

/** The run.started of the run `runId`, as far as these checks need; null when it has no events. */
async function startedAs(store: Reads, runId: string): Promise<StartedAs | null> {
  if ((await store.lastSeq(runId)) === 0) return null;
  const [first] = await store.read(runId, { fromSeq: 1, toSeq: 1 });
  if (!first) return null;
  const parent = first.type === 'run.started' ? first.data.source?.parent : undefined;
  return { workflowId: first.workflowId, ...(parent ? { parent } : {}) };
}

/** Whether the run whose run.started is `started` is the child `ref` names. */
function isChild(started: StartedAs, ref: ChildRef): boolean {
  const p = started.parent;
  const want = ref.parent;
  return (
    p !== undefined &&
    p.runId === want.runId &&
    p.task === want.task &&
    p.attempt === want.attempt &&
    p.iteration === want.iteration &&
    p.item === want.item &&
    p.relation === want.relation
  );
}

/**
 * Where the child `ref` names is, or is to be started: its derived id when the child is there or nothing is (and it
 * is not under its spare id already: a squatter's run removed since), else its spare id.
 */
export async function placeChild(store: Reads, ref: ChildRef): Promise<ChildPlace> {
  const derived = ref.childRunId;
  const atDerived = await startedAs(store, derived);
  if (atDerived && isChild(atDerived, ref)) return { runId: derived, started: atDerived };
  const spare = spareChildRunId(derived);
  const atSpare = await startedAs(store, spare);
  if (atDerived === null && !(atSpare && isChild(atSpare, ref))) return { runId: derived, started: null };
  return { runId: spare, started: atSpare };
}

/** The run id of the child `ref` names when it has started; null when it has not (a run of someone else's is never it). */
export async function childRunOf(store: Reads, ref: ChildRef): Promise<string | null> {
  const place = await placeChild(store, ref);
  return place.started && isChild(place.started, ref) ? place.runId : null;
}

/**
 * The run id to show for a child whose derived id is `derived` of run `parentRunId` (a status's task, a history's
 * "→ child run"): its spare id when a child of this run is there, else the derived one. One lookup when none is.
 */
export async function shownChildRunId(store: Reads, derived: string, parentRunId: string): Promise<string> {
  const spare = spareChildRunId(derived);
  if ((await store.lastSeq(spare)) === 0) return derived;
  return (await startedAs(store, spare))?.parent?.runId === parentRunId ? spare : derived;
}

/** `view` with each task's child run shown where it is (shownChildRunId): the same object when every one is under its derived id. */
export async function withChildrenShown(store: Reads, runId: string, view: RunView): Promise<RunView> {
  let tasks: RunView['tasks'] | undefined;
  for (const [id, t] of Object.entries(view.tasks)) {
    if (!t.child) continue;
    const shown = await shownChildRunId(store, t.child, runId);
    if (shown !== t.child) (tasks ??= { ...view.tasks })[id] = { ...t, child: shown };
  }
  return tasks ? { ...view, tasks } : view;
}

/** The attempt's error when the run at `place` is not the child `ref` names; null when it is (or not written yet). */
export function childIdTaken(place: ChildPlace, ref: ChildRef): TaskError | null {
  const { started } = place;
  if (!started || isChild(started, ref)) return null;
  const p = started.parent;
  const taken = p
    ? `a run of workflow ${started.workflowId} started by run ${p.runId}${p.task ? ` (task ${p.task})` : ''}`
    : `a run of workflow ${started.workflowId} that no parent started`;
  return {
    code: 'LF_RUN_ID_TAKEN',
    retryable: false,
    message: `run id ${place.runId}, where this attempt's child run (${ref.childRunId}) was to start, is taken by ${taken}: it is not adopted as the child; cancel or remove that run, then retry the parent`,
  };
}
