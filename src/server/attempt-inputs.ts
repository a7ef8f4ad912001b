/**
 * The input each task's attempt actually ran with, for the run page: the runtime's own `startAttempt`
 * (src/runtime/effects.ts) applied to the run's state right after the attempt's `task.started` (or `task.restarted`,
 * which runs it again), so the templates are resolved by the same rules and against the same state the executor saw. A
 * HUMAN task starts no attempt (no `task.started`): its input is resolved the same way at the event after which it
 * waits for approval, so an approver sees the values, not the templates. Pure: it reads only the events given.
 */
import { instanceKey, instanceState, type InstanceRef } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import { applyEvent, compiledForRun, workflowAfter, foldStartOf, startAttempt, startFold } from '../runtime/index.js';

/** The input of an instance's latest attempt (or run of it), and the event it started at. */
export interface AttemptInput {
  task: string;
  iteration?: number;
  attempt: number;
  /** The `task.started` (or `task.restarted`) event the input was resolved at. */
  seq: number;
  input: Record<string, unknown>;
}

/**
 * Instance key (`task`, `task#2` in a loop) → the input its latest attempt ran with. MAP items are left out: each item
 * runs its body with its own value, which the MAP's input already lists (and a map of 10,000 items would make every
 * page load carry 10,000 inputs). Reused tasks of a retry ran no attempt and have none.
 */
export function attemptInputs(events: readonly EventEnvelope[]): Record<string, AttemptInput> {
  const [first, ...rest] = events;
  if (!first || first.type !== 'run.started') return {};
  let compiled = compiledForRun(first);
  let snapshot = startFold(compiled, foldStartOf(first));
  const out: Record<string, AttemptInput> = {};
  const humansOf = () => compiled.definition.tasks.filter((t) => t.type === 'HUMAN').map((t) => t.id);
  let humans = humansOf();
  for (const ev of rest) {
    snapshot = applyEvent(compiled, snapshot, ev).snapshot;
    if (ev.type === 'run.migrated') {
      compiled = workflowAfter(compiled, ev);
      humans = humansOf();
    }
    for (const task of humans) {
      const state = snapshot.context.tasks[task];
      if (state?.status !== 'PENDING_APPROVAL') continue;
      const ref: InstanceRef = state.iteration === undefined ? { task } : { task, iteration: state.iteration };
      const key = instanceKey(ref);
      // Once per wait: the values are those of the event it began waiting at (later events do not change its dependencies).
      if (out[key]?.attempt === state.attempts) continue;
      const start = startAttempt(compiled, snapshot, {
        key,
        ref,
        attempt: state.attempts,
        restart: state.restarts ?? 0,
      });
      out[key] = {
        task,
        ...(state.iteration !== undefined ? { iteration: state.iteration } : {}),
        attempt: state.attempts,
        seq: ev.seq,
        input: start.input,
      };
    }
    if (ev.type !== 'task.started' && ev.type !== 'task.restarted') continue;
    const d = ev.data;
    if (d.item !== undefined || (ev.type === 'task.started' && ev.data.reused)) continue;
    const ref: InstanceRef = d.iteration === undefined ? { task: d.task } : { task: d.task, iteration: d.iteration };
    const state = instanceState(snapshot.context, ref);
    // Only an attempt the state took (a stale or refused event starts nothing).
    if (state?.status !== 'IN_PROGRESS' || state.attempts !== d.attempt) continue;
    const key = instanceKey(ref);
    const start = startAttempt(compiled, snapshot, { key, ref, attempt: d.attempt, restart: state.restarts ?? 0 });
    out[key] = {
      task: d.task,
      ...(d.iteration !== undefined ? { iteration: d.iteration } : {}),
      attempt: d.attempt,
      seq: ev.seq,
      input: start.input,
    };
  }
  return out;
}
