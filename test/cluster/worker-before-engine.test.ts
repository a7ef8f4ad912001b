/**
 * A worker brought up before any engine (docs/nats.md: workers and engines start in any order): it waits for the
 * engines' attempt key and says so; once an engine has put the key there it says it found it, and it takes the
 * attempts. Its log's last word must not stay "waiting" while it works.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { spawnLedgerflow } from '../helpers/cluster-run.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const ONE = `workflow:
  id: early-worker
  version: 1
  tasks:
    - { id: greet, type: SIMPLE }
`;
const HANDLERS = `export default { greet: async () => ({ hello: 'world' }) };
`;

describe.skipIf(noNats)('a worker started before any engine', () => {
  const c = useCluster({ server: 'own' });

  it('says it waits for the attempt key, then that it found it, and runs the attempts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-early-worker-'));
    writeFileSync(join(dir, 'one.yaml'), ONE);
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    const markers = join(dir, 'markers');
    const worker = spawnLedgerflow('worker', ['--nats', c.as('worker'), 'worker', '--handlers', 'handlers.mjs'], {
      cwd: dir,
      markers,
    });
    c.defer(() => worker.kill());
    await waitFor('the worker to say it waits for the key', () => /attempt key .*waiting/.test(worker.output()), {
      timeout: 30_000,
      detail: () => worker.output(),
    });
    expect(worker.output()).not.toMatch(/attempt key found/);

    const engine = spawnLedgerflow('engine', ['--nats', c.url, 'engine'], { cwd: dir, markers });
    c.defer(() => engine.kill());
    await engine.started();
    await waitFor('the worker to say it found the key', () => /attempt key found/.test(worker.output()), {
      timeout: 30_000,
      detail: () => worker.output(),
    });
    const deployed = await cli(['--nats', c.url, 'deploy', 'one.yaml'], { cwd: dir });
    expect(deployed.code, deployed.stderr).toBe(0);
    const { runId } = await c.client.start('early-worker', {});
    const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
    expect(view.status, `${worker.output()}\n${engine.output()}`).toBe('COMPLETED');
    expect(view.tasks.greet?.output).toEqual({ hello: 'world' });
  }, 90_000);
});
