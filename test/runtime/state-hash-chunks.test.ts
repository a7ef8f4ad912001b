/**
 * What the fold's vectors carry for the state hash (src/runtime/chunk-hash.ts)
 * is derived from the version before, chunk by chunk and entry by entry; a
 * state's hash must not depend on that history. For any sequence of task
 * changes (one task, several at once, changes the state text does not show,
 * the same state put back), with any of the states on the way hashed or not,
 * and earlier states hashed again out of order, every state's hash in both
 * formats equals the hash of the same entries built from scratch: a fresh
 * table of fresh objects (which carries nothing yet), and the plain record a
 * short run keeps (which no vector carries), with the caches off.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { setCachesEnabled } from '../../src/caches.js';
import { compile, TASK_STATUSES, TaskTable, tableOf, taskEntries, type TaskState } from '../../src/compiler/index.js';
import { withTaskState, withTaskStates } from '../../src/compiler/task-table.js';
import type { RunSnapshot } from '../../src/runtime/index.js';
import { stateHashOf } from '../../src/runtime/state-hash.js';
import { def } from '../helpers/engine.js';
import { fuzzParams } from '../fuzz/settings.js';

const TASKS = 150; // three chunks of 64: two full, one of 22
const id = (i: number) => `t${String(i).padStart(3, '0')}`;
const chain = def(
  `workflow:\n  id: chain-${TASKS}\n  name: A chain\n  version: 1\n  tasks:\n${Array.from(
    { length: TASKS },
    (_, i) => `    - { id: ${id(i)}, type: SIMPLE${i > 0 ? `, depends_on: [${id(i - 1)}]` : ''} }\n`,
  ).join('')}`,
);
const compiled = compile(chain);

const start = (format: 1 | 2): RunSnapshot =>
  compiled.interpreter.initial({
    runId: 'r',
    workflowId: chain.id,
    version: 1,
    input: {},
    time: Date.parse('2026-03-01T09:00:00Z'),
    ...(format === 2 ? { stateHashVersion: 2 as const } : {}),
  }) as RunSnapshot;

const withTasks = (snap: RunSnapshot, tasks: Record<string, TaskState>): RunSnapshot => ({
  ...snap,
  context: { ...snap.context, tasks },
});

/** A change to one task: a new state (its text may be the same, e.g. only its output differs), or the one it had before. */
const change = fc.record({
  task: fc.integer({ min: 0, max: TASKS - 1 }),
  status: fc.constantFrom(...TASK_STATUSES),
  attempts: fc.integer({ min: 0, max: 3 }),
  output: fc.option(fc.integer(), { nil: null }),
  iteration: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
});
type Change = typeof change extends fc.Arbitrary<infer C> ? C : never;
const stateOf = (before: TaskState, c: Change): TaskState => {
  const { iteration: _, ...rest } = before;
  return {
    ...rest,
    status: c.status,
    attempts: c.attempts,
    output: c.output,
    ...(c.iteration !== undefined ? { iteration: c.iteration } : {}),
  };
};

/** A step: one task changed, or several at once (a touched chunk copied once, perhaps past its splicing limit); hashed after it or not. */
const step = fc.record({
  changes: fc.oneof(
    fc.array(change, { minLength: 1, maxLength: 1 }),
    fc.array(change, { minLength: 2, maxLength: 30 }),
  ),
  hashed: fc.boolean(),
  // Hash an earlier state again (out of order), by how far back.
  again: fc.option(fc.integer({ min: 1, max: 5 }), { nil: null }),
});

function fromScratch(snap: RunSnapshot): { table: string; record: string } {
  const entries = taskEntries(snap.context.tasks).map(([k, t]) => [k, { ...t }] as const);
  const table = stateHashOf(withTasks(snap, TaskTable.of(Object.fromEntries(entries)).record));
  setCachesEnabled(false);
  try {
    return { table, record: stateHashOf(withTasks(snap, Object.fromEntries(entries.map(([k, t]) => [k, { ...t }])))) };
  } finally {
    setCachesEnabled(true);
  }
}

describe('the state hash carried by the chunks', () => {
  for (const format of [1, 2] as const) {
    it(`equals the hash of the same state built from scratch, whatever changes led to it (format ${format})`, () => {
      const first = start(format);
      expect(tableOf(first.context.tasks)).not.toBeNull();
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
          const states: RunSnapshot[] = [first];
          let snap = first;
          for (const s of steps) {
            let tasks = snap.context.tasks;
            if (s.changes.length === 1) {
              const c = s.changes[0]!;
              tasks = withTaskState(tasks, id(c.task), stateOf(tasks[id(c.task)]!, c), null);
            } else {
              const byTask = new Map(s.changes.map((c) => [id(c.task), c]));
              tasks = withTaskStates(tasks, (t, k) => (byTask.has(k) ? stateOf(t, byTask.get(k)!) : t));
            }
            snap = withTasks(snap, tasks);
            states.push(snap);
            if (s.hashed) {
              const { table, record } = fromScratch(snap);
              expect(stateHashOf(snap)).toBe(table);
              expect(table).toBe(record);
            }
            if (s.again !== null) {
              const back = states[Math.max(0, states.length - 1 - s.again)]!;
              expect(stateHashOf(back)).toBe(fromScratch(back).table);
            }
          }
          expect(stateHashOf(snap)).toBe(fromScratch(snap).record);
        }),
        fuzzParams(60, 20_000),
      );
    }, 60_000);
  }
});
