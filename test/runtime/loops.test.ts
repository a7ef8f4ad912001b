/**
 * DO_WHILE in the fold: a late result of an earlier iteration is stale.
 * Running loops (iterations, the loop's output, a limit, a failing body,
 * retries inside an iteration) is the executor contract's
 * (test/executor/contract.ts), on the local engine and on NATS.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import { applyEvent, startFold } from '../../src/runtime/index.js';
import { pollUntilReady } from '../executor/scenarios/kit.js';
import { def } from '../helpers/engine.js';

describe('DO_WHILE in the fold', () => {
  const compiled = compile(def(pollUntilReady));
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
  const ev = (type: string, data: Record<string, unknown>): PendingEvent => ({ type, time: T, data }) as PendingEvent;

  it('refuses a late result of an earlier iteration: it is stale in the next one', () => {
    const { s, accepted } = fold([
      ev('task.started', { task: 'submit', attempt: 1 }),
      ev('task.completed', { task: 'submit', attempt: 1, output: {} }),
      ev('task.started', { task: 'check', attempt: 1, iteration: 1 }),
      ev('task.completed', { task: 'check', attempt: 1, iteration: 1, output: { round: 1 } }),
      ev('task.started', { task: 'note', attempt: 1, iteration: 1 }),
      ev('task.completed', { task: 'note', attempt: 1, iteration: 1, output: {} }),
      ev('task.started', { task: 'check', attempt: 1, iteration: 2 }),
      // The same attempt number, of iteration 1: a duplicate delivered late.
      ev('task.completed', { task: 'check', attempt: 1, iteration: 1, output: { round: 3 } }),
      // No iteration at all: not this instance either.
      ev('task.completed', { task: 'check', attempt: 1, output: { round: 3 } }),
    ]);
    expect(accepted).toEqual([true, true, true, true, true, true, true, false, false]);
    expect(s.context.tasks.check).toMatchObject({
      status: 'IN_PROGRESS',
      iteration: 2,
      attempts: 1,
      output: { round: 1 },
    });
    expect(s.context.tasks.wait_ready).toMatchObject({
      status: 'IN_PROGRESS',
      iteration: 2,
      attempts: 0,
      output: { iteration: 2, iterations: [{ check: { round: 1 }, note: {} }] },
    });
    expect(s.value).toEqual({
      running: {
        submit: 'done',
        wait_ready: 'looping',
        check: 'running',
        note: 'pending',
        publish: 'pending',
        route: 'pending',
        announce: 'pending',
      },
    });
  });
});
