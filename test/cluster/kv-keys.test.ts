/**
 * NATS: a KV bucket's keys listed while keys come and go. The KV client's own listing waited for ever when a key it
 * had counted was deleted as it listed (one listing in three with one key put and deleted in turn): an engine's
 * trigger-gate ticks, which list the gates every second, then stopped for good, as the dashboard's progress stream
 * did. Every listing must answer within seconds, with exactly the keys that have a value.
 */
import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { GATES_BUCKET, KvGateStore } from '../../src/cluster/engine/trigger-gates.js';
import { kvKeys } from '../../src/store/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)('NATS: KV keys listed as keys come and go', () => {
  const c = useCluster();

  it('lists exactly the keys with a value: deleted and purged ones left out, the filter kept', async () => {
    const js = jetstream(await c.admin());
    const bucket = `T${randomBytes(4).toString('hex')}`;
    const kv = await new Kvm(js).create(bucket, { history: 1 });
    for (let i = 0; i < 30; i++) await kv.put(`a.${i}`, 'x');
    for (let i = 0; i < 5; i++) await kv.put(`b.${i}`, 'x');
    for (let i = 0; i < 30; i += 3) await kv.delete(`a.${i}`);
    await kv.purge('a.1');
    await kv.put('a.3', 'again'); // deleted, then given a value again
    const live = [...Array(30).keys()].filter((i) => i % 3 !== 0 && i !== 1).concat(3);
    expect(await kvKeys(js, bucket, 'a.*')).toEqual(live.map((i) => `a.${i}`).sort());
    expect(await kvKeys(js, bucket)).toEqual(
      [...live.map((i) => `a.${i}`), ...[0, 1, 2, 3, 4].map((i) => `b.${i}`)].sort(),
    );
    expect(await kvKeys(js, bucket, 'c.>')).toEqual([]);
  });

  it("an engine's gate listing answers every time while a gate is put and deleted as it lists", async () => {
    const js = jetstream(await c.admin());
    const gates = new KvGateStore(js);
    await gates.keys(); // makes the bucket
    const kv = await new Kvm(js).open(GATES_BUCKET);
    const key = `w${randomBytes(4).toString('hex')}.burst.k`;
    await kv.put(`${key}-kept`, '{}');
    let busy = true;
    // One debounce gate opened and closed again and again by another engine.
    const churn = (async () => {
      for (let i = 0; busy; i++) {
        if (i % 2 === 0) await kv.put(key, '{}');
        else await kv.delete(key);
      }
    })();
    const slow: string[] = [];
    try {
      for (let k = 0; k < 100; k++) {
        const began = Date.now();
        const listed = await Promise.race([
          gates.keys(),
          new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
        ]);
        const ms = Date.now() - began;
        if (listed === 'hung' || ms > 3000)
          slow.push(`listing ${k}: ${listed === 'hung' ? 'no answer in 10 s' : `${ms} ms`}`);
        else expect(listed).toContain(`${key}-kept`);
      }
    } finally {
      busy = false;
      await churn;
    }
    expect(slow).toEqual([]);
  }, 300_000);
});
