/**
 * `ledgerflow deploy` then `ledgerflow emit` over NATS, as docs/nats.md tells
 * a user: the event starts every workflow deployed before it was sent, also a
 * workflow deployed a moment before when another already triggers on the
 * event's type (the engine's list of definitions is not allowed to be stale).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, tempDir } from '../helpers/cli.js';

const workflow = (id: string) => `
workflow:
  id: ${id}
  name: Pinged
  version: 1
  triggers:
    - event: pinged
  tasks:
    - { id: note, type: SET, value: { seen: "\${workflow.input.who}" } }
`;

describe.skipIf(noNats)('emit right after deploy over NATS', () => {
  const c = useCluster({ engines: 1 });
  const lf = (...args: string[]) => cli(['--nats', c.url, ...args]);
  const deploy = async (id: string) => {
    const file = join(tempDir(), `${id}.yaml`);
    writeFileSync(file, workflow(id));
    const r = await lf('deploy', file);
    expect(r.code, r.stderr).toBe(0);
  };
  const emit = async (id: string) => {
    const r = await lf('emit', 'pinged', '--id', id, '--data', '{"who":"ops"}', '--json');
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as { runs: { workflowId: string; status: string }[] }).runs
      .map((x) => x.workflowId)
      .sort();
  };

  it('starts the workflow deployed just before, and again one more deployed on the same event type', async () => {
    await deploy('pinged-first');
    expect(await emit('ping-1')).toEqual(['pinged-first']);
    await deploy('pinged-second');
    expect(await emit('ping-2')).toEqual(['pinged-first', 'pinged-second']);
  }, 60_000);
});
