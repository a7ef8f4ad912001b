/**
 * Retry from failed: a new run of the failed run's recorded definition and
 * input that completes the tasks it can reuse without an attempt (the pure
 * step records task.started + task.completed marked `reused`), runs the rest,
 * and replays exactly from its own log. Retrying a failed run on an executor
 * (what is reused, what runs, what is refused) is the executor contract's
 * (test/executor/contract.ts); here, the step and a CANCELLED run's WAIT and HUMAN.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { retryPlan, startFold, step, type Handlers } from '../../src/runtime/index.js';
import { def, engine, expectReplayMatches } from '../helpers/engine.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

const routed = def(`
workflow:
  id: routed
  name: R
  version: 1
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [fetch], approvers: [alice] }
    - id: route
      type: DECISION
      depends_on: [sign]
      decision_param: "\${fetch.output.kind}"
      decision_cases:
        big: { next: [heavy] }
        default: { next: [light] }
    - { id: heavy, type: SIMPLE }
    - { id: light, type: SIMPLE }
    - { id: publish, type: SIMPLE, depends_on: [heavy, light] }
`);

describe('retry from failed', () => {
  it('the step completes reused tasks in dependency order without attempts and starts the failed task', () => {
    const compiled = compile(routed);
    const snapshot = startFold(compiled, {
      runId: 'r2',
      time: new Date(T0).toISOString(),
      input: {},
      retryOf: {
        runId: 'r1',
        outputs: {
          fetch: { kind: 'big' },
          sign: { decision: 'approved', by: 'alice', comment: null },
          heavy: { rows: 7 },
        },
      },
    });
    const s = step(compiled, snapshot, 1, [], T0);
    const reused = { runId: 'r1' };
    expect(s.events.map((e) => [e.type, e.data])).toEqual([
      ['task.started', { task: 'fetch', attempt: 1, reused }],
      ['task.completed', { task: 'fetch', attempt: 1, output: { kind: 'big' }, reused }],
      [
        'task.completed',
        { task: 'sign', attempt: 1, output: { decision: 'approved', by: 'alice', comment: null }, reused },
      ],
      ['task.started', { task: 'heavy', attempt: 1, reused }],
      ['task.completed', { task: 'heavy', attempt: 1, output: { rows: 7 }, reused }],
      ['task.started', { task: 'publish', attempt: 1 }],
    ]);
    // Only the task that was not reused runs: no handler is asked for the others.
    expect(
      s.effects.filter((e) => e.type === 'attempt.start').map((e) => e.type === 'attempt.start' && e.taskId),
    ).toEqual(['publish']);
    expect(s.snapshot.context.tasks.route!.decision?.case).toBe('big');
    expect(s.snapshot.context.tasks.light!.status).toBe('SKIPPED');
  });

  it('a DECISION re-evaluates from the reused outputs instead of being reused', () => {
    const compiled = compile(routed);
    // The same plan but fetch's reused output says another kind: the decision follows the output, not the old run.
    const snapshot = startFold(compiled, {
      runId: 'r2',
      time: new Date(T0).toISOString(),
      input: {},
      retryOf: {
        runId: 'r1',
        outputs: {
          fetch: { kind: 'small' },
          sign: { decision: 'approved', by: 'alice', comment: null },
          heavy: { rows: 7 },
        },
      },
    });
    const s = step(compiled, snapshot, 1, [], T0);
    expect(s.snapshot.context.tasks.route!.decision?.case).toBe('default');
    expect(s.snapshot.context.tasks.heavy!.status).toBe('SKIPPED');
    expect(
      s.effects.filter((e) => e.type === 'attempt.start').map((e) => e.type === 'attempt.start' && e.taskId),
    ).toEqual(['light']);
  });

  it('runs again every task downstream of one that runs again, and never reuses loop bodies', () => {
    const d = def(`
workflow:
  id: chain
  name: C
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a], optional: true }
    - { id: c, type: SIMPLE, depends_on: [b], trigger_rule: all_done }
    - { id: d, type: SIMPLE, depends_on: [c] }
`);
    const compiled = compile(d);
    let snap = startFold(compiled, { runId: 'r1', time: new Date(T0).toISOString(), input: {} });
    const feed = (events: Parameters<typeof step>[3]) => {
      snap = step(compiled, snap, 1, events, T0).snapshot;
    };
    const t = new Date(T0).toISOString();
    feed([]);
    feed([{ type: 'task.completed', time: t, data: { task: 'a', attempt: 1, output: 'A' } }]);
    feed([
      { type: 'task.failed', time: t, data: { task: 'b', attempt: 1, error: { message: 'no', retryable: false } } },
    ]);
    feed([{ type: 'task.completed', time: t, data: { task: 'c', attempt: 1, output: 'C' } }]);
    feed([
      { type: 'task.failed', time: t, data: { task: 'd', attempt: 1, error: { message: 'no', retryable: false } } },
    ]);
    expect(snap.context.tasks.c!.status).toBe('COMPLETED');
    // c completed, but after b, which failed and runs again: c runs again too.
    expect(retryPlan(compiled, snap)).toEqual({ a: 'A' });
  });

  it('retries a CANCELLED run: a WAIT that got its signal is reused, the approval nobody gave is asked for again', async () => {
    const d = def(`
workflow:
  id: waits
  name: W
  version: 1
  tasks:
    - { id: ack, type: WAIT, event: acknowledged }
    - { id: sign, type: HUMAN, depends_on: [ack], approvers: [alice] }
    - { id: ship, type: SIMPLE, depends_on: [sign] }
`);
    const { engine: e } = engine();
    const handlers: Handlers = { ship: async () => ({ shipped: true }) };
    const first = await e.run(d, {}, { handlers, maxTimerWaitMs: 0 });
    await e.signal(first.runId, 'acknowledged', { data: { by: 'ops' } });
    expect((await e.drive(first.runId, { handlers, maxTimerWaitMs: 0 })).tasks.sign!.status).toBe('PENDING_APPROVAL');
    await e.cancel(first.runId, { reason: 'wrong batch' });

    const retryId = await e.retry(first.runId);
    const waiting = await e.drive(retryId, { handlers, maxTimerWaitMs: 0 });
    expect(waiting.status).toBe('WAITING');
    expect(waiting.tasks.ack).toMatchObject({ status: 'COMPLETED', output: { by: 'ops' } });
    expect(waiting.tasks.sign!.status).toBe('PENDING_APPROVAL');
    await e.decide(retryId, 'sign', 'approved', 'alice');
    const done = await e.drive(retryId, { handlers, maxTimerWaitMs: 0 });
    expect(done.status).toBe('COMPLETED');
    await expectReplayMatches(e, done);
  });
});
