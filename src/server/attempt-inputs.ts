/**
 * The input each task's attempt actually ran with, for the run page: the runtime's own `startAttempt`
 * (src/runtime/effects.ts) applied to the run's state right after the attempt's `task.started` (or `task.restarted`,
 * which runs it again), so the templates are resolved by the same rules and against the same state the executor saw. A
 * HUMAN task starts no attempt (no `task.started`): its input is resolved the same way at the event after which it
 * waits for approval, so an approver sees the values, not the templates. Pure: it reads only the events given.
 */
import { instanceKey, instanceState, type CompiledWorkflow, type InstanceRef } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';
import {
  applyEvent,
  compiledForRun,
  workflowAfter,
  foldStartOf,
  startAttempt,
  startFold,
  type RunSnapshot,
} from '../runtime/index.js';

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
  return AttemptInputs.from(first).after(rest).inputs;
}

/**
 * attemptInputs kept for a run and continued with the events that follow (the run page's fold of a run it shows,
 * viewed-runs.ts): each `after` folds only the events given, onto its own copy, so the one it was called on stays as it
 * was (a fold that must load a large payload first is made again from it: foldLoaded).
 */
export class AttemptInputs {
  private constructor(
    private readonly compiled: CompiledWorkflow,
    private readonly snapshot: RunSnapshot,
    /** Instance key → the input of its latest attempt; never changed once made (a later fold makes a new one). */
    readonly inputs: Readonly<Record<string, AttemptInput>>,
  ) {}

  static from(first: Extract<EventEnvelope, { type: 'run.started' }>): AttemptInputs {
    const compiled = compiledForRun(first);
    return new AttemptInputs(compiled, startFold(compiled, foldStartOf(first)), {});
  }

  /** These inputs continued with the events that follow the last folded (seq after seq). */
  after(events: readonly EventEnvelope[]): AttemptInputs {
    if (events.length === 0) return this;
    let { compiled, snapshot } = this;
    const out: Record<string, AttemptInput> = { ...this.inputs };
    const humansOf = () => compiled.definition.tasks.filter((t) => t.type === 'HUMAN').map((t) => t.id);
    let humans = humansOf();
    for (const ev of events) {
      snapshot = applyEvent(compiled, snapshot, ev).snapshot;
      if (ev.type === 'run.migrated') {
        compiled = workflowAfter(compiled, ev);
        humans = humansOf();
      }
      for (const task of humans) waitingInput(compiled, snapshot, task, ev.seq, out);
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
    return new AttemptInputs(compiled, snapshot, out);
  }
}

/** A HUMAN task's input, resolved at the event after which it waits for approval (once per wait), into `out`. */
function waitingInput(
  compiled: CompiledWorkflow,
  snapshot: RunSnapshot,
  task: string,
  seq: number,
  out: Record<string, AttemptInput>,
): void {
  const state = snapshot.context.tasks[task];
  if (state?.status !== 'PENDING_APPROVAL') return;
  const ref: InstanceRef = state.iteration === undefined ? { task } : { task, iteration: state.iteration };
  const key = instanceKey(ref);
  // Once per wait: the values are those of the event it began waiting at (later events do not change its dependencies).
  if (out[key]?.attempt === state.attempts) return;
  const start = startAttempt(compiled, snapshot, { key, ref, attempt: state.attempts, restart: state.restarts ?? 0 });
  out[key] = {
    task,
    ...(state.iteration !== undefined ? { iteration: state.iteration } : {}),
    attempt: state.attempts,
    seq,
    input: start.input,
  };
}
