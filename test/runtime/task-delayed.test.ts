/**
 * `task.delayed` (docs/limits.md#circuit-breakers): the audit record of an attempt an open breaker holds. It is
 * committed like any input but changes no state: the attempt stays SCHEDULED with no effect, the recorded state is
 * the one before, and a run with it replays as one without it. A settled run takes none.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import {
  delayedByBreaker,
  reconcile,
  recordedState,
  rejectionReason,
  startFold,
  step,
  type RunSnapshot,
} from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const guarded = compile(
  def(`
workflow:
  id: guarded
  tasks:
    - { id: charge, type: SIMPLE, breaker: { failures: 1, window: 1m, open_for: 30s } }
`),
);

describe('task.delayed', () => {
  it('is recorded with the state before it, and starts, stops or changes nothing', () => {
    const first = step(guarded, startFold(guarded, { runId: 'r1', time: at(0), input: {} }), 1, [], T0);
    // A task held to a breaker waits for its gate: SCHEDULED, with an attempt.wait.
    expect(first.snapshot.context.tasks.charge!.status).toBe('SCHEDULED');
    expect(reconcile(guarded, first.snapshot).map((e) => e.type)).toEqual(['attempt.wait']);
    const delayed = delayedByBreaker({ ref: { task: 'charge' }, attempt: 1 }, 'task/guarded/charge', at(30_000), at(5));
    const s = step(guarded, first.snapshot, first.seq, [delayed], T0 + 5);
    expect(s.events).toHaveLength(1);
    expect(s.events[0]).toMatchObject({
      seq: first.seq + 1,
      type: 'task.delayed',
      data: { task: 'charge', attempt: 1, reason: 'breaker_open', breaker: 'task/guarded/charge', until: at(30_000) },
    });
    expect(s.events[0]!.state).toEqual(recordedState(first.snapshot));
    expect(s.snapshot.context).toEqual(first.snapshot.context);
    expect(s.effects).toEqual([]);
  });

  it('a history with it replays to the state of the same history without it', () => {
    const start = startFold(guarded, { runId: 'r1', time: at(0), input: {} });
    const a = step(guarded, start, 1, [], T0);
    const held = step(
      guarded,
      a.snapshot,
      a.seq,
      [delayedByBreaker({ ref: { task: 'charge' }, attempt: 1 }, 'task/guarded/charge', undefined, at(5))],
      T0 + 5,
    );
    const granted = { type: 'task.started' as const, time: at(10), data: { task: 'charge', attempt: 1 } };
    const withIt = step(guarded, held.snapshot, held.seq, [granted], T0 + 10);
    const without = step(guarded, a.snapshot, a.seq, [granted], T0 + 10);
    expect(withIt.snapshot.context).toEqual(without.snapshot.context);
    expect(withIt.events.at(-1)!.state).toEqual(without.events.at(-1)!.state);
  });

  it('a settled run takes none, saying why', () => {
    const a = step(guarded, startFold(guarded, { runId: 'r1', time: at(0), input: {} }), 1, [], T0);
    const cancelled: RunSnapshot = step(
      guarded,
      a.snapshot,
      a.seq,
      [{ type: 'run.cancelled', time: at(3), data: {} }],
      T0 + 3,
    ).snapshot;
    const ev = delayedByBreaker({ ref: { task: 'charge' }, attempt: 1 }, 'task/guarded/charge', undefined, at(5));
    const s = step(guarded, cancelled, a.seq + 1, [ev], T0 + 5);
    expect(s.events).toEqual([]);
    expect(rejectionReason(cancelled, ev)).toBe('the run is already CANCELLED');
  });
});
