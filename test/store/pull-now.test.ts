/**
 * What the run index projection takes from its consumer in one batch
 * (src/store/jetstream/pull-now.ts, docs/queries.md): the messages stored
 * since its last pull, at once and without waiting for more, each acked on
 * its own; a consumer that is gone fails the pull (the projection then makes
 * it again), against a real nats-server.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { AckPolicy, jetstream, jetstreamManager, pullNow } from '../../src/store/index.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)(`a pull of what a consumer holds now${skipNote}`, () => {
  const c = useCluster({});

  it('takes up to a batch of what is stored, at once; less when less is there, nothing when nothing is, each message acked on its own', async () => {
    const nc: NatsConnection = await c.connect();
    const jsm = await jetstreamManager(nc);
    const stream = `PULL_${uniqueId().replace(/[^A-Za-z0-9]/g, '')}`;
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await jsm.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) await js.publish(`${stream}.r${i}`, new TextEncoder().encode(`commit ${i}`));
    const t0 = Date.now();
    const first = await pullNow(nc, stream, 'c', 3, 5000);
    expect(first.map((m) => [m.subject, m.seq, new TextDecoder().decode(m.data)])).toEqual([
      [`${stream}.r0`, 1, 'commit 0'],
      [`${stream}.r1`, 2, 'commit 1'],
      [`${stream}.r2`, 3, 'commit 2'],
    ]);
    const rest = await pullNow(nc, stream, 'c', 10, 5000);
    expect(rest.map((m) => m.seq)).toEqual([4, 5]);
    expect(await pullNow(nc, stream, 'c', 10, 5000)).toEqual([]);
    // Neither short pull waited for more: a fetch waits at least a second on a batch it cannot fill (two here).
    expect(Date.now() - t0).toBeLessThan(1900);
    for (const m of [...first, ...rest]) m.ack();
    // Acks are publishes the server applies on its own time: the floor moves to the last one.
    await expect.poll(async () => (await jsm.consumers.info(stream, 'c')).ack_floor.stream_seq).toBe(5);
    expect((await jsm.consumers.info(stream, 'c')).num_ack_pending).toBe(0);
    // Stored after: the next pull has it.
    await js.publish(`${stream}.r5`, new TextEncoder().encode('commit 5'));
    expect((await pullNow(nc, stream, 'c', 10, 5000)).map((m) => m.seq)).toEqual([6]);
  });

  it('a consumer that is not there fails the pull instead of answering nothing', async () => {
    const nc: NatsConnection = await c.connect();
    const jsm = await jetstreamManager(nc);
    const stream = `PULL_${uniqueId().replace(/[^A-Za-z0-9]/g, '')}`;
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await expect(pullNow(nc, stream, 'missing', 10, 1000)).rejects.toThrow(/missing/);
  });
});
