import { describe, expect, it } from 'vitest';
import { attemptsOf, decisionsOf, summarize, type PageEvent } from '../../../src/server/web/run-history.js';

const ev = (seq: number, type: string, data: unknown): PageEvent => ({
  seq,
  time: `2026-01-01T00:00:0${seq}.000Z`,
  type: type as PageEvent['type'],
  data,
  state: { status: 'RUNNING', hash: 'h' },
});

describe('what the run page reads from events', () => {
  const events = [
    ev(1, 'run.started', { definition: {}, definitionHash: 'x', input: {}, source: { event: 'evt-1' } }),
    ev(2, 'task.started', { task: 'fetch', attempt: 1 }),
    ev(3, 'task.failed', { task: 'fetch', attempt: 1, error: { message: 'timeout', retryable: true }, by: 'worker' }),
    ev(4, 'task.started', { task: 'fetch', attempt: 2 }),
    ev(5, 'task.completed', { task: 'fetch', attempt: 2, output: { n: 1 } }),
    ev(6, 'approval.refused', { task: 'ok', decision: 'approved', by: 'bob', reason: 'not an approver' }),
    ev(7, 'approval.recorded', { task: 'ok', decision: 'approved', by: 'alice', comment: 'fine' }),
  ];

  it('lists each attempt of a task with its outcome, error and reporter', () => {
    expect(attemptsOf(events, 'fetch')).toEqual([
      {
        attempt: 1,
        startedAt: events[1]!.time,
        endedAt: events[2]!.time,
        outcome: 'failed',
        error: 'timeout',
        by: 'worker',
      },
      { attempt: 2, startedAt: events[3]!.time, endedAt: events[4]!.time, outcome: 'completed' },
    ]);
  });

  it('says who approved, and who was refused and why', () => {
    expect(decisionsOf(events, 'ok')).toEqual([
      { decision: 'approved', by: 'bob', time: events[5]!.time, refused: 'not an approver' },
      { decision: 'approved', by: 'alice', time: events[6]!.time, comment: 'fine' },
    ]);
  });

  it('summarizes events in a line, keeping text as text', () => {
    expect(summarize(events[2]!)).toBe('fetch failed: timeout by worker');
    expect(summarize(events[6]!)).toBe('ok approved by alice: “fine”');
    expect(summarize(ev(8, 'run.cancelled', { by: 'alice', reason: '<b>stop</b>' }))).toBe(
      'cancelled by alice: <b>stop</b>',
    );
  });
});
