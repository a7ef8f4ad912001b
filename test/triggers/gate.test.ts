/**
 * Debounce and throttle decisions (src/triggers/gate.ts, docs/triggers.md#debounce-and-throttle),
 * with the time given, and through TriggerGates on an in-memory CAS store: what each event
 * becomes, which runs start and with which input, what the decision log says.
 */
import { describe, expect, it } from 'vitest';
import type { EventTrigger } from '../../src/definition/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import {
  arrive,
  runIdForEvent,
  tickGate,
  TriggerGates,
  matchTriggers,
  type GateLog,
  type GateRecord,
  type GateSpec,
  type GateState,
  type GateStore,
  type GatedStart,
} from '../../src/triggers/index.js';
import { def } from '../helpers/engine.js';

const YAML = `
workflow:
  id: lead_followup
  input:
    required: [lead_id, score]
  triggers:
    - event: lead_created
      input: { lead_id: "\${event.data.lead_id}", score: "\${event.data.score}" }
      debounce: { period: 30s, key: "\${event.data.lead_id}" }
    - event: order_placed
      input: { lead_id: "\${event.data.customer}", score: "\${event.data.n}" }
      throttle: { limit: 2, per: 1m, key: "\${event.data.customer}" }
    - event: order_dropped
      input: { lead_id: "\${event.data.customer}", score: "\${event.data.n}" }
      throttle: { limit: 2, per: 1m, on_limit: drop }
  tasks:
    - { id: note, type: SET, values: { x: 1 } }
`;
const D = def(YAML);
const spec = (i: number): GateSpec => ({ workflowId: D.id, trigger: i, event: D.triggers[i] as EventTrigger });
const rid = (id: string) => runIdForEvent(id, D.id);
const ev = (id: string, at: number, score = 0) => ({ eventId: id, at, input: { lead_id: 'L', score } });
const T = Date.parse('2026-11-23T10:00:00Z');

describe('debounce (pure)', () => {
  it('a burst becomes one run with the last event, period after it; the others are recorded as merged into it', () => {
    let s: GateState | null = null;
    for (const [id, dt, score] of [
      ['e1', 0, 10],
      ['e2', 10_000, 20],
      ['e3', 35_000, 30],
    ] as const) {
      const r = arrive(s, spec(0), 'L', ev(id, T + dt, score), rid, T + dt);
      expect(r.arrival).toMatchObject({ decision: 'debounced', dueAt: T + dt + 30_000 });
      s = r.state;
    }
    expect(tickGate(s!, spec(0), rid, T + 64_999)).toBe(s); // 30 s after e3 is T+65s
    const fired = tickGate(s!, spec(0), rid, T + 65_000);
    expect(fired.pending).toEqual([
      expect.objectContaining({
        runId: rid('e3'),
        eventId: 'e3',
        input: { lead_id: 'L', score: 30 },
        count: 3,
        absorbed: ['e1', 'e2'],
      }),
    ]);
    expect(fired.outbox.map((r) => [r.decision, r.eventId, r.runId])).toEqual([
      ['merged', 'e1', rid('e3')],
      ['merged', 'e2', rid('e3')],
      ['started', 'e3', rid('e3')],
    ]);
    expect(fired.burst).toBeUndefined();
  });

  it('an event after a quiet period starts a new burst, the old one fires with its own last event even if nothing ticked in between', () => {
    let s = arrive(null, spec(0), 'L', ev('e1', T), rid, T).state;
    s = arrive(s, spec(0), 'L', ev('e2', T + 90_000), rid, T + 90_000).state;
    expect(s.pending.map((p) => p.eventId)).toEqual(['e1']);
    expect(s.outbox.find((r) => r.decision === 'started')?.time).toBe(new Date(T + 30_000).toISOString());
    expect(s.burst?.last.eventId).toBe('e2');
  });

  it('a redelivered event changes nothing', () => {
    const s = arrive(null, spec(0), 'L', ev('e1', T), rid, T).state;
    const again = arrive(s, spec(0), 'L', ev('e1', T + 5000), rid, T + 5000);
    expect(again.arrival.decision).toBe('duplicate');
    expect(again.state).toBe(s);
  });
});

describe('throttle (pure): a sliding window', () => {
  it('starts `limit` at once, queues the rest and starts them in arrival order as the window allows', () => {
    let s: GateState | null = null;
    const decisions: unknown[] = [];
    for (const [id, dt] of [
      ['o1', 0],
      ['o2', 1000],
      ['o3', 2000],
      ['o4', 3000],
    ] as const) {
      const r = arrive(s, spec(1), 'c', ev(id, T + dt), rid, T + dt);
      decisions.push([r.arrival.decision, r.arrival.dueAt]);
      s = r.state;
    }
    // Two in any minute: o3 when o1 leaves the window (T+60s), o4 when o2 does (T+61s).
    expect(decisions).toEqual([
      ['started', undefined],
      ['started', undefined],
      ['queued', T + 60_000],
      ['queued', T + 61_000],
    ]);
    s = { ...s!, pending: [], outbox: [] };
    expect(tickGate(s, spec(1), rid, T + 59_999).pending).toEqual([]);
    const a = tickGate(s, spec(1), rid, T + 60_000);
    expect(a.pending.map((p) => p.eventId)).toEqual(['o3']);
    const b = tickGate({ ...a, pending: [] }, spec(1), rid, T + 61_000);
    expect(b.pending.map((p) => p.eventId)).toEqual(['o4']);
    expect(b.queue).toEqual([]);
  });

  it('on_limit: drop records the dropped events with the reason', () => {
    let s: GateState | null = null;
    const out: string[] = [];
    for (const id of ['d1', 'd2', 'd3']) {
      const r = arrive(s, spec(2), '', ev(id, T), rid, T);
      out.push(r.arrival.decision);
      s = r.state;
    }
    expect(out).toEqual(['started', 'started', 'dropped']);
    expect(s!.outbox.at(-1)).toMatchObject({
      decision: 'dropped',
      eventId: 'd3',
      reason: 'limit 2 per 60000 ms reached',
    });
  });
});

