/**
 * The deployed registry's listing: the latest version of every workflow, as
 * the engines' schedules and sweeps and `serve`'s definitions page read it,
 * read without leaving anything behind on the server. (The KV client's
 * `keys()` leaves an ephemeral consumer per call for five minutes: a burst
 * of starts left consumers the operator's `nats consumer ls` would show.)
 */
import { describe, expect, it } from 'vitest';
import { DEFINITIONS_BUCKET } from '../../src/cluster/transport/subjects.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const flow = (id: string, version: number) => def(`workflow:\n  id: ${id}\n  version: ${version}\n  tasks:\n    - { id: a, type: SIMPLE }\n`);

describe.skipIf(noNats)('the deployed registry', () => {
  const c = useCluster({ engines: 1 });

  it('lists the latest version of each workflow deployed, and leaves no consumer on the bucket', async () => {
    for (const d of [flow('orders', 1), flow('orders', 2), flow('billing', 1)]) await c.client.deploy(d);
    for (let i = 0; i < 5; i++) {
      const listed = await c.client.deployed();
      expect(listed.map((d) => `${d.id}@${d.version}`)).toEqual(['billing@1', 'orders@2']);
    }
    const jsm = await c.jsm();
    const consumers: string[] = [];
    for await (const ci of jsm.consumers.list(`KV_${DEFINITIONS_BUCKET}`)) consumers.push(ci.name);
    expect(consumers).toEqual([]);
  });
});
