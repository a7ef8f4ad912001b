/**
 * Run records over every golden history: what a row says (status and task
 * statuses as the manifest recorded them, trigger, agents, result, duration),
 * and `advance` from any point giving exactly what folding the whole log
 * gives, also through the JSON form an index keeps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { foldEvents } from '../../src/runtime/index.js';
import {
  advance,
  OUTPUT_TEXT_LIMIT,
  persistTracked,
  recordOf,
  RecordGapError,
  restoreTracked,
  track,
  type StoredTracked,
} from '../../src/query/index.js';
import {
  HISTORIES_DIR,
  MANIFEST_FILE,
  Manifest,
  readHistory,
  type HistoryEntry,
} from '../fixtures/histories/histories.js';

const manifest = Manifest.parse(JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')));
const histories = new Map<string, { entry: HistoryEntry; events: EventEnvelope[] }>();

beforeAll(async () => {
  for (const entry of manifest.histories)
    histories.set(entry.file, { entry, events: await readHistory(join(HISTORIES_DIR, entry.file), entry.runId) });
});

const hashOf = (events: EventEnvelope[]) => (events[0]!.type === 'run.started' ? events[0]!.data.definitionHash : '');
/** The record through the JSON form an index stores (when the run is not settled, its fold goes with it). */
const viaJson = (events: EventEnvelope[], k: number) => {
  const t = track(events.slice(0, k));
  const stored = JSON.parse(JSON.stringify(persistTracked(t, hashOf(events)))) as StoredTracked;
  const restored = restoreTracked(stored, t.compiled);
  return restored ? advance(restored, events.slice(k)).record : stored.record;
};

