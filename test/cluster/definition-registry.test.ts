/**
 * The deployed registry's listing: the latest version of every workflow, as
 * the engines' schedules and sweeps and `serve`'s definitions page read it,
 * read without leaving anything behind on the server. (The KV client's
 * `keys()` leaves an ephemeral consumer per call for five minutes: a burst
 * of starts left consumers the operator's `nats consumer ls` would show.)
 * A process reading the latest versions again keeps one watch of them, so
 * that its starts read nothing first; it ends when the process closes.
 */
import { jetstream } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { DefinitionRegistry } from '../../src/cluster/transport/definitions.js';
import { DEFINITIONS_BUCKET } from '../../src/cluster/transport/subjects.js';
import { def } from '../helpers/engine.js';
import { workflowOf } from '../../src/compiler/index.js';
import { definitionHash } from '../../src/definition/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const flow = (id: string, version: number) =>
  def(`workflow:\n  id: ${id}\n  version: ${version}\n  tasks:\n    - { id: a, type: SIMPLE }\n`);

describe.skipIf(noNats)('the deployed registry', () => {
  const c = useCluster({ engines: 1, handlers: { a: async () => ({ done: true }) } });

  it('lists the latest version of each workflow deployed, leaving no consumer a listing on the bucket: a process listing again keeps one watch of the latest versions', async () => {
    for (const d of [flow('orders', 1), flow('orders', 2), flow('billing', 1)]) await c.client.deploy(d);
    // A registry on a connection of its own, whose consumers are told apart by its inbox prefix.
    const nc = await c.connect(undefined, { inboxPrefix: '_INBOX_registry_test' });
    const registry = new DefinitionRegistry(jetstream(nc));
    const jsm = await c.jsm();
    const itsConsumers = async () => {
      const names: string[] = [];
      for await (const ci of jsm.consumers.list(`KV_${DEFINITIONS_BUCKET}`))
        if (ci.config.deliver_subject?.startsWith('_INBOX_registry_test')) names.push(ci.name);
      return names;
    };
    const listed = async () => (await registry.latestAll()).map((d) => `${d.id}@${d.version}`);
    expect(await listed()).toEqual(['billing@1', 'orders@2']);
    expect(await itsConsumers()).toEqual([]); // one listing reads and leaves nothing
    for (let i = 0; i < 20; i++) expect(await listed()).toEqual(['billing@1', 'orders@2']);
    await waitFor('the watch of the latest versions', async () => (await itsConsumers()).length === 1);
    // A deploy by another process reaches the watch: the next listing has it.
    await c.client.deploy(flow('orders', 3));
    await waitFor('the new version listed', async () => (await listed()).includes('orders@3'));
    expect(await itsConsumers()).toHaveLength(1);
    // Closed, it reads the key again (the server forgets the watch's consumer after its inactivity threshold).
    registry.close();
    await c.client.deploy(flow('orders', 4));
    expect(await listed()).toEqual(['billing@1', 'orders@4']);
  }, 30_000);

  it('gives the starts of a deployed version one object, which carries its own workflow value, also when they begin at once in a process whose deployed object has the shared one', async () => {
    const deployed = flow('together', 1);
    await c.client.deploy(deployed);
    // The deployer's own object holds the value shared by the hash (an in-process run of it, say): the registry's copy
    // of the same content gets one of its own, so no start hashes it again, and its JSON is still its own.
    expect(workflowOf(deployed).definition).toBe(deployed);
    const registry = new DefinitionRegistry(jetstream(await c.admin()));
    const resolved = await Promise.all(Array.from({ length: 16 }, () => registry.resolve('together')));
    expect(new Set(resolved).size).toBe(1);
    const [one] = resolved;
    expect(one).not.toBe(deployed);
    expect(workflowOf(one!).definition).toBe(one);
    expect(workflowOf(one!).hash).toBe(definitionHash(deployed));
    // Starts through the client record the deployed hash and run.
    const started = await Promise.all(Array.from({ length: 8 }, () => c.client.start('together', {})));
    expect(new Set(started.map((s) => s.definition)).size).toBe(1);
    for (const { runId } of started) {
      const view = await c.runs.wait(runId);
      expect(view.status).toBe('COMPLETED');
      const [first] = await c.client.store.read(runId, { toSeq: 1 });
      expect(first!.type === 'run.started' && first!.data.definitionHash).toBe(definitionHash(deployed));
    }
  });

  it("keeps the YAML a version was deployed from (what the dashboard's editor starts from); one deployed as an object has none", async () => {
    const text =
      'workflow:\n  id: refunds   # the file as written, comments and all\n  version: 1\n  tasks:\n    - { id: a, type: SIMPLE }\n';
    await c.client.deploy(def(text), text);
    await c.client.deploy(flow('plain', 1));
    const js = jetstream(await c.admin());
    const registry = new DefinitionRegistry(js);
    expect(await registry.text('refunds', 1)).toBe(text);
    expect(await registry.text('plain', 1)).toBeNull();
    expect(await registry.text('refunds', 9)).toBeNull();
    // The same content deployed again with another text is unchanged: the first text stays.
    expect((await c.client.deploy(def(text), `${text}# again\n`)).changed).toBe(false);
    expect(await new DefinitionRegistry(js).text('refunds', 1)).toBe(text);
  });
});
