/**
 * Runs with more tasks than the plain-record threshold (64): their tasks live
 * in a TaskTable behind a Proxy, the interpreter selects eventless transitions
 * only in regions whose dependencies changed, and the state hash is written
 * chunk by chunk. Each must give exactly what the simple way gives: XState's
 * snapshots, the same recorded hashes, and few guard evaluations per event
 * however long the chain.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  compile,
  createInterpreter,
  tableOf,
  taskEntries,
  xstateFold,
  type FoldSnapshot,
  type MachineEvent,
  type MachineInput,
} from '../../src/compiler/index.js';
import { implementationsFor } from '../../src/compiler/implementations.js';
import { machineConfig } from '../../src/compiler/machine.js';
import { baseInput, inputVariants, outputVariants, planDecisions } from '../../src/coverage/outputs.js';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { recordedState } from '../../src/runtime/index.js';
import { prng, RandomEvents } from './random-events.js';

function parse(id: string, tasks: string): Definition {
  const { definition, diagnostics } = parseDefinition(
    `workflow:\n  id: ${id}\n  name: ${id}\n  version: 1\n  tasks:\n${tasks}`,
    `${id}.yaml`,
  );
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

/** Ten rounds of fork, retries, optional tasks, trigger rules and a join, each after the last, and approvals and a decision: 76 tasks. */
function mixed(): Definition {
  let tasks = '';
  for (let k = 0; k < 10; k++) {
    tasks += `    - { id: fork${k}, type: FORK, fork_tasks: [a${k}, b${k}]${k > 0 ? `, depends_on: [last${k - 1}]` : ''} }
    - { id: a${k}, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }, timeout: 10s }
    - { id: b${k}, type: SIMPLE, optional: true }
    - { id: join${k}, type: JOIN, join_on: [a${k}, b${k}] }
    - { id: anyway${k}, type: SIMPLE, depends_on: [join${k}], trigger_rule: all_done }
    - { id: strict${k}, type: SIMPLE, depends_on: [a${k}, b${k}], trigger_rule: all_success }
    - { id: last${k}, type: SIMPLE, depends_on: [anyway${k}, strict${k}] }
`;
  }
  tasks += `    - { id: h1, type: HUMAN, depends_on: [last9], timeout: 1h, on_timeout: skip }
    - { id: score, type: SIMPLE, depends_on: [last9], output: [value] }
    - id: route
      type: DECISION
      depends_on: [score]
      decision_param: "\${score.output.value}"
      decision_cases:
        high: { next: [vip] }
        default: { next: [done] }
    - { id: vip, type: HUMAN, timeout: 1h }
    - { id: done, type: SIMPLE, depends_on: [h1, vip, route], trigger_rule: all_done }
`;
  return parse('long-mixed', tasks);
}

function chain(n: number): Definition {
  let tasks = '';
  for (let i = 1; i <= n; i++)
    tasks += `    - { id: t${i}, type: SIMPLE${i > 1 ? `, depends_on: [t${i - 1}]` : ''} }\n`;
  return parse(`chain-${n}`, tasks);
}

const input = (def: Definition, run: string, values: Record<string, unknown>, time: number): MachineInput => ({
  runId: run,
  workflowId: def.id,
  version: def.version,
  input: values,
  time,
});

/** The snapshot with a plain tasks record and a plain value: what recordedState hashes the simple way. */
function plain(s: FoldSnapshot): FoldSnapshot {
  return {
    value: JSON.parse(JSON.stringify(s.value)),
    status: s.status,
    context: { ...s.context, tasks: { ...s.context.tasks } },
    _configuration: null,
  };
}

describe('runs of more than 64 tasks', () => {
  const def = mixed();
  const compiled = compile(def);

  it('fold exactly as XState does, and record the hashes the plain state text gives', () => {
    const plan = planDecisions(def, baseInput(def));
    const inputs = inputVariants(baseInput(def), plan);
    const rng = prng(42);
    const events = new RandomEvents(rng, def, outputVariants(def, plan), Date.parse('2026-03-01T09:00:00Z'));
    const reference = xstateFold(compiled.machine);
    let tables = 0;
    let total = 0;
    for (let run = 0; total < 600; run++) {
      const start = Date.parse('2026-03-01T09:00:00Z') + run * 1000;
      const at = input(def, `run-${run}`, events.pick(inputs), start);
      let x = reference.initial(at);
      let i = compiled.interpreter.initial(at);
      for (let n = 0; n < 300 && i.status === 'active'; n++, total++) {
        const ev = events.next(i.context);
        const nx = reference.transition(x, ev);
        const ni = compiled.interpreter.transition(i, ev);
        expect(ni !== i, `run ${run} event ${n} accepted`).toBe(nx !== x);
        [x, i] = [nx, ni];
        expect(i.status).toBe(x.status);
        expect(JSON.stringify(i.value)).toBe(JSON.stringify(x.value));
        expect(JSON.stringify(i.context)).toBe(JSON.stringify(x.context));
        if (tableOf(i.context.tasks)) tables++;
        expect(recordedState(i), `run ${run} event ${n}`).toEqual(recordedState(plain(i)));
      }
      expect(isDeepStrictEqual(i.context, x.context)).toBe(true);
    }
    // The comparison is about the table: most states must have had one.
    expect(tables).toBeGreaterThan(total / 2);
  }, 120_000); // 600 events (two runs or more) through XState and the interpreter, with a JSON comparison after each: 1,500 took near 30 s on a loaded 2-core machine

  it('restore a persisted snapshot of a long run to the same state', () => {
    let s = compiled.interpreter.initial(input(def, 'r', baseInput(def), Date.parse('2026-03-01T09:00:00Z')));
    s = compiled.interpreter.transition(s, {
      type: 'task.started.a0',
      time: Date.parse('2026-03-01T09:00:01Z'),
      attempt: 1,
    });
    const restored = compiled.interpreter.restore(JSON.parse(JSON.stringify(compiled.interpreter.persist(s))));
    expect(recordedState(restored)).toEqual(recordedState(s));
    const next = {
      type: 'task.completed.a0',
      time: Date.parse('2026-03-01T09:00:02Z'),
      attempt: 1,
      output: {},
    } as const;
    expect(recordedState(compiled.interpreter.transition(restored, next))).toEqual(
      recordedState(compiled.interpreter.transition(s, next)),
    );
  });
});

