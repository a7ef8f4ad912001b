/**
 * docs/retention.md on NATS, with the real CLI and an engine process over a real nats-server: the page's runs
 * archived by hand (Object Store LF_ARCHIVE), out of `list` (KV LF_RUNS_INDEX too), read as before by status, history
 * and replay, restored and archived again; `retention:` archiving through the engines; a bad --older-than refused.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir, type CliResult } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { badOlderThan, followThePage, INVOICE_YAML, restoredStaysLive } from './docs-scenario.js';
import { natsFullPass } from './full-pass.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

describe.skipIf(noNats)('retention and the archive on NATS (docs/retention.md)', () => {
  const c = useCluster();

  async function startedRuns(lf: (...args: string[]) => Promise<CliResult>, n: number, workflow = 'invoice') {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const started = await lf('start', workflow, '--amount', String(i), '--json');
      expect(started.code, started.stderr).toBe(0);
      ids.push((JSON.parse(started.stdout) as { runId: string }).runId);
    }
    for (const id of ids) {
      const waited = await lf('wait', id, '--timeout', '30s', '--json');
      expect(waited.code, waited.stderr).toBe(0);
    }
    return ids;
  }

  it("archives the page's runs by hand; list leaves them out, status/history/replay read them, restore brings one back", async () => {
    const dir = tempDir('lf-retention-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    expect((await lf('deploy', 'invoice.yaml')).code).toBe(0);
    const engine = spawnCli(['--nats', c.url, 'engine'], { cwd: dir });
    procs.push(engine);
    const runIds = await startedRuns(lf, 3);
    const nc = await c.connect();
    await followThePage(lf, runIds, () => natsFullPass(nc));
    await badOlderThan(lf);
  }, 120_000);

  it('cancel, pause, resume and signal of an archived run answer as for a settled run, as on the embedded store', async () => {
    const dir = tempDir('lf-retention-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    const ran = await lf('run', 'invoice.yaml', '--amount', '1', '--json');
    expect(ran.code, ran.stderr).toBe(0);
    const runId = (JSON.parse(ran.stdout) as { runId: string }).runId;
    expect((await lf('archive', '--older-than', '0s')).code).toBe(0);
    // Before, each said "run … does not exist in this store" (LF_RUN_NOT_FOUND), while status read the run.
    const cancel = await lf('cancel', runId);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`run ${runId} is already COMPLETED; nothing to cancel, nothing recorded`);
    const resume = await lf('resume', runId);
    expect(resume.stdout + resume.stderr).toContain(`run ${runId} is already COMPLETED; nothing to resume`);
    const pause = await lf('pause', runId);
    expect(pause.code).toBe(2);
    expect(pause.stderr).toContain('the run is already COMPLETED; nothing was recorded');
    const signal = await lf('signal', runId, 'go');
    expect(signal.code).toBe(2);
    expect(signal.stderr).toContain(
      'the run has no WAIT for signal "go"; it waits for no signal; nothing was recorded',
    );
    // Nothing stored changed: still archived only, read as before.
    expect(JSON.parse((await lf('list', '--json')).stdout)).toEqual([]);
    const status = await lf('status', runId, '--json');
    expect((JSON.parse(status.stdout) as { status: string; seq: number }).seq).toBe(1);
    expect((await lf('restore', runId)).code).toBe(0);
  }, 120_000);

  it("a workflow's retention: archives its runs through the engines", async () => {
    const dir = tempDir('lf-retention-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    writeFileSync(
      join(dir, 'brief.yaml'),
      INVOICE_YAML.replace('id: invoice', 'id: brief').replace('retention: 30d', 'retention: 1s'),
    );
    expect((await lf('deploy', 'brief.yaml')).code).toBe(0);
    let out = '';
    const engine = spawnCli(['--nats', c.url, 'engine', '--archive-every', '1s'], { cwd: dir });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (out += d));
    const [runId] = await startedRuns(lf, 1, 'brief');
    const listed = async () =>
      (JSON.parse((await lf('list', '--workflow', 'brief', '--json')).stdout) as unknown[]).length;
    await waitFor('the engine to archive the run', async () => (await listed()) === 0, {
      timeout: 30_000,
      detail: () => out,
    });
    const status = JSON.parse((await lf('status', runId!, '--json')).stdout) as { status: string };
    expect(status.status).toBe('COMPLETED');
  }, 120_000);

  it('a restored run stays live for its retention again, counted from the restore, then the engines archive it', async () => {
    const dir = tempDir('lf-retention-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    writeFileSync(
      join(dir, 'again.yaml'),
      INVOICE_YAML.replace('id: invoice', 'id: again').replace('retention: 30d', 'retention: 3s'),
    );
    expect((await lf('deploy', 'again.yaml')).code).toBe(0);
    let out = '';
    const engine = spawnCli(['--nats', c.url, 'engine', '--archive-every', '300ms'], { cwd: dir });
    procs.push(engine);
    engine.stderr!.on('data', (d) => (out += d));
    const [runId] = await startedRuns(lf, 1, 'again');
    const listed = async () =>
      (JSON.parse((await lf('list', '--workflow', 'again', '--json')).stdout) as { runId: string }[]).map(
        (r) => r.runId,
      );
    await restoredStaysLive(lf, runId!, listed, () => out);
  }, 120_000);
});
