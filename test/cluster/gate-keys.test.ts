/**
 * What an engine with nothing to do leaves on its nats-server: its gate tick (every second) lists the debounce and
 * throttle gates (KvGateStore.keys), which makes no consumer while none was ever written (the client's kv.keys()
 * leaves an ordered consumer for five minutes a call); once one is, the keys are the live ones, a deleted gate left out.
 */
import { describe, expect, it } from 'vitest';
import { GATES_BUCKET, KvGateStore } from '../../src/cluster/engine/index.js';
import { jetstream } from '../../src/store/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)('the gates an idle engine ticks', () => {
  const c = useCluster();

  it('are listed without leaving a consumer on the gates bucket while none was written; then the live gates', async () => {
    const jsm = await c.jsm();
    const consumers = async () => (await jsm.streams.info(`KV_${GATES_BUCKET}`)).state.consumer_count;
    const store = new KvGateStore(jetstream(await c.admin()));
    // Three gate ticks of an engine whose workflows have no debounce or throttle.
    for (let i = 0; i < 3; i++) expect(await store.keys()).toEqual([]);
    expect(await consumers()).toBe(0);
    const state = { workflowId: 'w', trigger: 't', kind: 'debounce', pending: [] } as never;
    const revision = await store.put('w.t.a', state, null);
    await store.put('w.t.b', state, null);
    expect((await store.keys()).sort()).toEqual(['w.t.a', 'w.t.b']);
    await store.put('w.t.a', null, revision);
    expect(await store.keys()).toEqual(['w.t.b']);
  }, 60_000);
});
