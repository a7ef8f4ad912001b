/**
 * Migration is safe to repeat and to race (docs/runs.md#migrating-in-flight-runs,
 * "Safe to repeat"): a migration cut short and run again migrates the rest
 * and counts the others as already on the version; two migrations at once
 * migrate each run once; a run that moves on between its judging and the
 * append is judged again on its new log; and replay of a migrated run checks
 * the state its run.migrated records.
 */
import { describe, expect, it } from 'vitest';
import { workflowOf } from '../../src/compiler/index.js';
import { migrateRun, migrateRuns } from '../../src/executor/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { Engine } from '../../src/local/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { MemoryEventStore, type AppendRequest, type AppendResult } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';

const V1 =
  'workflow:\n  id: refund\n  version: 1\n  tasks:\n    - { id: check, type: SET, values: { ok: true } }\n    - { id: review, type: HUMAN, depends_on: [check] }\n    - { id: second, type: HUMAN, depends_on: [check] }\n';
const V2 = `${V1.replace('version: 1', 'version: 2')}    - { id: record, type: SET, values: { refunded: true }, depends_on: [review, second] }\n`;
const now = () => '2026-11-26T10:00:00.000Z';

async function waitingRuns(store: MemoryEventStore, n: number): Promise<string[]> {
  const engine = new Engine({ store });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await engine.start(def(V1), {}, { runId: `r${i}` }));
  return ids;
}
const migratedCount = (events: EventEnvelope[]) => events.filter((e) => e.type === 'run.migrated').length;

describe('migrating runs: repeated, raced, re-judged', () => {
  it('a migration cut short and run again migrates the rest; the first ones count as already on the version', async () => {
    const store = new MemoryEventStore();
    const ids = await waitingRuns(store, 6);
    const target = workflowOf(def(V2));
    // Cut short: only the first two were migrated before it stopped.
    await migrateRuns(store, ids.slice(0, 2), target, {}, { dryRun: false, now });
    const again = await migrateRuns(store, ids, target, {}, { dryRun: false, now });
    expect(again.map((r) => [r.runId, r.verdict, r.migrated ?? false])).toEqual([
      ['r0', 'already', false],
      ['r1', 'already', false],
      ...ids.slice(2).map((id) => [id, 'as_is', true]),
    ]);
    for (const id of ids) expect(migratedCount(await store.read(id))).toBe(1);
  });

  it('two migrations at once migrate each run once', async () => {
    const store = new MemoryEventStore();
    const ids = await waitingRuns(store, 8);
    const target = workflowOf(def(V2));
    const [a, b] = await Promise.all([0, 1].map(() => migrateRuns(store, ids, target, {}, { dryRun: false, now })));
    for (const id of ids) expect(migratedCount(await store.read(id))).toBe(1);
    // Each run migrated by exactly one of them; the other found it already on version 2.
    ids.forEach((_, i) => expect([a![i]!.migrated === true, b![i]!.migrated === true].filter(Boolean)).toHaveLength(1));
  });

  it('a run that moves on between its judging and the append is judged again on its new log', async () => {
    const inner = new MemoryEventStore();
    const [id] = await waitingRuns(inner, 1);
    const engine = new Engine({ store: inner });
    let raced = false;
    // The first append of the migration finds the run moved on: an approval landed just before it.
    const store = Object.create(inner, {
      append: {
        value: async (req: AppendRequest): Promise<AppendResult> => {
          if (!raced && req.events.some((e) => e.type === 'run.migrated')) {
            raced = true;
            await engine.decide(id!, 'review', 'approved', 'ops');
          }
          return inner.append(req);
        },
      },
    }) as MemoryEventStore;
    const row = await migrateRun(store, id!, workflowOf(def(V2)), {}, { dryRun: false, now });
    expect(row).toMatchObject({ verdict: 'as_is', migrated: true });
    const events = await inner.read(id!);
    expect(events.map((e) => e.type)).toEqual(['run.started', 'approval.recorded', 'run.migrated']);
    expect(replayRun(events).divergence).toBeNull();
  });

  it('replay of a migrated run checks the state its run.migrated records', async () => {
    const store = new MemoryEventStore();
    const [id] = await waitingRuns(store, 1);
    await migrateRun(store, id!, workflowOf(def(V2)), {}, { dryRun: false, now });
    const events = await store.read(id!);
    expect(replayRun(events).divergence).toBeNull();
    // A run.migrated whose recorded state says review was already approved: not what the history leads to.
    const forged = structuredClone(events) as EventEnvelope[];
    const m = forged.at(-1)! as Extract<EventEnvelope, { type: 'run.migrated' }>;
    (m.data.fold.context as { tasks: Record<string, { status: string }> }).tasks.review!.status = 'COMPLETED';
    expect(replayRun(forged).divergence).toMatchObject({
      seq: m.seq,
      type: 'run.migrated',
      reason: expect.stringContaining('run.migrated does not check: the state it records'),
    });
  });
});
