/**
 * The state-file entry of a run read without the data key (encryption at rest, docs/security.md#reading-without-the-key).
 * Where the run's course turned on sealed values (runtime/sealed-parting.ts) the fold of its events is not the run: the
 * entry is made from the events before that one, with the status and end the run's last event recorded and
 * `sealed_from` naming the event. Values a fold derives from sealed ones (variables, the workflow's output, a task's
 * output) are `[encrypted]`, as `status` shows them.
 */
import { readWithoutKey } from '../encryption/index.js';
import { REDACTED, SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import type { TaskProgress } from '../runtime/index.js';
import { foldEvents } from '../runtime/index.js';
import { keylessParting } from '../executor/index.js';
import type { EventStore } from '../store/index.js';
import { elapsedText, stateEntry, type FoldedRun, type StateEntry } from './layout.js';

/** The entry of `run` (the fold of `events`), as a reader without the key may show it; `stateEntry`'s when the key is here. */
export function entryOf(
  store: EventStore,
  events: EventEnvelope[],
  run: FoldedRun,
  progress?: ReadonlyMap<string, TaskProgress>,
): StateEntry {
  if (events.length === 0 || !readWithoutKey(store, events[0]!.runId)) return stateEntry(run, progress);
  const parting = keylessParting(store, events, run.snapshot);
  if (!parting) return hidden(stateEntry(run, progress));
  const last = events.at(-1)!;
  const settled = SETTLED_STATUSES.includes(last.state.status);
  const before = stateEntry(parting.index > 0 ? foldEvents(events.slice(0, parting.index)) : run, progress);
  const { output: _output, error: _error, ...rest } = before;
  return hidden({
    ...rest,
    ...(parting.index === 0 ? { tasks: {} } : {}),
    status: last.state.status,
    completed_at: settled ? last.time : null,
    execution_time: settled ? elapsedText(String(before.created_at), last.time) : null,
    sealed_from: parting.from.seq,
  });
}

/** Derived values `[encrypted]`: the variables, the run's output and each task's output. */
function hidden(entry: StateEntry): StateEntry {
  const out: StateEntry = { ...entry };
  if (out.variables && typeof out.variables === 'object')
    out.variables = Object.fromEntries(Object.keys(out.variables as object).map((k) => [k, REDACTED]));
  if (out.output !== undefined) out.output = REDACTED;
  const tasks = out.tasks as Record<string, Record<string, unknown>> | undefined;
  if (tasks)
    out.tasks = Object.fromEntries(
      Object.entries(tasks).map(([id, t]) => [id, t.output !== undefined ? { ...t, output: REDACTED } : t]),
    );
  return out;
}
