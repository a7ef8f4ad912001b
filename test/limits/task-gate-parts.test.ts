/**
 * An attempt held to several limits (its task's own, its queue's, its handler's: docs/limits.md#limits-per-queue-or-handler),
 * through the gate port both executors ask (src/limits/task-gate.ts) over a store's shared documents, and the
 * rate window handing out start times (src/limits/gate-state.ts). Times are passed in.
 */
import { describe, expect, it } from 'vitest';
import { askGate, decideGate, emptyGateState, withdrawWait } from '../../src/limits/index.js';
import type { GatePart, WaitAttempt } from '../../src/runtime/index.js';
import { MemoryEventStore } from '../../src/store/index.js';

const part = (name: string, limits: Pick<GatePart, 'concurrency' | 'rate'>): GatePart => ({
  name,
  owner: 'queue',
  of: name,
  ...limits,
});
const wait = (runId: string, parts: GatePart[], priority = 50): WaitAttempt => ({
  type: 'attempt.wait',
  runId,
  workflowId: 'w',
  taskId: 't',
  instance: 't',
  attempt: 1,
  gate: { parts },
  priority,
});
const clock = (t: { now: number }) => () => t.now;

describe('several limits on one attempt', () => {
  it('a rate window that says wait gives back the token another window gave at the same time: no start is counted that did not happen', async () => {
    const store = new MemoryEventStore();
    const t = { now: 0 };
    const r1 = part('queue/a', { rate: { limit: 1, perMs: 1000 } });
    const r2 = part('handler/b', { rate: { limit: 1, perMs: 1000 } });
    // Z fills b's window; X, held to a and b, is let into a, then not into b: a's token goes back.
    expect(await askGate(store, wait('z', [r2]), clock(t))).toEqual({ granted: true, at: 0 });
    t.now = 10;
    expect((await askGate(store, wait('x', [r1, r2]), clock(t))).granted).toBe(false);
    // W, held to a alone, finds a's window empty.
    expect(await askGate(store, wait('w', [r1]), clock(t))).toEqual({ granted: true, at: 10 });
  });

  it('slots are taken in one order and kept while the attempt waits for its rate; withdrawing frees them', async () => {
    const store = new MemoryEventStore();
    const t = { now: 0 };
    const slots = part('queue/p', { concurrency: 1 });
    const rate = part('handler/h', { rate: { limit: 1, perMs: 1000 } });
    expect(await askGate(store, wait('a', [slots, rate]), clock(t))).toEqual({ granted: true, at: 0 });
    // B gets nothing while A holds the slot.
    expect((await askGate(store, wait('b', [rate, slots]), clock(t))).granted).toBe(false);
    await withdrawWait(store, wait('a', [slots, rate]));
    // B takes the slot, then waits for the rate window with it (a reservation at 1000, when A's start leaves it).
    t.now = 100;
    const b = await askGate(store, wait('b', [rate, slots]), clock(t));
    expect(b).toEqual({ granted: false, retryInMs: 900 });
    // C, held to the slot alone, waits: B keeps it.
    expect((await askGate(store, wait('c', [slots]), clock(t))).granted).toBe(false);
    t.now = 1000;
    expect(await askGate(store, wait('b', [rate, slots]), clock(t))).toEqual({ granted: true, at: 1000 });
  });

  it('a rate window alone gives start times in line order, up to a second ahead, never more than `limit` in any span', () => {
    const s = emptyGateState();
    const gate = { rate: { limit: 2, perMs: 1000 } };
    const ask = (key: string, now: number) =>
      decideGate(s, { key, holder: { runId: key, task: 't', attempt: 1 }, priority: 50, gate, now, reserve: true });
    expect(ask('a', 0)).toMatchObject({ granted: true, at: 0 });
    expect(ask('b', 0)).toMatchObject({ granted: true, at: 0 });
    expect(ask('c', 100)).toMatchObject({ granted: false, retryInMs: 900 });
    expect(ask('d', 100)).toMatchObject({ granted: false, retryInMs: 900 });
    // Two more in the next window: beyond the second ahead, a later ask.
    expect(ask('e', 100).granted).toBe(false);
    expect(s.reserved).toEqual({ c: 1000, d: 1000 });
    expect(ask('c', 1000)).toMatchObject({ granted: true, at: 1000 });
    expect(ask('e', 1000)).toMatchObject({ granted: false, retryInMs: 1000 });
    expect(ask('d', 1200)).toMatchObject({ granted: true, at: 1000 });
    expect(ask('e', 2000)).toMatchObject({ granted: true, at: 2000 });
    // The starts at 0, 0, 1000, 1000, 2000: at most 2 in any 1 s; those at 1000 left the window at 2000.
    expect(s.starts).toEqual([2000]);
    expect(s.reserved).toEqual({});
  });
});
