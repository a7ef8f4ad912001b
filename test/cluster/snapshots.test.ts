/**
 * Snapshots on a real nats-server: the KV snapshot store, reads that start at
 * a snapshot's position, and engines that write snapshots of a long run and
 * load it through one after another engine is gone, with the same result as
 * folding the whole log.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { foldEvents, replayRun, runView } from '../../src/runtime/index.js';
import { loadRun, snapshotOf } from '../../src/executor/index.js';
import { JetStreamEventStore, JetStreamSnapshotStore } from '../../src/store/index.js';
import { definitionHash } from '../../src/definition/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { ev, evs } from '../store/helpers.js';

const uid = (p: string) => `${p}_${randomBytes(4).toString('hex')}`;

const longRun = def(`
workflow:
  id: snap-long
  name: A task retried many times, then an approval
  version: 1
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: flaky, type: SIMPLE, depends_on: [prepare], retry_policy: { max_attempts: 200, backoff: fixed, initial_delay: 0ms } }
    - { id: sign, type: HUMAN, depends_on: [flaky], approvers: [alice] }
    - { id: report, type: SIMPLE, depends_on: [sign], input: { attempts: "\${flaky.output.attempt}" } }
`);

describe.skipIf(noNats)('snapshots in a KV bucket', () => {
  const c = useCluster();

  it('the KV store keeps one snapshot per run, refuses a malformed one with its bucket and key, and forgets a deleted one', async () => {
    const events = new JetStreamEventStore({ servers: c.url, stream: uid('LFS'), subjectPrefix: uid('lfs') });
    const snaps = new JetStreamSnapshotStore(() => events.connection(), { bucket: uid('SNAPS'), storage: 'memory' });
    try {
      const runId = uid('run').replace(/_/g, '-');
      const started = {
        ...ev(runId, 1),
        data: {
          definition: longRun as unknown as Record<string, unknown>,
          definitionHash: definitionHash(longRun),
          input: {},
        },
      } as EventEnvelope;
      const { compiled, snapshot } = foldEvents([started]);
      const taken = snapshotOf(compiled, snapshot, 1, 7, Date.parse('2026-11-21T10:00:00Z'));
      expect(await snaps.get(runId)).toBeNull();
      await snaps.put(taken);
      await snaps.put({ ...taken, seq: 2 });
      expect(await snaps.get(runId)).toEqual({ ...taken, seq: 2 });
      await snaps.putText(runId, JSON.stringify({ ...taken, seq: -1 }));
      const err = await snaps.get(runId).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(
        new RegExp(`KV bucket ${snaps.bucket}, key ${runId}: snapshot of run ${runId} is malformed at seq`),
      );
      await snaps.delete(runId);
      expect(await snaps.get(runId)).toBeNull();
    } finally {
      await events.close();
    }
  });

  it('a read from a position returns the same events as one from the start, and a position that does not fit is ignored', async () => {
    const store = new JetStreamEventStore({ servers: c.url, stream: uid('LFS'), subjectPrefix: uid('lfs') });
    try {
      const [a, b] = [uid('run-a').replace(/_/g, '-'), uid('run-b').replace(/_/g, '-')];
      const positions: number[] = [];
      for (let i = 0; i < 6; i++) {
        for (const runId of [a, b]) {
          const r = await store.append({
            runId,
            expectedSeq: 2 * i,
            dedupId: `${runId}/${i}`,
            events: evs(runId, 2 * i + 1, 2 * i + 2),
          });
          expect(r.position).toEqual(expect.any(Number));
          if (runId === a) positions.push(r.position!);
        }
      }
      const all = await store.read(a);
      expect(all).toHaveLength(12);
      for (const [k, from] of [
        [3, 7],
        [4, 8],
        [1, 1],
      ] as const) {
        // Commit k (0-based) holds events 2k+1 and 2k+2.
        expect(await store.read(a, { fromSeq: from, fromPosition: positions[k]! })).toEqual(all.slice(from - 1));
      }
      // Past the commit holding event 3, or another run's commit before it: the same events all the same.
      expect(await store.read(a, { fromSeq: 3, fromPosition: positions[4]! })).toEqual(all.slice(2));
      expect(await store.read(a, { fromSeq: 3, fromPosition: positions[1]! + 1 })).toEqual(all.slice(2));
      expect(await store.read(a, { fromSeq: 5, fromPosition: 10_000_000 })).toEqual(all.slice(4));
    } finally {
      await store.close();
    }
  });

  it('engines snapshot a long run; another engine, with none of it cached, loads it through the snapshot and finishes it', async () => {
    const bucket = uid('SNAPS');
    const first = await c.addEngine({ snapshots: { every: 100, bucket } });
    await c.addWorker({
      handlers: {
        prepare: async () => ({ ok: true }),
        flaky: async (_i, ctx) => {
          if (ctx.attempt <= 120) throw new Error(`attempt ${ctx.attempt}`);
          return { attempt: ctx.attempt };
        },
        report: async (i: Record<string, unknown>) => ({ attempts: i.attempts }),
      },
    });
    await c.client.deploy(longRun);
    const { runId } = await c.client.start('snap-long', {});
    const waiting = await c.runs.wait(runId, { orWaiting: true, timeoutMs: 40_000 });
    expect(waiting.status).toBe('WAITING');
    const seqAtWait = (await c.client.store.read(runId)).length;
    expect(seqAtWait).toBeGreaterThan(360);
    // Snapshots after events 100, 200 and 300 (one per commit that crossed them); the bucket keeps the last.
    await expect.poll(() => first.stats.snapshotsWritten).toBe(3);
    const snaps = new JetStreamSnapshotStore(() => c.client.store.connection(), { bucket });
    const stored = (await snaps.get(runId))!;
    expect(stored.seq).toBeGreaterThanOrEqual(300);
    expect(stored.seq).toBeLessThan(310);
    expect(stored.position).toEqual(expect.any(Number));

    // The first engine goes; a new one has nothing cached and takes the approval.
    await c.stopEngine(first);
    const second = await c.addEngine({ snapshots: { every: 100, bucket } });
    await c.client.decide(runId, 'sign', 'approved', 'alice');
    const done = await c.runs.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.report!.output).toEqual({ attempts: 121 });
    expect(second.stats).toMatchObject({ snapshotLoads: 1, snapshotsRefused: 0 });

    // The log is the truth: its replay matches, and loading with or without the snapshot agrees.
    const log = await c.client.store.read(runId);
    const replay = replayRun(log);
    expect(replay.divergence).toBeNull();
    expect(replay.view).toEqual(done);
    const viaSnapshot = (await loadRun(c.client.store, runId, snaps))!;
    expect(viaSnapshot.fromSnapshot).toBe(stored.seq);
    expect(viaSnapshot.eventsRead).toBe(log.length - stored.seq + 1);
    expect(runView(viaSnapshot.snapshot, viaSnapshot.seq)).toEqual(done);
    await snaps.delete(runId);
    const viaLog = (await loadRun(c.client.store, runId, snaps))!;
    expect(viaLog.fromSnapshot).toBeNull();
    expect(runView(viaLog.snapshot, viaLog.seq)).toEqual(done);
  }, 90_000);
});