describe('a chain of tasks', () => {
  /** Guard evaluations per event when a chain of n tasks runs to its end. */
  function guardsPerEvent(n: number): number {
    const def = chain(n);
    const impl = implementationsFor(def);
    let calls = 0;
    const guards = Object.fromEntries(
      Object.entries(impl.guards).map(([name, g]) => [
        name,
        ((a: never, p: never) => {
          calls++;
          return g(a, p);
        }) as typeof g,
      ]),
    );
    const interpreter = createInterpreter(def, machineConfig(def), { ...impl, guards });
    let s = interpreter.initial(input(def, 'r', {}, 0));
    let events = 0;
    for (let i = 1; i <= n; i++) {
      s = interpreter.transition(s, { type: `task.started.t${i}`, time: i, attempt: 1 });
      s = interpreter.transition(s, { type: `task.completed.t${i}`, time: i, attempt: 1, output: {} });
      events += 2;
    }
    expect(s.value).toBe('completed');
    return calls / events;
  }

  it('checks as few guards per event with 3,000 tasks as with 30: only the next task is looked at', () => {
    const short = guardsPerEvent(30);
    const long = guardsPerEvent(3000);
    // Before, every pending task's guards ran after every event: about 1,500 per event here.
    expect(long).toBeLessThan(short * 1.5);
  });
});

describe('the end of a long run', () => {
  const def = chain(200);
  const compiled = compile(def);
  const reference = xstateFold(compiled.machine);
  const at = input(def, 'r', {}, 0);

  const started = (k: number, time: number): MachineEvent => ({ type: `task.started.t${k}`, time, attempt: 1 });
  const completed = (k: number, time: number): MachineEvent => ({
    type: `task.completed.t${k}`,
    time,
    attempt: 1,
    output: {},
  });

  /** The chain's first `done` tasks completed, through the interpreter and through XState. */
  function ran(done: number): [FoldSnapshot, ReturnType<typeof reference.initial>] {
    let i = compiled.interpreter.initial(at);
    let x = reference.initial(at);
    for (let k = 1; k <= done; k++) {
      for (const ev of [started(k, k), completed(k, k)]) {
        i = compiled.interpreter.transition(i, ev);
        x = reference.transition(x, ev);
      }
    }
    return [i, x];
  }

  it('keeps the tasks table of a run whose tasks all settled, and records the hash the plain state gives', () => {
    const [i, x] = ran(199);
    const end = compiled.interpreter.transition(
      compiled.interpreter.transition(i, started(200, 200)),
      completed(200, 200),
    );
    const xEnd = reference.transition(reference.transition(x, started(200, 200)), completed(200, 200));
    expect(end.value).toBe('completed');
    expect(tableOf(end.context.tasks)).not.toBeNull();
    expect(JSON.stringify(end.context)).toBe(JSON.stringify(xEnd.context));
    expect(recordedState(end)).toEqual(recordedState(plain(end)));
  });

  it('cancels the tasks not settled in a table too, as XState does', () => {
    const [i, x] = ran(120);
    const cancel: MachineEvent = { type: 'run.cancel', time: 122, by: 'someone' };
    const end = compiled.interpreter.transition(compiled.interpreter.transition(i, started(121, 121)), cancel);
    const xEnd = reference.transition(reference.transition(x, started(121, 121)), cancel);
    expect(end.value).toBe('cancelled');
    expect(tableOf(end.context.tasks)?.count('CANCELLED')).toBe(80);
    expect(end.context.tasks.t121!.status).toBe('CANCELLED');
    expect(JSON.stringify(end.context)).toBe(JSON.stringify(xEnd.context));
    expect(isDeepStrictEqual(end.context, xEnd.context)).toBe(true);
    expect(recordedState(end)).toEqual(recordedState(plain(end)));
  });

  it("lists a table's tasks as Object.entries lists its record: the same pairs in key order", () => {
    const [i] = ran(70);
    expect(tableOf(i.context.tasks)).not.toBeNull();
    const entries = taskEntries(i.context.tasks);
    expect(entries.map(([id]) => id).slice(0, 12)).toEqual([
      't1',
      't2',
      't3',
      't4',
      't5',
      't6',
      't7',
      't8',
      't9',
      't10',
      't11',
      't12',
    ]);
    expect(entries).toEqual(Object.entries(i.context.tasks));
    expect(entries).toEqual(Object.entries(plain(i).context.tasks));
  });
});
