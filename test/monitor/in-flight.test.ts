/**
 * The notice `ledgerflow run` prints while attempts run long (LEDGERFLOW_WAIT_NOTICE): each attempt with its own
 * timeout. A MAP's items each have a timeout timer of their own (`<task>[i]/timeout/<attempt>`); the notice took the
 * first timer of the task with the same attempt, so every item said the first item's time.
 */
import { describe, expect, it } from 'vitest';
import { InFlightNotices } from '../../src/monitor/in-flight.js';
import type { RunSnapshot } from '../../src/runtime/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const item = (status: string) => ({
  value: 0,
  status,
  attempts: 1,
  startedAt: at(0),
  completedAt: null,
  output: null,
  error: null,
});

const snapshot = {
  status: 'active',
  context: {
    runId: 'r1',
    tasks: {
      fan: {
        status: 'IN_PROGRESS',
        attempts: 1,
        startedAt: at(0),
        completedAt: null,
        output: null,
        error: null,
        items: [item('COMPLETED'), item('IN_PROGRESS'), item('IN_PROGRESS'), item('PENDING')],
      },
    },
    timers: {
      'fan[1]/timeout/1': { id: 'fan[1]/timeout/1', task: 'fan', kind: 'timeout', attempt: 1, dueAt: at(100), item: 1 },
      'fan[2]/timeout/1': { id: 'fan[2]/timeout/1', task: 'fan', kind: 'timeout', attempt: 1, dueAt: at(300), item: 2 },
    },
  },
} as unknown as RunSnapshot;

describe('the notice of attempts running long', () => {
  it("names each MAP item in progress with its own timeout's time", () => {
    const notices = new InFlightNotices(() => {}, '30s');
    notices.observe(snapshot, at(0));
    const lines = notices.lines(T0 + 40_000);
    expect(lines).toEqual([
      '… still waiting for fan[1] of run r1 (attempt 1, running 40s; times out in 1m00s)',
      '… still waiting for fan[2] of run r1 (attempt 1, running 40s; times out in 4m20s)',
    ]);
  });
});
