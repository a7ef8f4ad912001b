/** The one gate decision both stores' gates make (src/limits/gate-state.ts): pure, the time passed in. */
import { describe, expect, it } from 'vitest';
import { decideGate, emptyGateState, WAITER_TTL_MS, type GateState } from '../../src/limits/index.js';
import type { GateLimits } from '../../src/limits/gate-state.js';

const holder = (runId: string) => ({ runId, task: 't', attempt: 1 });
const ask = (state: GateState, gate: GateLimits, key: string, now: number, priority = 50) =>
  decideGate(state, { key, holder: holder(key), priority, gate, now });

describe('task gate decisions', () => {
  it('concurrency: grants up to the limit, then waits; a freed slot goes to the higher priority waiter, equal priorities in arrival order', () => {
    const gate: GateLimits = { concurrency: 1 };
    const s = emptyGateState();
    expect(ask(s, gate, 'a', 0).granted).toBe(true);
    expect(ask(s, gate, 'low-early', 1, 10).granted).toBe(false);
    expect(ask(s, gate, 'mid-1', 2).granted).toBe(false);
    expect(ask(s, gate, 'mid-2', 3).granted).toBe(false);
    expect(ask(s, gate, 'urgent', 4, 90).granted).toBe(false);
    delete s.holders.a;
    // Whoever asks first after the slot frees, only the first in order is let in.
    expect(ask(s, gate, 'mid-2', 5).granted).toBe(false);
    expect(ask(s, gate, 'low-early', 5, 10).granted).toBe(false);
    expect(ask(s, gate, 'urgent', 5, 90).granted).toBe(true);
    delete s.holders.urgent;
    expect(ask(s, gate, 'mid-2', 6).granted).toBe(false);
    expect(ask(s, gate, 'mid-1', 6).granted).toBe(true);
  });

  it('rate: at most `limit` grants in any span of `per` (sliding), and says when the window opens', () => {
    const gate: GateLimits = { rate: { limit: 2, perMs: 1000 } };
    const s = emptyGateState();
    expect(ask(s, gate, 'a', 0).granted).toBe(true);
    expect(ask(s, gate, 'b', 400).granted).toBe(true);
    const c = ask(s, gate, 'c', 500);
    expect(c).toMatchObject({ granted: false, retryInMs: 500 });
    expect(ask(s, gate, 'c', 999).granted).toBe(false);
    expect(ask(s, gate, 'c', 1000).granted).toBe(true);
    expect(ask(s, gate, 'd', 1300).granted).toBe(false);
    expect(ask(s, gate, 'd', 1400).granted).toBe(true);
    // A rate alone holds no slot.
    expect(Object.keys(s.holders)).toEqual([]);
  });

  it("a waiter that stops asking loses its place; holders named dead by their runs' logs free their slots; a holder asking again is granted again", () => {
    const gate: GateLimits = { concurrency: 1 };
    const s = emptyGateState();
    expect(ask(s, gate, 'a', 0).granted).toBe(true);
    expect(ask(s, gate, 'gone', 1, 99).granted).toBe(false);
    expect(ask(s, gate, 'a', 2).granted).toBe(true);
    const later = 2 + WAITER_TTL_MS + 1;
    const w = ask(s, gate, 'b', later);
    expect(w.granted).toBe(false);
    expect(w.suspects).toEqual(['a']);
    expect(Object.keys(s.waiters)).toEqual(['b']);
    expect(
      decideGate(s, { key: 'b', holder: holder('b'), priority: 50, gate, now: later + 1 }, new Set(['a'])).granted,
    ).toBe(true);
  });
});
