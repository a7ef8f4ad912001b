/**
 * The definition limits over NATS: `ledgerflow deploy` refuses a definition
 * over them (exit 2, nothing stored), and one already in the registry's KV
 * bucket over them (stored before the limits, or by another client) is
 * refused when read back, by `ledgerflow start` and by the library alike.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/index.js';
import { DEFINITIONS_BUCKET } from '../../src/cluster/transport/subjects.js';
import { cli, tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';

const tasks = (n: number) => Array.from({ length: n }, (_, i) => `    - { id: t${i}, type: SIMPLE }\n`).join('');

describe.skipIf(noNats)('definition limits on the deployed registry', () => {
  const c = useCluster();

  it('ledgerflow deploy refuses 5,001 tasks (exit 2, the limit named) and stores nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'many.yaml'), `workflow:\n  id: many\n  tasks:\n${tasks(5001)}`);
    const r = await cli(['deploy', join(dir, 'many.yaml'), '--nats', c.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${join(dir, 'many.yaml')}:3:3: error: workflow has 5,001 tasks, over the limit of 5,000`,
    );
    await expect(c.client.resolve('many')).rejects.toMatchObject({ code: 'LF_WORKFLOW_NOT_DEPLOYED' });
  });

  it('the library refuses to deploy a definition object over the limit (one not parsed from a file)', async () => {
    const small = def(`workflow:\n  id: built\n  tasks:\n${tasks(2)}`);
    const built = {
      ...small,
      tasks: Array.from({ length: 5001 }, (_, i) => ({ ...small.tasks[0]!, id: `t${i}`, index: i })),
    };
    await expect(c.client.deploy(built)).rejects.toMatchObject({
      code: 'LF_TOO_MANY_TASKS',
      message: expect.stringContaining('over the limit of 5,000; split it'),
    });
    await expect(c.client.resolve('built')).rejects.toMatchObject({ code: 'LF_WORKFLOW_NOT_DEPLOYED' });
  });

  it('one stored in the bucket over the limit is refused when read back: by start (exit 2) and by resolve', async () => {
    const small = def(`workflow:\n  id: stored\n  tasks:\n${tasks(1)}`);
    const stored = {
      ...small,
      tasks: Array.from({ length: 5001 }, (_, i) => ({ ...small.tasks[0]!, id: `t${i}`, index: i })),
    };
    await c.client.deploy(small); // creates the bucket
    const kv = await new Kvm(jetstream(await c.connect())).create(DEFINITIONS_BUCKET);
    await kv.put('def.oversized', JSON.stringify(stored));
    await kv.put('wf.stored.2', 'oversized');
    await kv.put('wf.stored.latest', '2');
    await expect(c.client.resolve('stored')).rejects.toMatchObject({
      code: 'LF_TOO_MANY_TASKS',
      message: expect.stringMatching(/^deployed stored@2: workflow has 5,001 tasks, over the limit of 5,000/),
    });
    const r = await cli(['start', 'stored', '--nats', c.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: deployed stored@2: workflow has 5,001 tasks, over the limit of 5,000');
    // The version within the limits still reads.
    expect((await c.client.resolve('stored@1')).tasks).toHaveLength(1);
  });

  it('a stored definition over 4 MiB is refused from its size, before it is parsed', async () => {
    const kv = await new Kvm(jetstream(await c.connect())).create(DEFINITIONS_BUCKET);
    await kv.put('def.huge', `{"id":"huge","pad":"${'x'.repeat(4 * 1024 * 1024)}"}`);
    await kv.put('wf.huge.1', 'huge');
    await kv.put('wf.huge.latest', '1');
    await expect(c.client.resolve('huge')).rejects.toMatchObject({
      code: 'LF_DEFINITION_TOO_LARGE',
      message: expect.stringMatching(
        /^def\.huge is 41943[0-9]{2} bytes: definition expands to more than 4 MiB as stored/,
      ),
    });
  });
  it('one client starting runs reads each definition once, and a deploy of a new version moves its next start to it', async () => {
    const v1 = def(`workflow:\n  id: moving\n  version: 1\n  tasks:\n${tasks(1)}`);
    const v2 = def(`workflow:\n  id: moving\n  version: 2\n  tasks:\n${tasks(2)}`);
    await c.client.deploy(v1);
    expect((await c.client.start('moving', {})).definition.version).toBe(1);
    expect((await c.client.start('moving', {})).definition.version).toBe(1);
    // Deployed by another client: this one's starts take it as soon as the deploy reaches it (after two reads of a
    // workflow's `latest` the client watches it instead of asking at each start, so a loaded machine may take a moment).
    const other = new ClusterClient(c.url);
    try {
      await other.deploy(v2);
    } finally {
      await other.close();
    }
    await waitFor('the deploy of version 2 seen by this client', async () => {
      return (await c.client.resolve('moving')).version === 2;
    });
    const next = await c.client.start('moving', {});
    expect(next.definition.version).toBe(2);
    expect(next.definition.tasks.map((t) => t.id)).toEqual(['t0', 't1']);
    expect((await c.client.start('moving@1', {})).definition.tasks.map((t) => t.id)).toEqual(['t0']);
  });
});