/** A GateStore and GateLog in memory, with the CAS rules of the real ones. */
function memoryGates(): { store: GateStore; log: GateLog & { records: GateRecord[] } } {
  const entries = new Map<string, { state: GateState; revision: number }>();
  let rev = 0;
  const records: GateRecord[] = [];
  return {
    store: {
      keys: async () => [...entries.keys()],
      get: async (k) => structuredClone(entries.get(k) ?? null),
      put: async (k, state, revision) => {
        if ((entries.get(k)?.revision ?? null) !== revision) return null;
        rev++;
        if (state === null) entries.delete(k);
        else entries.set(k, { state: structuredClone(state), revision: rev });
        return rev;
      },
    },
    log: {
      records,
      write: async (rs) => {
        for (const r of rs) if (!records.some((x) => x.id === r.id)) records.push(r);
      },
      list: async () => records,
    },
  };
}

describe('TriggerGates', () => {
  it('two tickers racing on one due burst start its run once', async () => {
    const m = memoryGates();
    let now = T;
    const starts: GatedStart[] = [];
    const gates = () =>
      new TriggerGates({
        ...m,
        now: () => now,
        definitions: () => [D],
        start: async (s) => {
          starts.push(s);
          return { duplicate: false };
        },
      });
    const event = (id: string, score: number) => ({
      id,
      type: 'lead_created',
      time: new Date(now).toISOString(),
      data: { lead_id: 'L-7', score },
    });
    const a = gates();
    for (const [id, score] of [
      ['e1', 10],
      ['e2', 40],
      ['e3', 90],
    ] as const) {
      const e = event(id, score);
      const [match] = matchTriggers([D], e);
      expect(await a.arrive(match!, e)).toMatchObject({ decision: 'debounced', key: 'L-7' });
      now += 1000;
    }
    now += 30_000;
    await Promise.all([a.tick(), gates().tick(), gates().tick()]);
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({
      runId: rid('e3'),
      input: { lead_id: 'L-7', score: 90 },
      source: { event: 'e3', gate: { kind: 'debounce', key: 'L-7', count: 3, absorbed: ['e1', 'e2'] } },
    });
    expect(m.log.records.map((r) => `${r.decision} ${r.eventId}`)).toEqual(['merged e1', 'merged e2', 'started e3']);
    // Nothing is left once the dedup memory has passed.
    now += 16 * 60_000;
    await a.tick();
    expect(await m.store.keys()).toEqual([]);
  });

  it('a start decided by a process that died before doing it is done by the next ticker after the claim timeout', async () => {
    const m = memoryGates();
    let now = T;
    const e = { id: 'o1', type: 'order_placed', time: new Date(now).toISOString(), data: { customer: 'c', n: 1 } };
    const [match] = matchTriggers([D], e);
    const dying = new TriggerGates({
      ...m,
      now: () => now,
      definitions: () => [D],
      start: async () => {
        throw new Error('killed');
      },
    });
    await expect(dying.arrive(match!, e)).rejects.toThrow('killed');
    const starts: string[] = [];
    const next = new TriggerGates({
      ...m,
      now: () => now,
      definitions: () => [D],
      start: async (s) => {
        starts.push(s.runId);
        return { duplicate: false };
      },
    });
    await next.tick();
    expect(starts).toEqual([]); // still the first process's to do
    now += 10_000;
    await next.tick();
    expect(starts).toEqual([rid('o1')]);
    expect(m.log.records.map((r) => r.decision)).toEqual(['started']);
  });
});

describe('validation', () => {
  it('refuses each bad debounce or throttle at its line and column, naming the fix', () => {
    const bad = `workflow:
  id: gates_bad
  input:
    required: [lead_id]
  triggers:
    - schedule: "0 9 * * *"
      input: { lead_id: x }
      debounce: { period: 30s }
    - event: lead_created
      input: { lead_id: "\${event.data.lead_id}" }
      debounce: { period: 0 }
    - event: order_placed
      input: { lead_id: "\${event.data.lead_id}" }
      throttle: { limit: 0, per: 1m, on_limit: maybe, key: "\${workflow.input.lead_id}" }
    - event: x_y
      input: { lead_id: "\${event.data.lead_id}" }
      throttle: { limit: 1, per: -5s }
  tasks:
    - { id: a, type: SET, values: { x: 1 } }
`;
    const { definition, diagnostics } = parseDefinition(bad, 'bad.yaml');
    expect(definition).toBeNull();
    const errs = diagnostics
      .filter((d) => d.severity === 'error')
      .map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);
    expect(errs).toEqual([
      expect.stringMatching(
        /^8:7 LF_TRIGGER_GATE_ON_SCHEDULE debounce of triggers\[0\] applies to event triggers only.*remove debounce/,
      ),
      expect.stringMatching(/^11:27 .*debounce\.period: must be longer than 0, e\.g\. "30s"/),
      expect.stringMatching(/^14:26 .*throttle\.limit: expected at least 1 run per window/),
      expect.stringMatching(/^14:48 .*throttle\.on_limit: expected one of queue, drop/),
      expect.stringMatching(
        /^14:61 LF_TRIGGER_KEY throttle\.key of triggers\[2\] reads \$\{workflow\.input\.lead_id\}.*key: "\$\{event\.data\.lead_id\}"/,
      ),
      expect.stringMatching(/^17:34 .*throttle\.per: expected a duration like "30s"/),
    ]);
  });
});
