/**
 * The run index's writes with hundreds of runs in flight, on a real nats-server: the projection holds a running run's
 * commits for its next ones (one KV write per burst), and when too many are held it writes the runs that have waited
 * longest, not every run at once. Writing every held run at that point wrote most runs twice at 64 in flight (1.4 KV
 * writes a five-step run on the cluster path; 1.0 with the oldest written first).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import {
  openRunIndex,
  RUNS_INDEX_BUCKET,
  RUNS_INDEX_CONSUMER,
  startRunIndexProjection,
} from '../../src/query/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { noNats, uniqueId, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { appendCommits, asRun, COMPLETED_RUN, historyCommits } from './fixtures.js';

const RUNS = 800;

describe.skipIf(noNats)('run index writes with many runs in flight', () => {
  const c = useCluster();

  it('past 768 held commits writes the runs waiting longest until 512 are held; each held run is written once, when it settles', async () => {
    const store = new JetStreamEventStore({ servers: c.url, stream: uniqueId('COALESCE_'), subjectPrefix: 'co' });
    c.defer(() => store.close());
    const history = historyCommits(COMPLETED_RUN);
    // Every commit but the last leaves the run RUNNING: a run's first commits wait for its next ones.
    expect(history.at(-2)!.at(-1)!.state.status).toBe('RUNNING');
    expect(history.at(-1)!.at(-1)!.state.status).toBe('COMPLETED');
    const runs = Array.from({ length: RUNS }, (_, i) => asRun(history, `co-${String(i).padStart(4, '0')}`, i));
    // The first commit of each run, in order: the oldest run's commit is delivered first.
    for (let i = 0; i < RUNS; i += 50)
      await Promise.all(runs.slice(i, i + 50).map((r) => appendCommits(store, r, 0, 1)));

    const nc = await c.connect();
    c.defer(() => nc.close());
    const jsm = await jetstreamManager(nc);
    const writes = async () =>
      (await jsm.streams.info(`KV_${RUNS_INDEX_BUCKET}`).catch(() => null))?.state.last_seq ?? 0;
    const before = await writes();
    // Held for a minute unless too many are held: nothing in this test is written by its timer.
    const projection = await startRunIndexProjection({ store, coalesceMs: 60_000 });
    let stopped = false;
    c.defer(() => (stopped ? undefined : projection.stop()));

    // Every first commit delivered, each run written or waiting, no write or ack in flight: the runs that wait are
    // every commit the consumer has unacknowledged. At most 768 wait, and no fewer than 512: past 768 the runs waiting
    // longest were written until 512 were left (then the last pull's commits joined them).
    const { held } = await waitFor('every first commit taken, each run written or waiting', async () => {
      const ci = await jsm.consumers.info(store.stream, RUNS_INDEX_CONSUMER);
      const w = (await writes()) - before;
      const waiting = projection.stats.waiting;
      return ci.num_pending === 0 && w + waiting === RUNS && ci.num_ack_pending === waiting ? { held: waiting } : null;
    });
    expect(held).toBeGreaterThanOrEqual(512);
    expect(held).toBeLessThanOrEqual(768);
    // The bucket itself (a reader of the index would fill in from the log what it lacks).
    const kv = await new Kvm(nc).open(RUNS_INDEX_BUCKET);
    const written = new Set<string>();
    for await (const k of await kv.keys()) written.add(k);
    // Those written are the oldest, each once; none of the newest.
    expect(written.size).toBe(RUNS - held);
    for (let i = 0; i < RUNS; i++) expect(written.has(`co-${String(i).padStart(4, '0')}`)).toBe(i < RUNS - held);

    // The rest of every run as one commit: each run settles and is written once more, the held ones included.
    for (let i = 0; i < RUNS; i += 50)
      await Promise.all(
        runs.slice(i, i + 50).map((r) => {
          const rest = r.slice(1).flat();
          const runId = rest[0]!.runId;
          return store.append({ runId, expectedSeq: rest[0]!.seq - 1, dedupId: `${runId}/rest`, events: rest });
        }),
      );
    await waitFor('every run settled in the index', async () => {
      const ci = await jsm.consumers.info(store.stream, RUNS_INDEX_CONSUMER);
      return ci.num_pending === 0 && ci.num_ack_pending === 0 ? ci : null;
    });
    const settled = (await openRunIndex({ store }).query({ limit: RUNS })).runs;
    expect(settled.filter((r) => r.status === 'COMPLETED')).toHaveLength(RUNS);
    expect((await writes()) - before).toBe(RUNS - held + RUNS);
    stopped = true;
    await projection.stop();
  }, 120_000);
});
