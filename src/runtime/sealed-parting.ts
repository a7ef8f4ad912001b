/**
 * A run read without its data key has `[encrypted]` in place of each sealed value (src/encryption), so a DECISION, a
 * condition or a template that reads one cannot be taken as the run took it: from the first event whose outcome turned
 * on such a value, the fold shows tasks the run never ran (a DECISION's other branch) and a status it does not have.
 * Each event records, in clear, the state it left (the run's status and its state hash, which covers every task's
 * status, attempts and branch). Where the fold stops reaching it, what the fold shows stops being the run's: this says
 * where, so a reader without the key shows no more than it can know (executor/keyless-view.ts).
 */
import type { RunError } from '../compiler/index.js';
import { REDACTED, SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import { recordedState, type RunSnapshot } from './fold.js';
import { replayRun } from './replay.js';
import type { RunView } from './view.js';
import type { SealedFrom } from './sealed-from.js';

export type { SealedFrom } from './sealed-from.js';

/**
 * Null when the fold of `events` ends in the state its last event recorded (the view is the run's, whatever was
 * sealed); else where it parted from the run, and that event's index in `events`. Checks one state hash when the
 * fold agrees, and replays the run to find the event only when it does not.
 */
export function sealedParting(
  events: EventEnvelope[],
  snapshot: RunSnapshot,
): { index: number; from: SealedFrom } | null {
  const last = events.at(-1);
  if (!last) return null;
  const now = recordedState(snapshot);
  if (now.hash === last.state.hash && now.status === last.state.status) return null;
  return partingAt(events, replayRun(events).divergence?.seq ?? last.seq);
}

/** The parting at event `seq` of `events` (a replay's divergence, read without the key). */
export function partingAt(events: EventEnvelope[], seq: number): { index: number; from: SealedFrom } {
  const found = events.findIndex((e) => e.seq === seq);
  const index = found < 0 ? events.length - 1 : found;
  const ev = events[index]!;
  const task = (ev.data as { task?: unknown }).task;
  return { index, from: { seq: ev.seq, type: ev.type, ...(typeof task === 'string' ? { task } : {}) } };
}

/** What `status`, `watch` and `replay` say of a run read so: what is shown, from where it is not, and what shows it. */
export function sealedFromText(from: SealedFrom): string {
  const what = `${from.type}${from.task !== undefined ? ` of ${from.task}` : ''}`;
  return `read without the data key: from event ${from.seq} (${what}) on, this run's course turned on values sealed with it, so its tasks are shown as of event ${from.seq - 1} and its status as its last event recorded it; \`history\` lists every event (set LF_DATA_KEY to see the tasks as they are, docs/security.md)`;
}

/**
 * The view of a run that parted at `from`: `before` (its view as of the event before; `status`, `watch` and the
 * dashboard show its tasks) with the status, end and error `last` recorded, and `sealedFrom`. `failed`: the run's
 * last run.failed, when it has one. Nothing drives a run while it is read so (the fold's undriven note is of tasks it
 * cannot know).
 */
export function partedView(
  before: RunView,
  last: EventEnvelope,
  failed: EventEnvelope | undefined,
  from: SealedFrom,
): RunView {
  const status = last.state.status;
  const settled = SETTLED_STATUSES.includes(status);
  const { undriven: _undriven, ...rest } = before;
  return {
    ...rest,
    status,
    completedAt: settled ? last.time : null,
    output: status === 'COMPLETED' ? REDACTED : null,
    error: status !== 'FAILED' ? null : failed?.type === 'run.failed' ? (failed.data.error as RunError) : before.error,
    timers: settled ? [] : before.timers,
    seq: last.seq,
    sealedFrom: from,
  };
}

/**
 * Values the fold derives (a SET's variables, a DECISION's value, a TRANSFORM's result, the workflow's output) are
 * made from sealed ones a reader without the key has as `[encrypted]`, so what it would derive is not the run's: each
 * output and variable is shown `[encrypted]` (the handlers' ones are already). Statuses, attempts and times stay.
 */
export function derivedHidden(view: RunView): RunView {
  const hide = (v: unknown) => (v === null || v === undefined ? v : REDACTED);
  const tasks: RunView['tasks'] = {};
  for (const [id, t] of Object.entries(view.tasks)) {
    tasks[id] = {
      ...t,
      output: hide(t.output),
      ...(t.items ? { items: t.items.map((it) => ({ ...it, output: hide(it.output) })) } : {}),
    };
  }
  const variables = view.variables
    ? Object.fromEntries(Object.keys(view.variables).map((k) => [k, REDACTED]))
    : undefined;
  return { ...view, tasks, output: hide(view.output), ...(variables ? { variables } : {}) };
}
