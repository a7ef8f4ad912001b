/**
 * Runs one expectation against the real runtime: handlers answer as it scripts (immediately, or never for a timeout),
 * approvals are recorded as soon as a task waits for one, and the virtual clock fires timers whenever nothing else can
 * happen. Then the run is checked against `expect` and replayed.
 */
import { isDeepStrictEqual } from 'node:util';
import { compile } from '../compiler/index.js';
import type { Definition } from '../definition/index.js';
import type { EventEnvelope, WorkflowStatus } from '../events/index.js';
import { foldEvents } from '../runtime/index.js';
import type { Expectation } from './expectations.js';
import { perform, replayProblem, settle, startLive, type Answer, type LiveRun } from './harness.js';
import { approverOf } from './model.js';
import { baseInput, defaultOutput } from './outputs.js';

export interface ExpectationResult {
  name: string;
  ok: boolean;
  status: WorkflowStatus | null;
  /** Every way the run differs from the expectation. */
  failures: string[];
}

/** `onLog`: given the run's log once it ends (`check` reads the coverage items the expectation reaches off it). */
export async function runExpectation(
  def: Definition,
  e: Expectation,
  onLog?: (events: EventEnvelope[]) => void,
): Promise<ExpectationResult> {
  const compiled = compile(def);
  const answer = (taskId: string, attempt: number): Answer => {
    const task = def.tasks.find((t) => t.id === taskId)!;
    const how = e.attempts[taskId]?.[attempt - 1] ?? 'ok';
    if (how === 'timeout') return 'hang';
    if (how === 'ok') return { output: e.outputs[taskId] ?? defaultOutput(task) };
    return {
      error: {
        message: `scripted ${how === 'fatal' ? 'non-retryable ' : ''}failure of attempt ${attempt}`,
        code: 'SCRIPTED_FAILURE',
        retryable: how === 'fail',
      },
    };
  };
  const scripted = (task: { id: string }, attempt: number, signal: AbortSignal) =>
    perform(answer(task.id, attempt), signal);
  const failures: string[] = [];
  // A person answers as soon as a task waits for them, once, before time moves on (the clock holds still meanwhile).
  const decided = new Set<string>();
  let current: () => LiveRun = () => {
    throw new Error('the run has not started');
  };
  const approve = (task: string): Promise<unknown> | null => {
    const decision = e.approvals[task] ?? 'approved';
    if (decided.has(task) || decision === 'timeout') return null;
    decided.add(task);
    const live = current();
    return live.clock.hold(
      live.engine.decide(live.runId, task, decision, approverOf(compiled, task)).catch((err: Error) => {
        failures.push(`recording the ${decision} of ${task} failed: ${err.message}`);
      }),
    );
  };
  // A WAIT on an event gets its signal (data {}) once it waits, as a WAIT for a person gets an approval.
  const signalled = new Set<string>();
  const signal = (task: string): Promise<unknown> | null => {
    const t = def.tasks.find((x) => x.id === task);
    if (t?.type !== 'WAIT' || t.event === undefined || signalled.has(t.event)) return null;
    if (e.approvals[task] === 'timeout') return null; // scripted: the signal never comes, so its timeout fires
    signalled.add(t.event);
    const live = current();
    return live.clock.hold(
      live.engine.signal(live.runId, t.event, { data: {}, by: approverOf(compiled, task) }).catch((err: Error) => {
        failures.push(`recording the signal ${t.event} for ${task} failed: ${err.message}`);
      }),
    );
  };
  const live = await startLive(def, { ...baseInput(def), ...e.input }, scripted, {
    runId: 'lf-expect',
    auto: true,
    hooks: (get) => {
      current = get;
      return {
        onCommit: (_events, _before, after) => {
          for (const [task, t] of Object.entries(after.context.tasks)) {
            if (t.status === 'PENDING_APPROVAL') void approve(task);
            if (t.status === 'WAITING') void signal(task);
          }
        },
      };
    },
  });
  try {
    // A drive ends when the run only waits for a person: answer (if not yet) and drive again, as `ledgerflow resume` would.
    let view = await live.resume();
    for (;;) {
      await settle(live.store, live.runId);
      if (view.status !== 'RUNNING' && view.status !== 'WAITING') break;
      await Promise.all(
        Object.entries(view.tasks)
          .filter(([, t]) => t.status === 'PENDING_APPROVAL')
          .map(([task]) => approve(task)),
      );
      await Promise.all(
        Object.entries(view.tasks)
          .filter(([, t]) => t.status === 'WAITING')
          .map(([task]) => signal(task)),
      );
      if ((await live.store.lastSeq(live.runId)) === view.seq) break;
      view = await live.resume();
    }
    const events = await live.store.read(live.runId);
    onLog?.(events);
    const snap = foldEvents(events).snapshot;
    const x = e.expect;
    const stalled =
      view.status === 'RUNNING' ? ' (it stalled: an attempt scripted to time out has no timeout to end it)' : '';
    if (x.status && view.status !== x.status)
      failures.push(
        `the run ended ${view.status}${stalled}, expected ${x.status}${view.error ? ` (${view.error.message})` : ''}`,
      );
    for (const [task, want] of Object.entries(x.tasks)) {
      const w = typeof want === 'string' ? { status: want } : want;
      const got = snap.context.tasks[task]!;
      if (w.status && got.status !== w.status)
        failures.push(
          `task ${task} is ${got.status}, expected ${w.status}${got.error ? ` (${got.error.message})` : ''}`,
        );
      if (w.case !== undefined && (got.decision?.case ?? null) !== w.case)
        failures.push(`decision ${task} chose ${got.decision?.case ?? 'nothing'}, expected ${w.case}`);
      if (w.attempts !== undefined && got.attempts !== w.attempts)
        failures.push(`task ${task} made ${got.attempts} attempt(s), expected ${w.attempts}`);
    }
    for (const [key, want] of Object.entries(x.output ?? {})) {
      const got = (view.output as Record<string, unknown> | null)?.[key];
      if (!isDeepStrictEqual(got, want))
        failures.push(`workflow output ${key} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
    const replay = replayProblem(events, view);
    if (replay) failures.push(replay);
    return { name: e.name, ok: failures.length === 0, status: view.status, failures };
  } finally {
    live.stop();
  }
}
