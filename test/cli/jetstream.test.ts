import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, skipNote, useCluster } from '../helpers/cluster.js';
import { openStore } from '../../src/store/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

// The test run's nats-server.
const nats = useCluster({ server: 'shared' });
const BUNDLED = join(ROOT, 'definitions', 'inventory-validation.yaml');
const SAMPLES = join(ROOT, 'definitions', 'samples');
const FIXTURES = join(ROOT, 'test', 'fixtures');

async function expectReplays(runId: string): Promise<void> {
  const store = openStore({ nats: nats.url });
  try {
    expect(replayRun(await store.read(runId)).divergence).toBeNull();
  } finally {
    await store.close();
  }
}

describe.skipIf(noNats)(`the CLI on NATS JetStream (--nats)${skipNote}`, () => {
  it('runs the seed workflow with its log in JetStream; approve, resume, list, history and replay read it back', async () => {
    const cwd = tempDir();
    const policy = join(cwd, 'strict.yaml');
    writeFileSync(policy, 'required_files: [README.md, SECURITY.md]\n');
    const run = await cli(
      [
        '--nats',
        nats.url,
        'run',
        BUNDLED,
        '--target_folder',
        join(SAMPLES, '0UT.3OX'),
        '--policy_file',
        policy,
        '--json',
      ],
      { cwd },
    );
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);
    expect(existsSync(join(cwd, '.ledgerflow'))).toBe(false); // nothing went to the embedded store

    // Over NATS an approval is published as the approver's NATS user, and an engine records it.
    const engine = spawnCli(['--nats', nats.url, 'engine']);
    try {
      // Over NATS, the hints name the NATS way to decide: as an approver's NATS user, and engines continue.
      const waiting = await cli(['--nats', nats.url, 'wait', runId, '--or-waiting']);
      expect(waiting.code).toBe(3);
      expect(waiting.stdout).toContain(
        `waiting for approval of alert_cmd_bridge: ledgerflow approve ${runId} alert_cmd_bridge --nats ${nats.url.replace('nats://', 'nats://<approver>:<password>@')}`,
      );
      expect(waiting.stdout).toContain(
        `an engine records the decision; running engines (with workers), or ledgerflow resume ${runId}, continue the run`,
      );
      expect(waiting.stderr).not.toMatch(/reached/);
      // Without --or-waiting, a --timeout ends the wait on a waiting run, and says so (exit 3, as the status).
      const timedOut = await cli(['--nats', nats.url, 'wait', runId, '--timeout', '300ms']);
      expect(timedOut.code).toBe(3);
      expect(timedOut.stderr).toContain(
        `--timeout 300ms reached: run ${runId} is still WAITING (--or-waiting returns as soon as it waits for a person or is paused)`,
      );
      const commander = nats.as('commander');
      const published = await cli([
        '--nats',
        commander,
        'approve',
        runId,
        'alert_cmd_bridge',
        '--comment',
        'known gap',
      ]);
      expect(published.stderr).toBe('');
      expect(published.code).toBe(0);
      const waited = await cli(['--nats', nats.url, 'wait', runId, '--timeout', '20s', '--json']);
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout).tasks.alert_cmd_bridge).toMatchObject({
        status: 'COMPLETED',
        output: { by: 'commander', comment: 'known gap' },
      });
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
    const status = JSON.parse((await cli(['--nats', nats.url, 'status', runId, '--json'])).stdout);
    expect(status.status).toBe('COMPLETED');
    const list = JSON.parse((await cli(['list', '--json'], { env: { LEDGERFLOW_NATS_URL: nats.url } })).stdout);
    expect(list).toContainEqual(
      expect.objectContaining({ runId, status: 'COMPLETED', workflowId: 'inventory-validation-v1' }),
    );
    // A flag given wins over the variable (docs/nats.md): --store is the embedded store, on every command.
    const elsewhere = join(tempDir(), 'store');
    const local = await cli(['--store', elsewhere, 'list', '--json'], { env: { LEDGERFLOW_NATS_URL: nats.url } });
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout)).toEqual([]);
    const doctor = await cli(['--store', elsewhere, 'doctor'], { env: { LEDGERFLOW_NATS_URL: nats.url } });
    expect(doctor.code).toBe(2);
    expect(doctor.stderr).toContain('--store names the embedded store (the flag wins over LEDGERFLOW_NATS_URL)');
    const history = JSON.parse((await cli(['--nats', nats.url, 'history', runId, '--json'])).stdout);
    expect(history.at(-1)).toMatchObject({ type: 'approval.recorded', data: { by: 'commander' } });
    expect((await cli(['--nats', nats.url, 'replay', runId])).code).toBe(0);
    // Every run of the workflow in the stream, read in one pass.
    const all = await cli(['--nats', nats.url, 'replay', '--all', '--workflow', 'inventory-validation-v1', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({
      workflowId: 'inventory-validation-v1',
      runs: expect.any(Number),
      diverged: 0,
      problems: [],
    });
    expect(JSON.parse(all.stdout).runs).toBeGreaterThanOrEqual(1);
    await expectReplays(runId);
  }, 60_000);

  it('a run started now records state hash format 2; replay --to and replay --all --definition check it on JetStream', async () => {
    const cwd = tempDir();
    const run = await cli(['--nats', nats.url, 'run', join(FIXTURES, 'slow.yaml'), '--ms', '10', '--json'], { cwd });
    expect(run.code).toBe(0);
    const { runId } = JSON.parse(run.stdout);
    const history = JSON.parse((await cli(['--nats', nats.url, 'history', runId, '--json'])).stdout);
    expect(history[0]).toMatchObject({ type: 'run.started', data: { stateHashVersion: 2 } });
    const at = await cli(['--nats', nats.url, 'replay', runId, '--to', '4', '--json']);
    expect(at.code).toBe(0);
    expect(JSON.parse(at.stdout)).toMatchObject({
      toSeq: 4,
      divergence: null,
      view: { tasks: { first: { status: 'COMPLETED' }, slow: { status: 'IN_PROGRESS' } } },
    });
    const v2 = join(cwd, 'slow-v2.yaml');
    writeFileSync(
      v2,
      readFileSync(join(FIXTURES, 'slow.yaml'), 'utf8')
        .replace('version: 1', 'version: 2')
        .replace('handlers: ./handlers.mjs', `handlers: ${join(FIXTURES, 'handlers.mjs')}`),
    );
    const all = await cli(['--nats', nats.url, 'replay', '--all', '--definition', v2, '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({
      workflowId: 'slow-middle',
      diverged: 0,
      incompatible: 0,
      problems: [],
      candidate: { workflowId: 'slow-middle', version: 2 },
    });
    await expectReplays(runId);
  }, 60_000);

  it('a run killed with SIGKILL mid-task resumes from JetStream without re-running the completed task', async () => {
    const cwd = tempDir();
    const markers = join(cwd, 'markers');
    const child = spawnCli(['--nats', nats.url, 'run', join(FIXTURES, 'slow.yaml'), '--ms', '3000', '--json'], {
      cwd,
      env: { LF_MARKERS: markers },
    });
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    await waitFor('slow to start', () => existsSync(markers) && readFileSync(markers, 'utf8').includes('slow 1'), {
      timeout: 15_000,
      detail: () => out,
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    const runId = /run (\S+) started/.exec(out)![1]!;
    const r = await cli(['--nats', nats.url, 'resume', runId, '--json'], { cwd, env: { LF_MARKERS: markers } });
    expect(r.code).toBe(0);
    const lines = readFileSync(markers, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('first ') && l.includes(' start '))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('slow ') && l.includes(' start ')).map((l) => l.split(' ')[2])).toEqual([
      `${runId}/slow/1`,
      `${runId}/slow/1`,
    ]);
    await expectReplays(runId);
  }, 60_000);

  it('engine refuses a --snapshot-every or --concurrency that is not a whole number, before connecting', async () => {
    const bad = await cli(['--nats', nats.url, 'engine', '--snapshot-every', '1k']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--snapshot-every 1k must be a whole number of at least 0/);
    const zero = await cli(['--nats', nats.url, 'engine', '--concurrency', '0']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--concurrency 0 must be a whole number of at least 1/);
  });
});
