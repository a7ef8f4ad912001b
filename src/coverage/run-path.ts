/**
 * Runs one generated path against the real runtime in lockstep: the path's events are made to happen one at a time (a
 * handler answers, a timer fires, a person decides) and after each the run's log must hold exactly that event, leading
 * to exactly the state the model says (same run id, same virtual times, so the recorded state hashes must be equal).
 * The first event where they differ is the failure. At the end the run must have the path's outcome and task statuses,
 * and replay to its live state.
 */
import { isDeepStrictEqual } from 'node:util';
import { instanceKey } from '../compiler/index.js';
import type { Definition, TaskDef } from '../definition/index.js';
import type { EventEnvelope, PendingEvent, WorkflowStatus } from '../events/index.js';
import { foldEvents } from '../runtime/index.js';
import type { MemoryEventStore } from '../store/index.js';
import { describeEvent, perform, replayProblem, settle, startLive, type Answer } from './harness.js';
import { MODEL_RUN_ID } from './model.js';
import type { GeneratedPath } from './paths.js';
import { errorMessage } from '../errors/index.js';

export interface PathResult {
  name: string;
  ok: boolean;
  /** How the real run ended. */
  status: WorkflowStatus | null;
  expected: WorkflowStatus;
  /** What differs, starting with the first event where reality and the model part. */
  failure: string | null;
  /** Index (0-based, after run.started) of the first event that differs, when one does. */
  atEvent: number | null;
}

function sameEvent(model: PendingEvent, real: EventEnvelope): boolean {
  return model.type === real.type && model.time === real.time && isDeepStrictEqual(model.data, real.data);
}

/** `store`: an empty memory store to run on, for a caller that keeps the log afterwards (the golden histories' recorder). */
export async function runPath(
  def: Definition,
  path: GeneratedPath,
  opts: { store?: MemoryEventStore } = {},
): Promise<PathResult> {
  // Each attempt waits until the path says how it ends; one the path never answers ends only when the run aborts it.
  const waiting = new Map<string, { resolve: (a: Answer) => void }>();
  const answer = (task: TaskDef, attempt: number, signal: AbortSignal, instance: string = task.id) =>
    new Promise((resolve, reject) => {
      waiting.set(`${instance}/${attempt}`, { resolve: (a: Answer) => perform(a, signal).then(resolve, reject) });
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  const live = await startLive(def, path.input, answer, {
    runId: MODEL_RUN_ID,
    auto: false,
    ...(opts.store ? { store: opts.store } : {}),
  });
  const { store, engine, clock, runId } = live;
  const result: PathResult = {
    name: path.name,
    ok: false,
    status: null,
    expected: path.outcome,
    failure: null,
    atEvent: null,
  };
  const fail = (i: number | null, text: string) => {
    if (!result.failure) {
      result.failure = text;
      result.atEvent = i;
    }
  };

  try {
    await settle(store, runId);
    for (const [i, ev] of path.events.entries()) {
      const at = `event ${i + 1} of the path (${describeEvent(ev)})`;
      if (ev.type === 'task.completed' || ev.type === 'task.failed') {
        const key = `${instanceKey(ev.data)}/${ev.data.attempt}`;
        const w = waiting.get(key);
        if (!w) {
          fail(i, `${at}: the runtime never ran that attempt`);
          break;
        }
        waiting.delete(key);
        w.resolve(ev.type === 'task.completed' ? { output: ev.data.output } : { error: ev.data.error });
      } else if (ev.type === 'timer.fired') {
        if (!clock.fireNext()) {
          fail(i, `${at}: the runtime has no timer armed`);
          break;
        }
      } else if (ev.type === 'signal.received' || ev.type === 'approval.recorded') {
        try {
          if (ev.type === 'signal.received')
            await engine.signal(runId, ev.data.name, {
              ...(ev.data.data !== undefined ? { data: ev.data.data } : {}),
              ...(ev.data.by !== undefined ? { by: ev.data.by } : {}),
            });
          else await engine.decide(runId, ev.data.task, ev.data.decision, ev.data.by, ev.data.comment);
          // A run that waited for nothing but this signal or person has no driver left (it went idle): resume it, as `ledgerflow resume` would.
          live.resume();
        } catch (err) {
          fail(i, `${at}: the runtime refused it: ${errorMessage(err)}`);
          break;
        }
      }
      await settle(store, runId);
      const real = (await store.read(runId, { fromSeq: i + 2, toSeq: i + 2 }))[0];
      const expected = path.states[i]!;
      if (!real) {
        const now = foldEvents(await store.read(runId)).snapshot;
        fail(
          i,
          `${at}: the runtime recorded nothing (its run is ${now.status === 'active' ? 'still active' : String(now.value).toUpperCase()})`,
        );
        break;
      }
      if (!sameEvent(ev, real)) {
        fail(i, `${at}: the runtime recorded ${describeEvent(real)} instead`);
        break;
      }
      if (real.state.hash !== expected.hash || real.state.status !== expected.status) {
        fail(
          i,
          `${at}: the runtime's state after it (${real.state.status}, ${real.state.hash}) differs from the model's (${expected.status}, ${expected.hash})`,
        );
        break;
      }
    }
    const events = await store.read(runId);
    if (!result.failure && events.length > path.events.length + 1) {
      fail(
        path.events.length,
        `after the path's last event the runtime recorded more: ${describeEvent(events[path.events.length + 1]!)}`,
      );
    }
    // A run the model says has ended but that is still active would never go idle: stop driving it to look at it.
    if (result.failure || foldEvents(events).snapshot.status === 'active') live.stop();
    const view = await live.resume();
    result.status = view.status;
    const finalEvents = await store.read(runId);
    if (view.status !== path.outcome)
      fail(null, `${result.failure ? '' : 'the run '}ended ${view.status}, the path expects ${path.outcome}`);
    const snap = foldEvents(finalEvents).snapshot;
    for (const [task, want] of Object.entries(path.tasks)) {
      const got = snap.context.tasks[task];
      if (got?.status !== want.status)
        fail(null, `task ${task} is ${got?.status ?? 'missing'}, the path expects ${want.status}`);
      else if (want.case !== undefined && (got.decision?.case ?? null) !== want.case)
        fail(null, `decision ${task} chose ${got.decision?.case ?? 'nothing'}, the path expects ${want.case}`);
    }
    const replay = replayProblem(finalEvents, view);
    if (replay) fail(null, replay);
  } finally {
    live.stop();
  }
  result.ok = result.failure === null;
  return result;
}
