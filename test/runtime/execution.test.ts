import { describe, expect, it } from 'vitest';
import { def, engine, runToIdle, virtualClock } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const linear = def(`
workflow:
  id: linear
  name: Linear
  version: 1
  input:
    required: [name]
  output: [greeting]
  tasks:
    - id: a
      type: SIMPLE
      input: { who: "\${workflow.input.name}" }
    - id: b
      type: SIMPLE
      depends_on: [a]
      input: { text: "Hello, \${a.output.who}!", raw: "\${a.output}" }
`);

describe('running a workflow', () => {
  it('runs dependent tasks in order, passes outputs through templates, and records the workflow output', async () => {
    const { engine: e } = engine();
    const seen: unknown[] = [];
    const view = await runToIdle(
      e,
      linear,
      { name: 'Ada' },
      {
        a: async (input) => ({ who: input.who }),
        b: async (input) => {
          seen.push(input);
          return { greeting: input.text };
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    expect(seen).toEqual([{ text: 'Hello, Ada!', raw: { who: 'Ada' } }]);
    expect(view.output).toEqual({ greeting: 'Hello, Ada!' });
    expect(view.tasks.a).toMatchObject({ status: 'COMPLETED', attempts: 1 });
    expect(view.tasks.b!.startedAt! >= view.tasks.a!.completedAt!).toBe(true);
    // The run settles at the time of its last event, not at some internal event's.
    expect(view.completedAt).toBe((await e.events(view.runId)).at(-1)!.time);
  });

  it('writes one commit per step: run.started, then task starts batched with the completions that enable them', async () => {
    const { engine: e, store } = engine();
    const view = await runToIdle(e, linear, { name: 'x' }, { a: async () => ({ who: 'x' }), b: async () => ({}) });
    const types = (await store.read(view.runId)).map((ev) => ev.type);
    expect(types).toEqual(['run.started', 'task.started', 'task.completed', 'task.started', 'task.completed']);
  });

  it('runs independent tasks concurrently: their handlers overlap in time', async () => {
    const { engine: e } = engine();
    const d = def(`
workflow:
  id: par
  name: Par
  version: 1
  tasks:
    - { id: scan, type: SIMPLE }
    - { id: load, type: SIMPLE, parallel_with: scan }
    - { id: join, type: SIMPLE, depends_on: [scan, load] }
`);
    // Each handler waits until the other one is running too: run one after the other, the first would wait in vain.
    // Spans are in steps of a counter, not ms: the order of starts and ends is the point.
    const spans: Record<string, [number, number]> = {};
    const running = new Set<string>();
    let step = 0;
    const overlapping = (name: string) => async () => {
      const s = ++step;
      running.add(name);
      await waitFor('scan and load to run at the same time', () => running.size === 2, { timeout: 5000 });
      spans[name] = [s, ++step];
      return {};
    };
    const view = await runToIdle(
      e,
      d,
      {},
      { scan: overlapping('scan'), load: overlapping('load'), join: async () => ({}) },
    );
    expect(view.status).toBe('COMPLETED');
    const [s1, e1] = spans.scan!;
    const [s2, e2] = spans.load!;
    expect(Math.max(s1, s2)).toBeLessThan(Math.min(e1, e2));
  });

  it('retries a failing task with exponential backoff and succeeds on the third attempt', async () => {
    const { engine: e, store } = engine({ clock: virtualClock() });
    const d = def(`
workflow:
  id: retry
  name: Retry
  version: 1
  tasks:
    - id: flaky
      type: SIMPLE
      retry_policy: { max_attempts: 3, backoff: exponential, initial_delay: 40ms }
`);
    const attempts: number[] = [];
    const view = await runToIdle(
      e,
      d,
      {},
      {
        flaky: async (_i, ctx) => {
          attempts.push(ctx.attempt);
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return { ok: true };
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    expect(attempts).toEqual([1, 2, 3]);
    expect(view.tasks.flaky).toMatchObject({ status: 'COMPLETED', attempts: 3 });
    const events = await store.read(view.runId);
    const failed = events.filter((ev) => ev.type === 'task.failed');
    const fired = events.filter((ev) => ev.type === 'timer.fired');
    expect(fired.map((f) => f.data)).toEqual([
      { task: 'flaky', attempt: 1, timer: 'backoff' },
      { task: 'flaky', attempt: 2, timer: 'backoff' },
    ]);
    // The delay doubles: 40 ms after the first failure, 80 ms after the second (virtual time: exactly).
    const gap = (i: number) => Date.parse(fired[i]!.time) - Date.parse(failed[i]!.time);
    expect(gap(0)).toBe(40);
    expect(gap(1)).toBe(80);
  });
});

describe('run ids', () => {
  it('start with the UTC second they were made in, whichever second came before', async () => {
    const { newRunId } = await import('../../src/executor/index.js');
    const t = Date.UTC(2026, 10, 21, 7, 12, 58, 999);
    for (const [ms, stamp] of [
      [t, '20261121-071258'],
      [t + 1, '20261121-071259'],
      [t - 998, '20261121-071258'],
      [t - 999, '20261121-071258'],
      [t - 1000, '20261121-071257'],
      [t + 1, '20261121-071259'],
    ] as const) {
      expect(newRunId(ms).slice(0, 15)).toBe(stamp);
    }
  });

  it('never merge two runs: 64 random bits, and a colliding generated id fails the second start instead of joining the first', async () => {
    const { newRunId } = await import('../../src/executor/index.js');
    const ids = new Set(Array.from({ length: 10_000 }, () => newRunId(0)));
    expect(ids.size).toBe(10_000);
    expect([...ids][0]).toMatch(/^19700101-000000-[0-9a-z]{13}$/);

    const { engine: e } = engine();
    const d = def(`
workflow:
  id: one
  name: One
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
`);
    // A given id is idempotent (a retried start of the same run); two generated starts never share one.
    const id = await e.start(d, {}, { runId: 'fixed-id' });
    expect(await e.start(d, {}, { runId: 'fixed-id' })).toBe(id);
    const a = await e.start(d, {});
    const b = await e.start(d, {});
    expect(a).not.toBe(b);
  });
});
