/**
 * KV values written with compare-and-set on the store's reply subscription
 * (src/store/jetstream/kv-cas.ts), as the run index projection writes a run's
 * record: what the client's kv.create and kv.update do, against a real
 * nats-server, read back with the client's own kv.get.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { KvCas, Kvm, jetstream } from '../../src/store/index.js';
import { isCasConflict } from '../../src/query/jetstream-bucket.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';

describe.skipIf(noNats)(`KV compare-and-set on one reply subscription${skipNote}`, () => {
  const c = useCluster({});

  it('creates a key that is not there, updates it at the revision read, and refuses a stale revision or a second create', async () => {
    const nc: NatsConnection = await c.connect();
    const bucket = `CAS_${uniqueId().replace(/[^A-Za-z0-9]/g, '')}`;
    const kv = await new Kvm(jetstream(nc)).create(bucket, { history: 1 });
    const cas = new KvCas(nc, bucket);
    const r1 = await cas.put('run-1', '{"v":1}', null);
    expect((await kv.get('run-1'))?.string()).toBe('{"v":1}');
    expect((await kv.get('run-1'))?.revision).toBe(r1);
    const r2 = await cas.put('run-1', '{"v":2}', r1);
    expect(r2).toBeGreaterThan(r1);
    const stale = await cas.put('run-1', '{"v":3}', r1).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCasConflict(stale)).toBe(true);
    const again = await cas.put('run-1', '{"v":4}', null).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCasConflict(again)).toBe(true);
    expect((await kv.get('run-1'))?.string()).toBe('{"v":2}');
    // A deleted key keeps its marker: a create conflicts, a write at the marker's revision is taken.
    await kv.delete('run-1');
    const marker = await kv.get('run-1');
    expect(marker?.operation).toBe('DEL');
    expect(
      isCasConflict(
        await cas.put('run-1', '{"v":5}', null).then(
          () => null,
          (e: unknown) => e,
        ),
      ),
    ).toBe(true);
    await cas.put('run-1', '{"v":5}', marker!.revision);
    expect((await kv.get('run-1'))?.string()).toBe('{"v":5}');
  });
});
