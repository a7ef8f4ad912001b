/**
 * A run QUEUED for a concurrency slot has not begun (docs/limits.md, "Concurrency limits and
 * priority"): until run.admitted no approval, signal or WAIT timer moves it, only its own
 * `timeout:` counts the queued time, and its admission moves its timers on by the time it waited.
 * Runs queued before `holds` was recorded fold as they did: their logs are a contract.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import {
  applyEvent,
  reconcile,
  reviewApproval,
  reviewSignal,
  runStatus,
  startFold,
  type RunSnapshot,
} from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';

const T0 = '2026-01-01T09:00:00.000Z';
const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();

const compiled = compile(
  def(`
workflow:
  id: held
  version: 1
  timeout: 1h
  concurrency: { limit: 1 }
  tasks:
    - { id: nap, type: WAIT, duration: 10s }
    - { id: gate, type: WAIT, event: go }
    - { id: review, type: HUMAN, approvers: [ops] }
`),
);

function queued(holds: boolean): RunSnapshot {
  const s = startFold(compiled, { runId: 'r', time: T0, input: {}, stateHashVersion: 2 });
  const ev: PendingEvent = {
    type: 'run.queued',
    time: T0,
    data: { priority: 50, key: null, limit: 1, ...(holds ? { holds: true as const } : {}) },
  };
  const r = applyEvent(compiled, s, ev);
  expect(r.accepted).toBe(true);
  return r.snapshot;
}

const napFired = (s: number): PendingEvent => ({
  type: 'timer.fired',
  time: at(s),
  data: { task: 'nap', attempt: 1, timer: 'wait' },
});
const approved = (s: number): PendingEvent => ({
  type: 'approval.recorded',
  time: at(s),
  data: { task: 'review', decision: 'approved', by: 'ops' },
});

describe('a QUEUED run holds until it is admitted', () => {
  it('takes no WAIT timer, approval or signal while queued, and says why', () => {
    const s = queued(true);
    expect(runStatus(s)).toBe('QUEUED');
    expect(applyEvent(compiled, s, napFired(10)).accepted).toBe(false);
    expect(applyEvent(compiled, s, approved(5)).accepted).toBe(false);
    const approval = reviewApproval(compiled, s, { taskId: 'review', decision: 'approved', by: 'ops', time: at(5) });
    expect(approval).toMatchObject({
      accepted: false,
      reason: expect.stringMatching(/QUEUED for a concurrency slot and has not begun/),
    });
    const signal = reviewSignal(compiled, s, { name: 'go', time: at(5) });
    expect(signal).toMatchObject({ accepted: false, reason: expect.stringMatching(/QUEUED for a concurrency slot/) });
  });

  it('arms only its own timeout while queued; admission arms the WAIT for its full duration from then', () => {
    const s = queued(true);
    const armed = reconcile(compiled, s)
      .filter((e) => e.type === 'timer.arm')
      .map((e) => (e.type === 'timer.arm' ? e.timer : null));
    expect(armed).toEqual([expect.objectContaining({ task: '$run', kind: 'run_timeout', dueAt: at(3600) })]);
    // Admitted 5 minutes later: the nap is due 10 s after that; the run's timeout is not moved.
    const admitted = applyEvent(compiled, s, { type: 'run.admitted', time: at(300), data: {} });
    expect(admitted.accepted).toBe(true);
    expect(runStatus(admitted.snapshot)).toBe('WAITING');
    const after = reconcile(compiled, admitted.snapshot).flatMap((e) => (e.type === 'timer.arm' ? [e.timer] : []));
    expect(after.map((t) => [t.task, t.dueAt]).sort()).toEqual([
      ['$run', at(3600)],
      ['nap', at(310)],
    ]);
    expect(admitted.snapshot.context.timers['nap/wait/1']?.dueAt).toBe(at(310));
    expect(applyEvent(compiled, admitted.snapshot, napFired(310)).accepted).toBe(true);
    expect(applyEvent(compiled, admitted.snapshot, approved(301)).accepted).toBe(true);
  });

  it('cancel and its own timeout end a queued run', () => {
    const s = queued(true);
    const cancelled = applyEvent(compiled, s, { type: 'run.cancelled', time: at(60), data: { by: 'ops' } });
    expect(cancelled.accepted).toBe(true);
    expect(runStatus(cancelled.snapshot)).toBe('CANCELLED');
    const timedOut = applyEvent(compiled, s, {
      type: 'timer.fired',
      time: at(3600),
      data: { task: '$run', attempt: 1, timer: 'run_timeout' },
    });
    expect(timedOut.accepted).toBe(true);
    expect(runStatus(timedOut.snapshot)).toBe('FAILED');
  });

  it('a run queued before `holds` was recorded folds as its log says: its WAIT fired and its approval was taken while queued', () => {
    const s = queued(false);
    expect(applyEvent(compiled, s, napFired(10)).accepted).toBe(true);
    expect(applyEvent(compiled, s, approved(5)).accepted).toBe(true);
    const admitted = applyEvent(compiled, s, { type: 'run.admitted', time: at(300), data: {} }).snapshot;
    expect(admitted.context.timers['nap/wait/1']?.dueAt).toBe(at(10));
  });
});
