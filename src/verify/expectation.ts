/**
 * A counter-example as an expectation (src/coverage/expectations.ts) that `ledgerflow test` runs against the real
 * runtime: the path's input, the outputs its tasks returned, how each attempt ended, what each person decided, and in
 * `expect` what the path leads to once the rest of the run goes the happy way. Outputs are one per task: a loop whose
 * body answers differently in each iteration is reproduced only as far as its last answer.
 */
import { RUN_TIMER_TASK } from '../compiler/index.js';
import {
  defaultOutput,
  modelActions,
  stepModel,
  type Expectation,
  type ModelAction,
  type ModelState,
} from '../coverage/index.js';
import type { Definition, JsonValue } from '../definition/index.js';
import { runStatus } from '../runtime/index.js';
import type { Walk } from './explore.js';

/** Most steps of the happy continuation (a loop whose happy answer repeats it ends at its own limit long before). */
const CONTINUATION_STEPS = 5_000;

/** The path, then the happy way to the end of the run. */
export function continued(walk: Walk, actions: ModelAction[], states: ModelState[]) {
  const all = [...actions];
  const seen = [...states];
  for (let i = 0; i < CONTINUATION_STEPS; i++) {
    const next = modelActions(walk.compiled, walk.model, seen.at(-1)!, true)[0];
    if (!next) break;
    all.push(next);
    seen.push(stepModel(walk.compiled, seen.at(-1)!, next));
  }
  return { actions: all, states: seen };
}

type Outcome = 'ok' | 'fail' | 'fatal' | 'timeout';

export function toExpectation(
  def: Definition,
  name: string,
  input: Record<string, JsonValue>,
  actions: ModelAction[],
  states: ModelState[],
): Expectation {
  const outputs: Record<string, unknown> = {};
  const attempts: Record<string, Outcome[]> = {};
  const approvals: Record<string, 'approved' | 'rejected' | 'timeout'> = {};
  const byId = new Map(def.tasks.map((t) => [t.id, t]));
  const outcome = (task: string, attempt: number, how: Outcome) => {
    const list = (attempts[task] ??= []);
    list[attempt - 1] = how;
  };
  for (const a of actions) {
    if (a.type === 'hang') {
      const task = a.task.replace(/\[\d+\]$/, '');
      if (task === RUN_TIMER_TASK) continue;
      const type = byId.get(task)?.type;
      if (type === 'HUMAN' || type === 'WAIT') approvals[task] = 'timeout';
      else outcome(task, a.attempt, 'timeout');
      continue;
    }
    const e = a.event;
    if (e.type === 'task.completed') {
      const t = byId.get(e.data.task);
      if (t && JSON.stringify(e.data.output) !== JSON.stringify(defaultOutput(t))) outputs[e.data.task] = e.data.output;
      outcome(e.data.task, e.data.attempt, 'ok');
    } else if (e.type === 'task.failed') outcome(e.data.task, e.data.attempt, 'fail');
    else if (e.type === 'approval.recorded' && e.data.decision === 'rejected') approvals[e.data.task] = 'rejected';
  }
  // Attempts past the list succeed: keep only lists that say something else, without their trailing oks.
  for (const [task, list] of Object.entries(attempts)) {
    const filled = Array.from(list, (x) => x ?? 'ok');
    while (filled.at(-1) === 'ok') filled.pop();
    if (filled.length === 0) delete attempts[task];
    else attempts[task] = filled;
  }
  const final = states.at(-1)!.run;
  const tasks: Expectation['expect']['tasks'] = {};
  for (const t of def.tasks) {
    const st = final.context.tasks[t.id]!;
    tasks[t.id] = st.decision ? { status: st.status, case: st.decision.case } : st.status;
  }
  return {
    name,
    input,
    outputs,
    attempts,
    approvals,
    expect: { ...(final.status === 'active' ? {} : { status: runStatus(final) }), tasks },
  };
}
