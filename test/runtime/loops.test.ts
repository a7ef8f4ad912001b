/**
 * DO_WHILE on the embedded runtime: iterations, the loop's output, a limit,
 * a failing body, retries inside an iteration, late results of an earlier
 * iteration, and replay of every run.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import { applyEvent, startFold, type TaskContext } from '../../src/runtime/index.js';
import { def, engine, runToIdle, virtualClock } from '../helpers/engine.js';

const poll = (extra = '', body = '') => def(`
workflow:
  id: poll
  name: Poll until ready
  version: 1
  output: { ready_after: "\${wait_ready.output.iteration}", last: "\${check.output.ready}" }
  tasks:
    - { id: submit, type: SIMPLE }
    - id: wait_ready
      type: DO_WHILE
      depends_on: [submit]
      loop_over: [check, note]
      loop_condition: "check.output.ready == false"
      ${extra}
    - id: check
      type: SIMPLE
      input: { round: "\${wait_ready.output.iteration}", previous: "\${check.output.ready}" }
      ${body}
    - { id: note, type: SIMPLE, depends_on: [check], input: { seen: "\${check.output.n}" } }
    - { id: publish, type: SIMPLE, depends_on: [check], input: { ready: "\${check.output.ready}", rounds: "\${wait_ready.output.iterations}" } }
`);

/** A check that is ready on its `readyAt`-th call; every call's input and context are kept. */
function counting(readyAt: number) {
  const calls: { input: Record<string, unknown>; iteration?: number; key: string }[] = [];
  const notes: unknown[] = [];
  let published: Record<string, unknown> | undefined;
  const handlers = {
    submit: () => ({}),
    check: (input: Record<string, unknown>, ctx: TaskContext) => {
      calls.push({ input, iteration: ctx.iteration, key: ctx.idempotencyKey });
      return { ready: calls.length >= readyAt, n: calls.length };
    },
    note: (input: Record<string, unknown>) => { notes.push(input.seen); return { noted: input.seen }; },
    publish: (input: Record<string, unknown>) => { published = input; return {}; },
  };
  return { calls, notes, handlers, published: () => published };
}

describe('DO_WHILE', () => {
  it('runs its body until the condition is false: one iteration per round, the output of each, templates see the latest', async () => {
    const { engine: e } = engine();
    const c = counting(3);
    const view = await runToIdle(e, poll(), {}, c.handlers);
    expect(view.status).toBe('COMPLETED');
    expect(c.calls.map((x) => x.iteration)).toEqual([1, 2, 3]);
    expect(c.calls.map((x) => x.input)).toEqual([{ round: 1 }, { round: 2, previous: false }, { round: 3, previous: false }]);
    expect(c.calls.map((x) => x.key)).toEqual([`${view.runId}/check#1/1`, `${view.runId}/check#2/1`, `${view.runId}/check#3/1`]);
    expect(c.notes).toEqual([1, 2, 3]);
    expect(view.tasks.wait_ready).toMatchObject({
      status: 'COMPLETED',
      output: {
        iteration: 3,
        iterations: [
          { check: { ready: false, n: 1 }, note: { noted: 1 } },
          { check: { ready: false, n: 2 }, note: { noted: 2 } },
          { check: { ready: true, n: 3 }, note: { noted: 3 } },
        ],
      },
    });
    // A task after the loop that reads a body task waits for the loop, and sees the last iteration's output.
    expect(c.published()).toEqual({ ready: true, rounds: (view.tasks.wait_ready!.output as { iterations: unknown[] }).iterations });
    expect(view.output).toEqual({ ready_after: 3, last: true });
    const started = (await e.events(view.runId)).filter((ev) => ev.type === 'task.started' && ev.data.task === 'check').map((ev) => ev.data);
    expect(started).toEqual([{ task: 'check', attempt: 1, iteration: 1 }, { task: 'check', attempt: 1, iteration: 2 }, { task: 'check', attempt: 1, iteration: 3 }]);
  });

  it('fails with LF_LOOP_LIMIT, naming the limit, when the condition still holds after max_iterations', async () => {
    const { engine: e } = engine();
    const c = counting(99);
    const view = await runToIdle(e, poll('max_iterations: 4'), {}, c.handlers);
    expect(view.status).toBe('FAILED');
    expect(c.calls).toHaveLength(4);
    expect(view.tasks.wait_ready).toMatchObject({ status: 'FAILED', error: { code: 'LF_LOOP_LIMIT' } });
    expect(view.tasks.wait_ready!.error!.message).toContain('max_iterations (4)');
    expect(view.error).toMatchObject({ code: 'LF_LOOP_LIMIT', task: 'wait_ready' });
    expect(view.tasks.publish!.status).toBe('SKIPPED');
  });

  it('a required body task that fails fails the loop (and the run) with its error, naming the iteration', async () => {
    const { engine: e } = engine();
    let n = 0;
    const view = await runToIdle(e, poll('', 'retry_policy: { max_attempts: 1 }'), {}, {
      submit: () => ({}), note: () => ({}), publish: () => ({}),
      check: () => { if (++n === 2) throw new Error('probe broke'); return { ready: false }; },
    });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.wait_ready!.status).toBe('FAILED');
    expect(view.tasks.wait_ready!.error!.message).toContain('check#2 failed: probe broke');
    expect(view.error).toMatchObject({ task: 'wait_ready' });
    expect(view.tasks.check!.status).toBe('FAILED');
    expect(view.tasks.note!.status).toBe('SKIPPED');
  });

  it('retries a failed attempt inside its iteration only: attempts count afresh in the next iteration', async () => {
    const clock = virtualClock();
    const { engine: e } = engine({ clock });
    let n = 0;
    const seen: string[] = [];
    const view = await runToIdle(e, poll('', 'retry_policy: { max_attempts: 2, initial_delay: 1s }'), {}, {
      submit: () => ({}), note: () => ({}), publish: () => ({}),
      check: (_i: Record<string, unknown>, ctx: TaskContext) => {
        seen.push(`${ctx.iteration}/${ctx.attempt}`);
        if (++n === 2) throw new Error('flaky');
        return { ready: n >= 4 };
      },
    });
    expect(view.status).toBe('COMPLETED');
    expect(seen).toEqual(['1/1', '2/1', '2/2', '3/1']);
    const timers = (await e.events(view.runId)).filter((ev) => ev.type === 'timer.fired').map((ev) => ev.data);
    expect(timers).toEqual([{ task: 'check', timer: 'backoff', attempt: 1, iteration: 2 }]);
  });
});

