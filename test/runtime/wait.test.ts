/**
 * WAIT (docs/constructs.md, "WAIT"): the fold keeps a signal sent early and
 * refuses one nobody waits for; the driver fires duration waits on its clock, at the
 * exact time. Signals, `until` and event timeouts driven by an executor are the
 * executor contract's (test/executor/contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import { applyEvent, prepareCommit, reviewSignal, startFold, type RunSnapshot } from '../../src/runtime/index.js';
import { def, engine, runToIdle, virtualClock } from '../helpers/engine.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const signalled = def(`
workflow:
  id: signalled
  name: Signalled
  version: 1
  tasks:
    - id: prepare
      type: SIMPLE
    - id: go
      type: WAIT
      depends_on: [prepare]
      event: go_ahead
    - id: also
      type: WAIT
      depends_on: [prepare]
      event: go_ahead
    - id: finish
      type: SIMPLE
      depends_on: [go, also]
      input: { said: "\${go.output.said}" }
`);

function fold(d = signalled, events: PendingEvent[]): { snap: RunSnapshot; stale: string[] } {
  const compiled = compile(d);
  const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
  const c = prepareCommit(compiled, start, 1, events, T0 + 1000);
  return { snap: c.snapshot, stale: c.stale.map((s) => s.reason) };
}
const signal = (ms: number, data?: unknown): PendingEvent => ({
  type: 'signal.received',
  time: at(ms),
  data: { name: 'go_ahead', ...(data !== undefined ? { data } : {}) },
});
const prepared: PendingEvent[] = [
  { type: 'task.started', time: at(1), data: { task: 'prepare', attempt: 1 } },
  { type: 'task.completed', time: at(2), data: { task: 'prepare', attempt: 1, output: {} } },
];

describe('WAIT on an event (fold)', () => {
  it('keeps a signal sent before the WAIT is reached, and every WAIT of that name completes with its data on entering', () => {
    const { snap, stale } = fold(signalled, [
      { type: 'task.started', time: at(1), data: { task: 'prepare', attempt: 1 } },
      signal(2, { said: 'yes' }),
      { type: 'task.completed', time: at(3), data: { task: 'prepare', attempt: 1, output: {} } },
    ]);
    expect(stale).toEqual([]);
    expect(snap.context.tasks.go).toMatchObject({ status: 'COMPLETED', output: { said: 'yes' } });
    expect(snap.context.tasks.also).toMatchObject({ status: 'COMPLETED', output: { said: 'yes' } });
    expect(snap.context.tasks.go!.signal).toBeUndefined();
    expect(snap.context.tasks.finish!.status).toBe('IN_PROGRESS');
  });

  it('waits (status WAITING) until the signal comes; a second signal once all have taken one is stale', () => {
    const waiting = fold(signalled, prepared);
    expect(waiting.snap.context.tasks.go!.status).toBe('WAITING');
    const compiled = compile(signalled);
    const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
    const c1 = prepareCommit(compiled, start, 1, prepared, T0 + 10);
    expect(c1.events.at(-1)!.state.status).toBe('WAITING');
    const c2 = prepareCommit(compiled, c1.snapshot, c1.seq, [signal(20, 7)], T0 + 30);
    expect(c2.snapshot.context.tasks.go).toMatchObject({ status: 'COMPLETED', output: 7 });
    const late = prepareCommit(compiled, c2.snapshot, c2.seq, [signal(40, 8)], T0 + 50);
    expect(late.stale).toHaveLength(1);
    expect(late.events).toEqual([]);
    expect(reviewSignal(compiled, c2.snapshot, { name: 'go_ahead', time: at(40) })).toMatchObject({
      accepted: false,
      reason: expect.stringContaining('go is COMPLETED'),
    });
    expect(reviewSignal(compiled, c2.snapshot, { name: 'nope', time: at(40) })).toMatchObject({
      accepted: false,
      reason: expect.stringContaining('no WAIT for signal "nope"'),
    });
  });

  it('keeps only the first early signal: a second one before the WAIT is reached is refused', () => {
    const compiled = compile(signalled);
    const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
    const first = applyEvent(compiled, start, signal(1, 'a'));
    expect(first.accepted).toBe(true);
    expect(applyEvent(compiled, first.snapshot, signal(2, 'b')).accepted).toBe(false);
  });

  it("with a level (a users file), a WAIT without from: takes its signal from the starter and L1+ only; one allowed by another WAIT's from: names the WAITs that take it", () => {
    const mixed = def(`
workflow:
  id: mixed
  tasks:
    - { id: open, type: WAIT, event: go_ahead }
    - { id: named, type: WAIT, event: go_ahead, from: [carol] }
`);
    const compiled = compile(mixed);
    const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
    const ask = (by: string, level?: 'L1' | 'L2', starter?: string) =>
      reviewSignal(compiled, start, {
        name: 'go_ahead',
        time: at(1),
        by,
        ...(level ? { level } : {}),
        ...(starter ? { starter } : {}),
      });
    // No level (no users file): as before, anyone (open takes it; named only from carol).
    expect(ask('bob')).toMatchObject({ accepted: true });
    // bob, L2, not the starter: neither WAIT takes it.
    expect(ask('bob', 'L2', 'alice')).toMatchObject({
      accepted: false,
      reason: expect.stringContaining(
        'only from carol; or the person who started the run and L1 (CMD.BRIDGE) or higher',
      ),
    });
    expect(ask('alice', 'L2', 'alice')).toMatchObject({ accepted: true });
    expect(ask('dave', 'L1', 'alice')).toMatchObject({ accepted: true });
    // carol, L2, not the starter: named takes it, open does not (the event says so, and the fold keeps to it).
    const carol = ask('carol', 'L2', 'alice');
    expect(carol.accepted).toBe(true);
    if (!carol.accepted) return;
    expect(carol.event.data.waits).toEqual(['named']);
    expect(carol.snapshot.context.tasks.named).toMatchObject({ status: 'COMPLETED' });
    expect(carol.snapshot.context.tasks.open!.status).not.toBe('COMPLETED');
    expect(carol.snapshot.context.tasks.open!.signal).toBeUndefined();
    // One every WAIT of the name takes (alice, the starter, is in no from: but named's): no list, as in every history before.
    expect(
      ask('carol', 'L1').accepted && (ask('carol', 'L1') as { event: { data: { waits?: unknown } } }).event.data.waits,
    ).toBeUndefined();
  });

  it('times out an event wait (TIMED_OUT fails the run) or skips it with on_timeout: skip', () => {
    for (const [onTimeout, task, runStatus] of [
      ['fail', 'TIMED_OUT', 'failed'],
      ['skip', 'SKIPPED', 'completed'],
    ] as const) {
      const d = def(`
workflow:
  id: bounded
  name: Bounded
  version: 1
  tasks:
    - id: w
      type: WAIT
      event: ping
      timeout: 1m
      on_timeout: ${onTimeout}
`);
      const compiled = compile(d);
      const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
      expect(start.context.timers['w/timeout/1']).toMatchObject({ kind: 'timeout', dueAt: at(60_000) });
      const c = prepareCommit(
        compiled,
        start,
        1,
        [{ type: 'timer.fired', time: at(60_000), data: { task: 'w', timer: 'timeout', attempt: 1 } }],
        T0 + 60_000,
      );
      expect(c.snapshot.context.tasks.w!.status).toBe(task);
      expect(c.snapshot.value).toBe(runStatus);
    }
  });
});

describe('WAIT on the clock (driver)', () => {
  it('a duration wait fires on the clock and completes with the time it waited until', async () => {
    const clock = virtualClock();
    const { engine: e, store } = engine({ clock });
    const d = def(`
workflow:
  id: nap
  name: Nap
  version: 1
  tasks:
    - id: nap
      type: WAIT
      duration: 10m
    - id: after
      type: SIMPLE
      depends_on: [nap]
`);
    const started = clock.now();
    const view = await runToIdle(e, d, {}, { after: async () => ({ ok: true }) }, 3_600_000);
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.nap).toMatchObject({
      status: 'COMPLETED',
      output: { waitedUntil: new Date(started + 600_000).toISOString() },
    });
    const events = await store.read(view.runId);
    expect(events.filter((ev) => ev.type === 'timer.fired').map((ev) => ev.data)).toEqual([
      { task: 'nap', timer: 'wait', attempt: 1 },
    ]);
    expect(Date.parse(events.find((ev) => ev.type === 'timer.fired')!.time)).toBe(started + 600_000);
  });
});
