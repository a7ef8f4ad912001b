import { describe, expect, it } from 'vitest';
import { replayRun, foldEvents } from '../../src/runtime/index.js';
import { def, engine, runToIdle } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const v1 = def(`
workflow:
  id: evolve
  name: Evolve
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
`);

describe('replay', () => {
  it('rebuilds the state at any point of the log (time travel)', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, v1, {}, { a: async () => ({ x: 1 }), b: async () => ({ y: 2 }) });
    const events = await e.events(view.runId);
    // seq 3 completed a and made b eligible; seq 4 (same commit) started b.
    const at3 = replayRun(events, { to: 3 });
    expect(at3.toSeq).toBe(3);
    expect(at3.view.tasks.a!.status).toBe('COMPLETED');
    expect(at3.view.tasks.b!.status).toBe('SCHEDULED');
    const at4 = replayRun(events, { to: 4 });
    expect(at4.view.tasks.b!.status).toBe('IN_PROGRESS');
    expect(at4.view.status).toBe('RUNNING');
    expect(at4.divergence).toBeNull();
  });

  it('reports the first event whose recorded state differs (a tampered log)', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, v1, {}, { a: async () => ({}), b: async () => ({}) });
    const events = structuredClone(await e.events(view.runId));
    events[2]!.state = { ...events[2]!.state, hash: 'deadbeefdeadbeef' };
    const report = replayRun(events);
    expect(report.divergence).toMatchObject({ seq: 3, type: 'task.completed', recorded: { hash: 'deadbeefdeadbeef' } });
  });

  it('reports an event the machine cannot accept', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, v1, {}, { a: async () => ({}), b: async () => ({}) });
    const events = structuredClone(await e.events(view.runId));
    const bogus = { ...events[2]!, seq: 3, data: { task: 'a', attempt: 7, output: {} } } as (typeof events)[number];
    const report = replayRun([events[0]!, events[1]!, bogus]);
    expect(report.divergence?.reason).toMatch(/not accepted: .*attempt 7.*IN_PROGRESS at attempt 1/);
  });

  it('tells whether a new definition version could take over a recorded run', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, v1, {}, { a: async () => ({}), b: async () => ({}) });
    const added = def(`
workflow:
  id: evolve
  name: Evolve
  version: 2
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
    - { id: c, type: SIMPLE, depends_on: [b] }
`);
    const reordered = def(`
workflow:
  id: evolve
  name: Evolve
  version: 3
  tasks:
    - { id: a, type: SIMPLE, depends_on: [b] }
    - { id: b, type: SIMPLE }
`);
    expect((await e.replay(view.runId, { candidate: added })).candidate).toMatchObject({
      compatible: true,
      version: 2,
    });
    const bad = (await e.replay(view.runId, { candidate: reordered })).candidate!;
    expect(bad.compatible).toBe(false);
    expect(bad.divergence?.seq).toBe(1);
  });

  it('folds a 2,000-event history to the same state the live run reached', async () => {
    const { engine: e } = engine();
    const d = def(`
workflow:
  id: long
  name: Long
  version: 1
  tasks:
    - id: t
      type: SIMPLE
      retry_policy: { max_attempts: 700, backoff: fixed, initial_delay: 1ms }
`);
    const view = await runToIdle(
      e,
      d,
      {},
      {
        t: async (_i, ctx) => {
          if (ctx.attempt < 667) throw new Error('again');
          return { done: ctx.attempt };
        },
      },
    );
    const events = await e.events(view.runId);
    expect(events.length).toBeGreaterThan(2000);
    expect(foldEvents(events).snapshot.context.tasks.t!.attempts).toBe(667);
  }, 60_000);

  it('resumes an interrupted run: the attempt in flight runs again with the same idempotency key; completed tasks never run again', async () => {
    const { engine: e } = engine();
    const calls: string[] = [];
    const runId = await e.start(v1, {});
    const first = e.drive(runId, {
      handlers: {
        a: async (_i, ctx) => {
          calls.push(`a:${ctx.idempotencyKey}`);
          return {};
        },
        b: (_i, ctx) => {
          calls.push(`b:${ctx.idempotencyKey}`);
          return new Promise(() => {});
        },
      },
      maxTimerWaitMs: 0,
    });
    void first;
    // b's start is durable before its handler is called (write-ahead): once b runs, the log holds the attempt in flight.
    await waitFor('the first process to be running b', () => calls.some((c) => c.startsWith('b:')));
    // A second process resumes (the first one is as good as dead: its handler never returns).
    const view = await e.drive(runId, {
      handlers: {
        a: async () => {
          calls.push('a-again');
          return {};
        },
        b: async (_i, ctx) => {
          calls.push(`b:${ctx.idempotencyKey}`);
          return {};
        },
      },
    });
    expect(view.status).toBe('COMPLETED');
    expect(calls).toEqual([`a:${runId}/a/1`, `b:${runId}/b/1`, `b:${runId}/b/1`]);
  });
});
