/**
 * Circuit breakers over a store's shared documents (src/limits/breaker-gate.ts), on an injected clock: the
 * outcomes a commit records open it, attempts wait while it is open and say which breaker holds them, one probe is
 * let through once `open_for` has passed, and its outcome closes or re-opens it. The same code runs on both stores.
 */
import { describe, expect, it } from 'vitest';
import {
  askAttemptGate,
  breakerReport,
  listBreakers,
  recordBreakerOutcomes,
  setBreaker,
} from '../../src/limits/index.js';
import { compile } from '../../src/compiler/index.js';
import { breakerOutcomes, type BreakerOutcome, type GatePart, type WaitAttempt } from '../../src/runtime/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { def } from '../helpers/engine.js';

const spec = { failures: 2, windowMs: 60_000, openForMs: 30_000 };
const NAME = 'task/w/t';
const part: GatePart = { name: NAME, owner: 'task', of: 't', breaker: spec };
const wait = (runId: string): WaitAttempt => ({
  type: 'attempt.wait',
  runId,
  workflowId: 'w',
  taskId: 't',
  instance: 't',
  attempt: 1,
  gate: { parts: [part] },
  priority: 50,
});
const outcome = (runId: string, ok: boolean): BreakerOutcome => ({
  gate: NAME,
  holder: `${runId}/t/1`,
  ok,
  breaker: spec,
});

describe('circuit breakers over shared documents', () => {
  it('opens on its failures, holds attempts saying which breaker and until when, lets one probe through after open_for, closes on its success', async () => {
    const store = new MemoryEventStore();
    const t = { now: 1_000 };
    const now = () => t.now;
    expect(await askAttemptGate(store, wait('a'), now)).toEqual({ granted: true, at: 1_000 });
    expect(await recordBreakerOutcomes(store, [outcome('a', false)], now)).toEqual([]);
    t.now = 2_000;
    expect(await recordBreakerOutcomes(store, [outcome('b', false)], now)).toEqual([{ gate: NAME, change: 'opened' }]);
    expect(await listBreakers(store)).toEqual([NAME]);
    t.now = 3_000;
    expect(await askAttemptGate(store, wait('c'), now)).toEqual({
      granted: false,
      retryInMs: 1000,
      breaker: { name: NAME, until: 32_000 },
    });
    t.now = 32_000;
    expect(await askAttemptGate(store, wait('c'), now)).toEqual({ granted: true, at: 32_000 });
    expect(await askAttemptGate(store, wait('d'), now)).toMatchObject({ granted: false, breaker: { name: NAME } });
    expect((await breakerReport(store, NAME, t.now)).state).toBe('half_open');
    expect(await recordBreakerOutcomes(store, [outcome('c', true)], now)).toEqual([{ gate: NAME, change: 'closed' }]);
    expect(await askAttemptGate(store, wait('d'), now)).toEqual({ granted: true, at: 32_000 });
  });

  it('a failed probe opens it again for open_for', async () => {
    const store = new MemoryEventStore();
    const t = { now: 0 };
    const now = () => t.now;
    await recordBreakerOutcomes(store, [outcome('a', false), outcome('b', false)], now);
    t.now = 30_000;
    expect((await askAttemptGate(store, wait('p'), now)).granted).toBe(true);
    t.now = 31_000;
    expect(await recordBreakerOutcomes(store, [outcome('p', false)], now)).toEqual([
      { gate: NAME, change: 'reopened' },
    ]);
    expect(await askAttemptGate(store, wait('q'), now)).toMatchObject({ granted: false, breaker: { until: 61_000 } });
  });

  it("a probe whose run's log says it neither runs nor waits gives the probe to the next asker", async () => {
    const store = new MemoryEventStore();
    const t = { now: 0 };
    const now = () => t.now;
    await recordBreakerOutcomes(store, [outcome('a', false), outcome('b', false)], now);
    t.now = 30_000;
    // The probe's run has no log in this store: it is gone.
    expect((await askAttemptGate(store, wait('gone'), now)).granted).toBe(true);
    t.now = 31_000;
    expect((await askAttemptGate(store, wait('next'), now)).granted).toBe(false);
    t.now = 34_000;
    expect((await askAttemptGate(store, wait('next'), now)).granted).toBe(true);
  });

  it("an operator's open holds attempts with no half open; close lets them go and forgets the failures", async () => {
    const store = new MemoryEventStore();
    const now = () => 5_000;
    await recordBreakerOutcomes(store, [outcome('a', false)], now);
    expect(await setBreaker(store, NAME, 'open', 5_000)).toEqual({
      name: NAME,
      state: 'open',
      failures: 0,
      openedAt: new Date(5_000).toISOString(),
      by: 'operator',
    });
    expect(await askAttemptGate(store, wait('x'), () => 10 ** 9)).toEqual({
      granted: false,
      retryInMs: 1000,
      breaker: { name: NAME },
    });
    expect(await setBreaker(store, NAME, 'close', 6_000)).toEqual({
      name: NAME,
      state: 'closed',
      failures: 0,
      by: 'operator',
    });
    expect((await askAttemptGate(store, wait('x'), now)).granted).toBe(true);
  });
});

describe('breakerOutcomes', () => {
  const compiled = compile(
    def(`
workflow:
  id: w
  tasks:
    - { id: t, type: SIMPLE, breaker: { failures: 2, window: 1m, open_for: 30s }, timeout: 5s }
    - { id: u, type: SIMPLE }
`),
  );
  const ev = (type: string, data: Record<string, unknown>) => ({ type, data }) as unknown as EventEnvelope;

  it('counts completions as successes, failures and attempt timeouts as failures, of tasks held to a breaker only', () => {
    expect(
      breakerOutcomes(compiled, 'r', [
        ev('task.completed', { task: 't', attempt: 1, output: {} }),
        ev('task.failed', { task: 't', attempt: 2, error: { message: 'x' } }),
        ev('timer.fired', { task: 't', attempt: 3, timer: 'timeout' }),
        ev('timer.fired', { task: 't', attempt: 3, timer: 'backoff' }),
        ev('task.failed', { task: 'u', attempt: 1, error: { message: 'x' } }),
      ]),
    ).toEqual([
      { gate: 'task/w/t', holder: 'r/t/1', ok: true, breaker: { failures: 2, windowMs: 60_000, openForMs: 30_000 } },
      { gate: 'task/w/t', holder: 'r/t/2', ok: false, breaker: { failures: 2, windowMs: 60_000, openForMs: 30_000 } },
      { gate: 'task/w/t', holder: 'r/t/3', ok: false, breaker: { failures: 2, windowMs: 60_000, openForMs: 30_000 } },
    ]);
  });
});
