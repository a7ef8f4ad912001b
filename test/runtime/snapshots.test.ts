/**
 * Loading a run through a snapshot gives exactly the state of folding its
 * whole log, reads only the events after the snapshot, and a snapshot that is
 * missing, damaged, foreign or out of step with the log is not used: the run
 * loads from its log with the same result, and the reason is reported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { foldEvents, runView } from '../../src/runtime/index.js';
import { loadRun, snapshotDue, snapshotOf } from '../../src/executor/index.js';
import { MemorySnapshotStore, type EventStore, type StoredSnapshot } from '../../src/store/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { def, engine, expectReplayMatches } from '../helpers/engine.js';

/** A task retried until its history is long; an approval after it, so the run ends waiting for a person. */
const retrying = def(`
workflow:
  id: long-retries
  name: A task retried a few hundred times
  version: 1
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: flaky, type: SIMPLE, depends_on: [prepare], retry_policy: { max_attempts: 400, backoff: fixed, initial_delay: 0ms } }
    - { id: sign, type: HUMAN, depends_on: [flaky], approvers: [alice] }
`);

/** Everything a caller sees of a loaded run. */
const seen = (l: { snapshot: Parameters<typeof runView>[0]; seq: number }) =>
  JSON.stringify([l.snapshot.value, l.snapshot.status, l.snapshot.context, runView(l.snapshot, l.seq)]);

describe('loading a run through its snapshot', () => {
  let store: EventStore;
  let runId: string;
  let events: EventEnvelope[];
  /** A snapshot after event k, taken as an engine would: the fold of events 1..k. */
  const snapshotAt = (k: number): StoredSnapshot => {
    const { compiled, snapshot } = foldEvents(events.slice(0, k));
    return snapshotOf(compiled, snapshot, k, null, Date.parse('2026-11-21T10:00:00Z'));
  };

  beforeAll(async () => {
    const e = engine();
    store = e.store;
    const view = await e.engine.run(
      retrying,
      {},
      {
        handlers: {
          prepare: async () => ({ ok: true }),
          flaky: async (_i, ctx) => {
            if (ctx.attempt <= 150) throw new Error(`attempt ${ctx.attempt}`);
            return { attempt: ctx.attempt };
          },
        },
      },
    );
    expect(view.status).toBe('WAITING');
    await expectReplayMatches(e.engine, view);
    runId = view.runId;
    events = await store.read(runId);
    expect(events.length).toBeGreaterThan(400);
  });

  it('gives the state of the whole log, reading only the events from the snapshot on', async () => {
    const full = (await loadRun(store, runId))!;
    expect(full).toMatchObject({
      fromSnapshot: null,
      eventsRead: events.length,
      snapshotRefused: null,
      seq: events.length,
    });
    const snaps = new MemorySnapshotStore();
    for (const k of [1, 2, 100, 301, events.length - 1, events.length]) {
      await snaps.put(snapshotAt(k));
      const loaded = (await loadRun(store, runId, snaps))!;
      expect(loaded, `snapshot at ${k}`).toMatchObject({
        fromSnapshot: k,
        eventsRead: events.length - k + 1,
        snapshotRefused: null,
        seq: events.length,
      });
      expect(seen(loaded), `snapshot at ${k}`).toBe(seen(full));
    }
    // Deleting it changes no result.
    await snaps.delete(runId);
    const after = (await loadRun(store, runId, snaps))!;
    expect(after).toMatchObject({ fromSnapshot: null, snapshotRefused: null });
    expect(seen(after)).toBe(seen(full));
  });

  it('a run loaded from a snapshot goes on as one loaded from its log', async () => {
    const snaps = new MemorySnapshotStore();
    await snaps.put(snapshotAt(250));
    const viaSnapshot = (await loadRun(store, runId, snaps))!;
    const viaLog = (await loadRun(store, runId))!;
    const approve = {
      type: 'approval.recorded',
      time: '2026-11-21T11:00:00.000Z',
      data: { task: 'sign', decision: 'approved', by: 'alice' },
    } as const;
    const [a, b] = [viaSnapshot, viaLog].map((l) =>
      l.compiled.interpreter.transition(l.snapshot, {
        type: 'approval.approved.sign',
        time: Date.parse(approve.time),
        by: 'alice',
      }),
    );
    expect(a!.status).toBe('done');
    expect(JSON.stringify(a!.context)).toBe(JSON.stringify(b!.context));
  });

  describe('a snapshot that cannot be used is reported and the run loads from its log', () => {
    const cases: [string, (s: StoredSnapshot) => StoredSnapshot | string, RegExp][] = [
      [
        'its state differs from the one its event recorded',
        (s) => {
          const ctx = s.fold.context as { tasks: Record<string, { attempts: number }> };
          return {
            ...s,
            fold: {
              ...s.fold,
              context: { ...ctx, tasks: { ...ctx.tasks, flaky: { ...ctx.tasks.flaky!, attempts: 7 } } },
            },
          };
        },
        /at event 200 not used: event 200 recorded state .*, the snapshot is/,
      ],
      ['it is past the end of the log', (s) => ({ ...s, seq: 100_000 }), /the log has no event 100000/],
      [
        'its definition is not the one its hash names',
        (s) => ({ ...s, definition: { ...s.definition, name: 'edited' } }),
        /its definition does not have its definition hash/,
      ],
      [
        'its state value names a state the chart lacks',
        (s) => ({ ...s, fold: { ...s.fold, value: { running: { prepare: 'nowhere' } } } }),
        /does not fit this workflow's statechart/,
      ],
      [
        "it is another run's",
        (s) => ({ ...s, fold: { ...s.fold, context: { ...s.fold.context, runId: 'someone-else' } } }),
        /holds the state of run someone-else/,
      ],
      ['it is not JSON', () => '{"runId": ', /is not JSON; delete it/],
      [
        'it misses a field',
        (s) => JSON.stringify({ ...s, fold: { ...s.fold, status: 'paused' } }),
        /malformed at fold\.status/,
      ],
      [
        "it is stored under another run's key",
        (s) => JSON.stringify({ ...s, runId: 'other-run' }),
        /is of run other-run/,
      ],
    ];
    it.each(cases)('%s', async (_name, damage, reason) => {
      const snaps = new MemorySnapshotStore();
      const damaged = damage(snapshotAt(200));
      snaps.putText(runId, typeof damaged === 'string' ? damaged : JSON.stringify(damaged));
      const loaded = (await loadRun(store, runId, snaps))!;
      expect(loaded.fromSnapshot).toBeNull();
      expect(loaded.snapshotRefused).toMatch(reason);
      expect(seen(loaded)).toBe(seen((await loadRun(store, runId))!));
    });
  });

  it('is due each time a commit crosses a multiple of the interval, never with 0', () => {
    expect([
      snapshotDue(998, 1000, 1000),
      snapshotDue(999, 1003, 1000),
      snapshotDue(1000, 1999, 1000),
      snapshotDue(1, 5, 0),
    ]).toEqual([true, true, false, false]);
  });

  it('a missing run is null with or without snapshots', async () => {
    expect(await loadRun(store, 'no-such-run', new MemorySnapshotStore())).toBeNull();
  });
});
