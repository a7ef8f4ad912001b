import { describe, expect, it } from 'vitest';
import { between, duration, runDuration, triggerText } from '../../../src/server/web/format.js';

describe('how the dashboard writes durations and triggers', () => {
  it('writes durations at a scale people read', () => {
    expect([
      duration(null),
      duration(12),
      duration(2_345),
      duration(75_000),
      duration(3 * 3600_000 + 60_000),
      duration(50 * 3600_000),
    ]).toEqual(['—', '12 ms', '2.35 s', '1m 15s', '3h 1m', '2d 2h']);
    expect(between('2026-01-01T00:00:00Z', null, Date.parse('2026-01-01T00:00:02Z'))).toBe(2000);
  });

  it("gives a run one duration on the runs list and on its page: a waiting run's from its start to now, so far; a settled one's to its end", () => {
    const now = Date.parse('2026-01-01T00:01:15Z');
    // The same waiting run as GET /api/runs lists it (its record) and as GET /api/runs/:id shows it (its view).
    const record = {
      runId: 'r1',
      status: 'WAITING',
      startedAt: '2026-01-01T00:00:00Z',
      completedAt: null,
      durationMs: null,
    };
    const view = {
      runId: 'r1',
      status: 'WAITING',
      startedAt: '2026-01-01T00:00:00Z',
      completedAt: null,
      seq: 3,
      tasks: {},
    };
    expect(runDuration(record, now)).toBe('1m 15s so far');
    expect(runDuration(view, now)).toBe(runDuration(record, now));
    expect(
      runDuration({ status: 'COMPLETED', startedAt: '2026-01-01T00:00:00Z', completedAt: '2026-01-01T00:00:02Z' }, now),
    ).toBe('2.00 s');
    expect(runDuration({ status: 'QUEUED', startedAt: null, completedAt: null }, now)).toBe('—');
  });

  it('names what started a run', () => {
    expect(triggerText({ kind: 'event', type: 'crm.lead.created', id: 'ev-1' })).toBe('event crm.lead.created (ev-1)');
    expect(triggerText({ kind: 'schedule', slot: '2026-01-01T09:00:00Z' })).toBe('schedule 2026-01-01T09:00:00Z');
    expect(triggerText({ kind: 'parent', runId: 'r1', relation: 'failure' })).toBe('failure of r1');
    expect(triggerText({ kind: 'retry', runId: 'r2' })).toBe('retry of r2');
    expect(triggerText({ kind: 'manual' })).toBe('manual');
  });
});
