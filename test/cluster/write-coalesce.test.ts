/**
 * The engine and the worker write what a connection has to send once per
 * turn of the event loop (src/cluster/transport/write-coalesce.ts), not once per
 * microtask. What a caller relies on stays: every message goes out, in the
 * order published, also when the connection closes right after.
 */
import { connect, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coalesceSocketWrites } from '../../src/cluster/transport/write-coalesce.js';
import { noNats } from '../helpers/cluster.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

describe.skipIf(noNats)('socket writes once per event loop turn', () => {
  let server: NatsServer;
  let reader: NatsConnection;
  beforeAll(async () => {
    coalesceSocketWrites();
    server = await startNatsServer();
    reader = await connect({ servers: server.url });
  });
  afterAll(async () => {
    await reader?.close();
    await server?.dispose();
  });

  it('what is published from many microtasks arrives whole and in order, and what is published just before close() is not lost', async () => {
    const got: string[] = [];
    reader.subscribe('coalesce.>', { callback: (_e, m) => got.push(new TextDecoder().decode(m.data)) });
    await reader.flush();
    const nc = await connect({ servers: server.url });
    const sent: string[] = [];
    // Each publish from a promise continuation of its own, as an engine's commit, offer and ack are.
    let chain = Promise.resolve();
    for (let i = 0; i < 500; i++) chain = chain.then(() => { sent.push(`m${i}`); nc.publish(`coalesce.${i % 7}`, `m${i}`); });
    await chain;
    nc.publish('coalesce.last', 'last');
    sent.push('last');
    await nc.close();
    await waitFor('every message to arrive', () => got.length >= sent.length, { timeout: 10_000, detail: () => `${got.length} of ${sent.length}` });
    expect(got).toEqual(sent);
  });

  it('a request is answered as before (its reply read from the same turn\'s writes)', async () => {
    const nc = await connect({ servers: server.url });
    try {
      const sub = reader.subscribe('coalesce.echo', { callback: (_e, m) => m.respond(m.data) });
      await reader.flush();
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => nc.request('coalesce.echo', `q${i}`, { timeout: 5_000 })));
      expect(replies.map((r) => new TextDecoder().decode(r.data))).toEqual(Array.from({ length: 50 }, (_, i) => `q${i}`));
      sub.unsubscribe();
    } finally {
      await nc.close();
    }
  });
});
