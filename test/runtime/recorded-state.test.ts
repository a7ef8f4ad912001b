/**
 * The state hash every event records must never change for a given state:
 * logs written by earlier versions replay against it. recordedState writes
 * its text directly for speed; this checks it against the definition (sha256
 * of JSON.stringify of the compact form) on states of every kind.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compile, type MachineInput } from '../../src/compiler/index.js';
import { baseInput, outputVariants, planDecisions } from '../../src/coverage/outputs.js';
import { recordedState, runStatus, type RunSnapshot } from '../../src/runtime/index.js';
import { prng, RandomEvents } from '../compiler/random-events.js';
import { expectBoundedStateHashCache } from '../helpers/state-hash.js';
import { def } from '../helpers/engine.js';

/** The hash as first defined: build the compact object, stringify, sha256, 16 hex digits. */
function referenceHash(snapshot: RunSnapshot): string {
  const ctx = snapshot.context;
  const compact = {
    value: snapshot.value,
    tasks: Object.keys(ctx.tasks)
      .sort()
      .map((id) => [id, ctx.tasks[id]!.status, ctx.tasks[id]!.attempts, ctx.tasks[id]!.decision?.case ?? null]),
    timers: Object.keys(ctx.timers)
      .sort()
      .map((k) => [k, ctx.timers[k]!.dueAt]),
  };
  return createHash('sha256').update(JSON.stringify(compact)).digest('hex').slice(0, 16);
}

const workflow = def(`
workflow:
  id: hashed
  name: Every kind of state
  version: 1
  input: { optional: [level] }
  tasks:
    - { id: b, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s }, timeout: 30s }
    - id: route
      type: DECISION
      depends_on: [b]
      decision_param: "\${workflow.input.level}"
      decision_cases:
        high: { next: [h] }
        "odd \\"case\\"": { next: [a] }
        default: { next: [a] }
    - { id: h, type: HUMAN, approvers: [alice], timeout: 1h }
    - { id: a, type: SIMPLE, optional: true }
    - { id: z, type: SIMPLE, depends_on: [h, a], trigger_rule: all_done }
`);

describe('recordedState', () => {
  it('gives the hash of its definition on thousands of random states, with the status runStatus gives', () => {
    const compiled = compile(workflow);
    const plan = planDecisions(workflow, baseInput(workflow));
    const rng = prng(20261121);
    const events = new RandomEvents(rng, workflow, outputVariants(workflow, plan), Date.parse('2026-03-01T09:00:00Z'));
    const seen = new Set<string>();
    let checked = 0;
    for (let run = 0; checked < 3_000; run++) {
      const input: MachineInput = {
        runId: `r${run}`,
        workflowId: workflow.id,
        version: 1,
        input: { level: events.pick(['high', 'low', 'odd "case"']) },
        time: Date.parse('2026-03-01T09:00:00Z'),
      };
      let snap = compiled.interpreter.initial(input) as RunSnapshot;
      for (let n = 0; n < 60 && snap.status === 'active'; n++, checked++) {
        snap = compiled.interpreter.transition(snap, events.next(snap.context)) as RunSnapshot;
        const rec = recordedState(snap);
        expect(rec.hash).toBe(referenceHash(snap));
        expect(rec.status).toBe(runStatus(snap));
        seen.add(rec.status);
      }
    }
    expect([...seen].sort()).toEqual(['CANCELLED', 'COMPLETED', 'FAILED', 'PAUSED', 'RUNNING', 'WAITING']);
  });

  it('is pinned: the same state hashes as it did when the first logs were written', () => {
    const five = def(`
workflow:
  id: five-steps
  name: Five sequential steps
  version: 1
  tasks:
    - { id: s1, type: SIMPLE }
    - { id: s2, type: SIMPLE, depends_on: [s1] }
`);
    const snap = compile(five).interpreter.initial({
      runId: 'r1',
      workflowId: 'five-steps',
      version: 1,
      input: {},
      time: Date.parse('2026-01-01T00:00:00Z'),
    }) as RunSnapshot;
    // fe291ffc2bff08c3: what the code of the first release (XState fold, object-then-stringify hash) recorded for this state.
    expect(recordedState(snap)).toEqual({ status: 'RUNNING', hash: referenceHash(snap) });
    expect(recordedState(snap).hash).toBe('fe291ffc2bff08c3');
  });

  it('hashes the same tasks alike in whatever key order, interleaved with runs of other definitions', () => {
    const base = compile(workflow).interpreter.initial({
      runId: 'r',
      workflowId: workflow.id,
      version: 1,
      input: {},
      time: Date.parse('2026-03-01T09:00:00Z'),
    }) as RunSnapshot;
    const tasks = base.context.tasks;
    const ids = Object.keys(tasks);
    const rng = prng(7);
    const withTasks = (order: string[]): RunSnapshot => ({
      ...base,
      context: { ...base.context, tasks: Object.fromEntries(order.map((id) => [id, tasks[id]!])) },
    });
    const variants = [
      ids,
      [...ids].reverse(),
      ids.slice(1),
      ids.slice(0, -1),
      [...ids.slice(2), ...ids.slice(0, 2)],
      [],
      [...ids, 'extra'].filter((id) => tasks[id]), // same keys as ids
    ];
    for (let i = 0; i < 300; i++) {
      const order = variants[Math.floor(rng() * variants.length)]!;
      const snap = withTasks(order);
      expect(recordedState(snap).hash).toBe(referenceHash(snap));
      // Keys in another order, same content: same hash.
      if (order.length === ids.length) expect(recordedState(snap).hash).toBe(referenceHash(withTasks(ids)));
    }
  });

  it('remembers hashes in a bounded trie: tens of thousands of distinct states, each still hashed as defined', async () => {
    const base = compile(workflow).interpreter.initial({
      runId: 'r',
      workflowId: workflow.id,
      version: 1,
      input: {},
      time: Date.parse('2026-03-01T09:00:00Z'),
    }) as RunSnapshot;
    await expectBoundedStateHashCache(base, referenceHash);
  });

  it('tells apart states whose tasks agree but whose statechart value differs', () => {
    const base = compile(workflow).interpreter.initial({
      runId: 'r',
      workflowId: workflow.id,
      version: 1,
      input: {},
      time: Date.parse('2026-03-01T09:00:00Z'),
    }) as RunSnapshot;
    const running = base.value as Record<string, Record<string, string>>;
    const values: RunSnapshot['value'][] = [
      base.value,
      'completed',
      'failed',
      'cancelled',
      { running: { ...running.running, b: 'running' } },
      { running: { ...running.running, z: 'done' } },
      { running: { z: running.running!.z!, ...running.running } }, // same names, other order
      { running: { b: 'running', z: 'done' } },
      { running: { z: 'running', b: 'done' } }, // same states, other regions
    ];
    const hashes = values.map((value) => {
      const snap = { ...base, value } as RunSnapshot;
      const h = recordedState(snap).hash;
      expect(h).toBe(referenceHash(snap));
      expect(recordedState(snap).hash).toBe(h);
      return h;
    });
    expect(new Set(hashes).size).toBe(values.length);
  });
});