describe('DO_WHILE in the fold', () => {
  const compiled = compile(poll());
  const T = '2026-01-01T00:00:00.000Z';
  const fold = (events: PendingEvent[]) => {
    let s = startFold(compiled, { runId: 'r', time: T, input: {} });
    const accepted: boolean[] = [];
    for (const ev of events) {
      const r = applyEvent(compiled, s, ev);
      accepted.push(r.accepted);
      s = r.snapshot;
    }
    return { s, accepted };
  };
  const ev = (type: string, data: Record<string, unknown>): PendingEvent => ({ type, time: T, data } as PendingEvent);

  it('refuses a late result of an earlier iteration: it is stale in the next one', () => {
    const { s, accepted } = fold([
      ev('task.started', { task: 'submit', attempt: 1 }),
      ev('task.completed', { task: 'submit', attempt: 1, output: {} }),
      ev('task.started', { task: 'check', attempt: 1, iteration: 1 }),
      ev('task.completed', { task: 'check', attempt: 1, iteration: 1, output: { ready: false } }),
      ev('task.started', { task: 'note', attempt: 1, iteration: 1 }),
      ev('task.completed', { task: 'note', attempt: 1, iteration: 1, output: {} }),
      ev('task.started', { task: 'check', attempt: 1, iteration: 2 }),
      // The same attempt number, of iteration 1: a duplicate delivered late.
      ev('task.completed', { task: 'check', attempt: 1, iteration: 1, output: { ready: true } }),
      // No iteration at all: not this instance either.
      ev('task.completed', { task: 'check', attempt: 1, output: { ready: true } }),
    ]);
    expect(accepted).toEqual([true, true, true, true, true, true, true, false, false]);
    expect(s.context.tasks.check).toMatchObject({ status: 'IN_PROGRESS', iteration: 2, attempts: 1, output: { ready: false } });
    expect(s.context.tasks.wait_ready).toMatchObject({ status: 'IN_PROGRESS', iteration: 2, attempts: 0, output: { iteration: 2, iterations: [{ check: { ready: false }, note: {} }] } });
    expect(s.value).toEqual({ running: { submit: 'done', wait_ready: 'looping', check: 'running', note: 'pending', publish: 'pending' } });
  });
});
