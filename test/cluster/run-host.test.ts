/**
 * The NATS engine's commit (src/cluster/engine/run-host.ts) goes through the
 * executors' one commit loop: when another engine appends first, the round
 * runs again on the run as it is now, and a run contended past the bound
 * fails with LF_COMMIT_CONTENDED, nothing written and no effect published.
 * The store is the in-memory one: the loop is the same on any store.
 */
import { describe, expect, it } from 'vitest';
import { AppendConflictError, CommitContendedError } from '../../src/errors/index.js';
import { MAX_COMMIT_ROUNDS } from '../../src/executor/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import { Engine } from '../../src/local/index.js';
import type { Effect } from '../../src/runtime/index.js';
import { MemoryEventStore, type AppendRequest } from '../../src/store/index.js';
import { RunHost } from '../../src/cluster/engine/run-host.js';
import { def } from '../helpers/engine.js';

const gate = def(`
workflow:
  id: host-gate
  name: Gate
  version: 1
  tasks:
    - { id: work, type: SIMPLE }
`);

const NOW = Date.UTC(2026, 0, 1, 9);
const cancel = (by: string): PendingEvent => ({
  type: 'run.cancelled',
  time: new Date(NOW).toISOString(),
  data: { by },
});

async function setUp() {
  const store = new MemoryEventStore();
  const runId = await new Engine({ store }).start(gate, {});
  const stats = { commits: 0, conflicts: 0, stale: 0, snapshotsWritten: 0, snapshotLoads: 0, snapshotsRefused: 0 };
  const published: Effect[][] = [];
  const host = new RunHost({
    store,
    snapshots: null,
    snapshotEvery: 0,
    stats,
    now: () => NOW,
    log: () => {},
    after: {
      publish: async (effects) => {
        published.push(effects);
      },
      notify: async () => {},
      settled: async () => {},
    },
  });
  return { store, runId, stats, published, host };
}

describe("the NATS engine's commit", () => {
  it('loses a round to another writer, then decides again on the run as that writer left it', async () => {
    const { store, runId, stats, published, host } = await setUp();
    await host.load(runId); // cached as it was before the other engine's commit
    const append = store.append.bind(store);
    let rounds = 0;
    store.append = async (req: AppendRequest) => {
      // Another engine cancels the run first: this round's append, at the sequence it read, conflicts.
      if (rounds++ === 0) await new Engine({ store }).cancel(runId, { by: 'other engine' });
      return append(req);
    };
    const after = await host.process(runId, [cancel('this engine')], { custody: null });
    expect(stats).toMatchObject({ conflicts: 1, commits: 0, stale: 1 });
    // The fresh round found the run cancelled already: this engine's cancel no longer applies and nothing more is written.
    expect(after?.snapshot.status).not.toBe('active');
    const log = await store.read(runId);
    expect(log.filter((e) => e.type === 'run.cancelled').map((e) => (e.data as { by?: string }).by)).toEqual([
      'other engine',
    ]);
    expect(published).toHaveLength(1);
  });

  it('gives up after MAX_COMMIT_ROUNDS lost rounds with LF_COMMIT_CONTENDED: nothing written, nothing published', async () => {
    const { store, runId, stats, published, host } = await setUp();
    const before = await store.lastSeq(runId);
    store.append = async (req: AppendRequest) => {
      throw new AppendConflictError(req.runId, req.expectedSeq, req.expectedSeq + 1);
    };
    const err = await host.process(runId, [cancel('this engine')], { custody: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommitContendedError);
    expect(err).toMatchObject({ code: 'LF_COMMIT_CONTENDED' });
    expect(stats).toMatchObject({ conflicts: MAX_COMMIT_ROUNDS, commits: 0 });
    expect(await store.lastSeq(runId)).toBe(before);
    expect(published).toEqual([]);
  });
});

describe("loading a run for a start's kick", () => {
  const looking = () => {
    const asked: string[] = [];
    return {
      asked,
      snapshots: {
        get: async (id: string) => {
          asked.push(id);
          return null;
        },
        put: async () => {},
        delete: async () => {},
        close: async () => {},
      },
    };
  };

  it('a kick its start marks as such looks for no snapshot; any other load does', async () => {
    const { store, runId } = await setUp();
    const { asked, snapshots } = looking();
    const stats = { commits: 0, conflicts: 0, stale: 0, snapshotsWritten: 0, snapshotLoads: 0, snapshotsRefused: 0 };
    const published: Effect[][] = [];
    const host = new RunHost({
      store,
      snapshots,
      snapshotEvery: 100,
      stats,
      now: () => NOW,
      log: () => {},
      after: {
        publish: async (effects) => {
          published.push(effects);
        },
        notify: async () => {},
        settled: async () => {},
      },
    });
    const after = await host.process(runId, [], { reconcile: true, justStarted: true, custody: null });
    expect(asked).toEqual([]);
    // It acted on the run all the same: its first task's attempt is offered.
    expect(published.flat().map((e) => e.type)).toContain('attempt.start');
    expect(after?.seq).toBeGreaterThan(1);
    const other = await new Engine({ store }).start(gate, {});
    await host.process(other, [], { reconcile: true, custody: null });
    expect(asked).toEqual([other]);
  });

  it('a run that is not new, kicked as if it were (a hostile or stale kick), is read from its whole log and goes on', async () => {
    const { store, runId, host } = await setUp();
    await host.process(runId, [], { reconcile: true, custody: null });
    const fresh = new RunHost({
      store,
      snapshots: looking().snapshots,
      snapshotEvery: 100,
      stats: { commits: 0, conflicts: 0, stale: 0, snapshotsWritten: 0, snapshotLoads: 0, snapshotsRefused: 0 },
      now: () => NOW,
      log: () => {},
      after: { publish: async () => {}, notify: async () => {}, settled: async () => {} },
    });
    const after = await fresh.process(runId, [cancel('operator')], { justStarted: true, custody: null });
    expect(after?.snapshot.status).not.toBe('active');
    expect((await store.read(runId)).map((e) => e.type)).toEqual(['run.started', 'task.started', 'run.cancelled']);
  });
});
