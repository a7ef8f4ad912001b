/**
 * The store's shared documents on a real nats-server (KV LF_TASK_GATES: the limits, the agent queues, the gates): what
 * is written is read back, a missing or deleted document is null, and a bucket that allows no direct get (made by an
 * older client) is read all the same. Reads go by a direct get on the store's reply subscription; the KV client's own
 * get stays the way for a bucket without it.
 */
import { Kvm } from '@nats-io/kv';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { JetStreamEventStore, TASK_GATES_BUCKET } from '../../src/store/index.js';
import { noNats, uniqueId, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)('shared documents on JetStream', () => {
  const c = useCluster();

  const storeOn = () => {
    const id = uniqueId();
    const store = new JetStreamEventStore({ servers: c.url, stream: `SD_${id}`, subjectPrefix: `sd.${id}` });
    c.defer(() => store.close());
    return store;
  };

  it('reads back what was written, null for a document never written or deleted, and a change at once', async () => {
    const store = storeOn();
    const name = uniqueId('doc-');
    expect(await store.readShared!(name)).toBeNull();
    await store.updateShared!(name, () => ({ doc: { holders: ['r1'] }, result: null }));
    expect(await store.readShared!(name)).toEqual({ holders: ['r1'] });
    // Another process's change (a second store on the same server) is seen by the next read.
    const other = storeOn();
    await other.updateShared!(name, (doc) => ({
      doc: { holders: [...(doc as { holders: string[] }).holders, 'r2'] },
      result: null,
    }));
    expect(await store.readShared!(name)).toEqual({ holders: ['r1', 'r2'] });
    // Reads at once share what the server answers, each its own object.
    const [a, b] = await Promise.all([store.readShared!(name), store.readShared!(name)]);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    const nc = await c.connect();
    c.defer(() => nc.close());
    await (await new Kvm(nc).open(TASK_GATES_BUCKET)).delete(name);
    expect(await store.readShared!(name)).toBeNull();
  });

  it('reads a bucket that allows no direct get, as an older client made it', async () => {
    const nc = await c.connect();
    c.defer(() => nc.close());
    const jsm = await jetstreamManager(nc);
    // Made as a KV bucket, but without allow_direct, before any store of this server opens it.
    await jsm.streams.delete(`KV_${TASK_GATES_BUCKET}`).catch(() => undefined);
    await jsm.streams.add({
      name: `KV_${TASK_GATES_BUCKET}`,
      subjects: [`$KV.${TASK_GATES_BUCKET}.>`],
      max_msgs_per_subject: 1,
      discard: 'new' as never,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: false,
    });
    const store = storeOn();
    const name = uniqueId('doc-');
    expect(await store.readShared!(name)).toBeNull();
    await store.updateShared!(name, () => ({ doc: { v: 1 }, result: null }));
    expect(await store.readShared!(name)).toEqual({ v: 1 });
    expect((await jsm.streams.info(`KV_${TASK_GATES_BUCKET}`)).config.allow_direct).toBe(false);
  });
});