describe('run records', () => {
  it('say what the manifest says of every golden history: status, each task status, last seq; settled runs their end and duration', () => {
    for (const { entry, events } of histories.values()) {
      const r = recordOf(events);
      expect(r.status, entry.file).toBe(entry.status);
      expect(Object.fromEntries(Object.entries(r.tasks).map(([id, t]) => [id, t.status])), entry.file).toEqual(
        entry.tasks,
      );
      expect(r.lastSeq).toBe(entry.events);
      const settling = events.find((e) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(e.state.status));
      expect(r.completedAt).toBe(settling?.time ?? null);
      expect(r.durationMs).toBe(settling ? Date.parse(settling.time) - Date.parse(events[0]!.time) : null);
      if (r.status === 'COMPLETED') expect(r.outputText!.length).toBeLessThanOrEqual(OUTPUT_TEXT_LIMIT);
      expect(r.result.length).toBeLessThanOrEqual(200);
      expect(r.result).not.toMatch(/\n/);
    }
  });

  it('advance from every event of every history gives the record of the whole log, also through its stored JSON', () => {
    let splits = 0;
    for (const { entry, events } of histories.values()) {
      const whole = recordOf(events);
      // Every split of a short history; of a long one, twelve spread over it (every split is quadratic).
      const step = Math.max(1, Math.floor(events.length / 12));
      for (let k = 1; k < events.length; k += step) {
        expect(advance(track(events.slice(0, k)), events.slice(k)).record, `${entry.file} split at ${k}`).toEqual(
          whole,
        );
        expect(viaJson(events, k), `${entry.file} via JSON at ${k}`).toEqual(whole);
        splits++;
      }
    }
    expect(splits).toBeGreaterThan(1500);
  });

  it("given the fold after the events (an engine's own commit), track and advance give the record and the stored fold that folding them gives", () => {
    // The fold as the engine that recorded the events has it: folded on its own, not by record.ts.
    const foldOf = (events: EventEnvelope[]) => {
      const f = foldEvents(events);
      return { compiled: f.compiled, snapshot: f.snapshot };
    };
    let splits = 0;
    for (const { entry, events } of histories.values()) {
      const whole = track(events);
      const stored = JSON.stringify(persistTracked(whole, hashOf(events)));
      const given = track(events, foldOf(events));
      expect(given.record, `${entry.file} whole`).toEqual(whole.record);
      expect(JSON.stringify(persistTracked(given, hashOf(events))), `${entry.file} whole, stored`).toBe(stored);
      const step = Math.max(1, Math.floor(events.length / 12));
      for (let k = 1; k < events.length; k += step) {
        const head = events.slice(0, k);
        const t = advance(track(head, foldOf(head)), events.slice(k), foldOf(events));
        expect(t.record, `${entry.file} split at ${k}`).toEqual(whole.record);
        expect(JSON.stringify(persistTracked(t, hashOf(events))), `${entry.file} split at ${k}, stored`).toBe(stored);
        splits++;
      }
    }
    expect(splits).toBeGreaterThan(1500);
  });

  it('advance in any number of steps of any sizes gives the same record (property)', () => {
    const all = [...histories.values()];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: all.length - 1 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 30 }),
        (i, steps) => {
          const { events } = all[i]!;
          let at = 1;
          let t = track(events.slice(0, 1));
          for (const n of steps) {
            t = advance(t, events.slice(at, at + n));
            at = Math.min(events.length, at + n);
          }
          t = advance(t, events.slice(at));
          expect(t.record).toEqual(recordOf(events));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses events that do not follow the record (a gap, a repeat) with RecordGapError', () => {
    const { events } = histories.get('lead_qualification/route_lead-default-to-nurture_lead-ok.jsonl')!;
    const t = track(events.slice(0, 2));
    expect(() => advance(t, events.slice(3))).toThrow(RecordGapError);
    expect(() => advance(t, events.slice(1))).toThrow(RecordGapError);
  });

  it('keeps the settling time and duration when events that change no state follow a settled run (notifications)', () => {
    const { events } = histories.get(
      'revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl',
    )!;
    const before = recordOf(events);
    const last = events.at(-1)!;
    const later = new Date(Date.parse(last.time) + 60_000).toISOString();
    // A notification as another module records it: a type this module does not know, the state kept.
    const note = {
      ...last,
      seq: last.seq + 1,
      time: later,
      type: 'notification.sent',
      data: { target: 'webhook', attempts: 1 },
    } as unknown as EventEnvelope;
    const after = recordOf([...events, note]);
    expect(after).toEqual({ ...before, lastSeq: last.seq + 1 });
    expect(advance(track(events), [note]).record).toEqual(after);
  });

  it('names the trigger: a business event (id from the log), a schedule slot, a parent run, else manual', () => {
    const nats = recordOf(histories.get('revenue_milestone/scenario-nats-approval-refused.jsonl')!.events);
    expect(nats.trigger).toMatchObject({ kind: 'event' });
    expect(
      recordOf(histories.get('lead_qualification/route_lead-default-to-nurture_lead-ok.jsonl')!.events).trigger,
    ).toEqual({ kind: 'manual' });
    const { events } = histories.get('lead_qualification/route_lead-default-to-nurture_lead-ok.jsonl')!;
    const withSource = (source: object) => {
      const first = events[0]! as Extract<EventEnvelope, { type: 'run.started' }>;
      return recordOf([{ ...first, data: { ...first.data, source } }, ...events.slice(1)]).trigger;
    };
    expect(
      withSource({ schedule: { trigger: 0, slot: '2026-01-01T09:00:00.000Z', cron: '0 9 * * *', timezone: 'UTC' } }),
    ).toEqual({ kind: 'schedule', slot: '2026-01-01T09:00:00.000Z', trigger: 0 });
    expect(withSource({ parent: { runId: 'p1', workflowId: 'w', task: 't', relation: 'failure' } })).toEqual({
      kind: 'parent',
      runId: 'p1',
      task: 't',
      relation: 'failure',
    });
    expect(withSource({ retryOf: { runId: 'old' } })).toEqual({ kind: 'retry', runId: 'old' });
    expect(withSource({ event: 'evt-1' })).toMatchObject({ kind: 'event', id: 'evt-1' });
  });

  it('lists the agents assigned in the definition and who decided approvals; a waiting run says who it waits for', () => {
    const { events } = histories.get(
      'revenue_milestone/review_gate-needs_approval-to-approve_plan_change-approved-ok.jsonl',
    )!;
    const decided = events.filter((e) => e.type === 'approval.recorded').map((e) => (e.data as { by: string }).by);
    const r = recordOf(events);
    for (const by of decided) expect(r.agents).toContain(by);
    expect([...r.agents].sort()).toEqual(r.agents);
    const waitingAt = events.findIndex((e) => e.state.status === 'WAITING');
    const waiting = recordOf(events.slice(0, waitingAt + 1));
    expect(waiting.status).toBe('WAITING');
    expect(waiting.waiting.length).toBeGreaterThan(0);
    expect(waiting.result).toContain(waiting.waiting[0]!.task);
    expect(waiting.durationMs).toBeNull();
  });
});
