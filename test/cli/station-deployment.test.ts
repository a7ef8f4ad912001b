/**
 * The station deployment template (seed use case 2) run for real through the
 * CLI (the built bin): its sh scripts build a station under a target root,
 * register it and check its health; a deployment whose health check fails is
 * rolled back by station-rollback, its failure workflow (run
 * `<runId>-failure`), which removes what that run made and nothing else; and
 * `ledgerflow history` shows both runs, each naming the other.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThanOrEqual(5);
});

const DEFINITION = join(ROOT, 'definitions/station-deployment.yaml');
const POLICIES = join(ROOT, 'definitions/samples/station/policies');
const BROKEN = join(ROOT, 'definitions/samples/station/policies-broken');

interface View {
  runId: string;
  status: string;
  output: Record<string, unknown>;
  failureRun?: string;
  tasks: Record<
    string,
    {
      status: string;
      attempts: number;
      output: Record<string, unknown>;
      error: { code: string; message: string } | null;
    }
  >;
}

/** A project directory; deployments run from it, so `stations` (the target root) is inside it. */
function project(): {
  dir: string;
  store: string;
  deploy: (station: string, policies?: string) => Promise<{ code: number | null; view: View; stderr: string }>;
} {
  const dir = tempDir('lf-station-');
  const store = join(dir, 'store');
  return {
    dir,
    store,
    async deploy(station, policies = POLICIES) {
      const r = await cli(
        [
          '--store',
          store,
          'run',
          DEFINITION,
          '--station_id',
          station,
          '--target_root',
          'stations',
          '--policies_dir',
          policies,
          '--json',
        ],
        { cwd: dir },
      );
      return { code: r.code, view: JSON.parse(r.stdout) as View, stderr: r.stderr };
    },
  };
}

const registry = (dir: string) =>
  parse(readFileSync(join(dir, 'stations/CMD.BRIDGE/STATIONS.REGISTRY.yaml'), 'utf8')) as {
    stations: { station: string; path: string; registered_by: string }[];
  };
const filesUnder = (dir: string, base = dir): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? [`${join(dir, e.name).slice(base.length + 1)}/`, ...filesUnder(join(dir, e.name), base)]
        : [join(dir, e.name).slice(base.length + 1)],
    )
    .sort();

describe('station-deployment through the CLI', () => {
  it('deploys a station: its tree, index, policies, 1N/0UT config, a registry line, and a passing health check', async () => {
    const { dir, deploy } = project();
    const { code, view, stderr } = await deploy('STATION-07');
    expect(code, stderr).toBe(0);
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({
      station_path: 'stations/STATION-07',
      index_file: 'stations/STATION-07/3OX.INDEX.yaml',
      policies: 2,
      registry_file: 'stations/CMD.BRIDGE/STATIONS.REGISTRY.yaml',
      healthy: true,
    });
    expect(view.tasks.health_check_verification!.output).toMatchObject({ healthy: true, checks: 17 });
    expect(filesUnder(join(dir, 'stations/STATION-07'))).toEqual([
      '.deployment',
      '0UT.3OX/',
      '0UT.3OX/README.txt',
      '1N.3OX/',
      '1N.3OX/README.txt',
      '1N0UT.CONFIG.yaml',
      '3OX.INDEX.yaml',
      'logs/',
      'policies/',
      'policies/INVENTORY.POLICY.yaml',
      'policies/WORKSET.POLICY.yaml',
      'workspace/',
    ]);
    const index = parse(readFileSync(join(dir, 'stations/STATION-07/3OX.INDEX.yaml'), 'utf8'));
    expect(index.index).toMatchObject({
      station: 'STATION-07',
      deployed_by_run: view.runId,
      inbox: '1N.3OX',
      outbox: '0UT.3OX',
    });
    expect(readFileSync(join(dir, 'stations/STATION-07/policies/WORKSET.POLICY.yaml'), 'utf8')).toBe(
      readFileSync(join(POLICIES, 'WORKSET.POLICY.yaml'), 'utf8'),
    );
    expect(parse(readFileSync(join(dir, 'stations/STATION-07/1N0UT.CONFIG.yaml'), 'utf8'))).toMatchObject({
      inbox: { folder: '1N.3OX' },
      outbox: { folder: '0UT.3OX' },
    });
    expect(registry(dir).stations).toEqual([
      {
        station: 'STATION-07',
        path: expect.stringMatching(/\/stations\/STATION-07$/),
        index: '3OX.INDEX.yaml',
        registered_by: view.runId,
      },
    ]);
    // Nothing to roll back: no failure run.
    expect((await cli(['--store', join(dir, 'store'), 'status', `${view.runId}-failure`])).code).not.toBe(0);
  }, 60_000);

  it('a failing health check fails the run clearly; the rollback run removes what it made, and history links both runs', async () => {
    const { dir, store, deploy } = project();
    const ok = await deploy('STATION-07');
    expect(ok.code, ok.stderr).toBe(0);
    const before = filesUnder(join(dir, 'stations/STATION-07'));

    const { code, view } = await deploy('STATION-13', BROKEN);
    expect(code).toBe(1);
    expect(view.status).toBe('FAILED');
    // Everything up to the health check went through: the station was made and registered, then found unhealthy.
    expect(view.tasks.register_with_cmd_bridge!.status).toBe('COMPLETED');
    const health = view.tasks.health_check_verification!;
    expect(health).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'LF_COMMAND_EXIT' } });
    expect(health.error!.message).toContain(
      'policy stations/STATION-13/policies/ROUTING.POLICY.yaml lists no required_files, recommended_files or forbidden_files',
    );

    const failureId = `${view.runId}-failure`;
    const rollback = JSON.parse((await cli(['--store', store, 'status', failureId, '--json'])).stdout) as View & {
      workflowId: string;
      parent: unknown;
    };
    expect(rollback).toMatchObject({
      status: 'COMPLETED',
      workflowId: 'station-rollback',
      parent: { runId: view.runId, workflowId: 'station-deployment', relation: 'failure' },
      output: { unregistered: true, removed: true },
    });
    // Gone: the station and its registry line; the station deployed before is untouched and still listed.
    expect(existsSync(join(dir, 'stations/STATION-13'))).toBe(false);
    expect(registry(dir).stations.map((s) => s.station)).toEqual(['STATION-07']);
    expect(filesUnder(join(dir, 'stations/STATION-07'))).toEqual(before);

    const failedHistory = (await cli(['--store', store, 'history', view.runId])).stdout;
    expect(failedHistory).toContain('task.failed        health_check_verification attempt 1');
    expect(failedHistory).toContain(`→ failure workflow run ${failureId}`);
    const rollbackHistory = (await cli(['--store', store, 'history', failureId])).stdout;
    expect(rollbackHistory).toContain(`(failure workflow of run ${view.runId})`);
    expect(rollbackHistory).toMatch(/task\.completed\s+remove_station attempt 1/);
    expect((await cli(['--store', store, 'list'])).stdout).toContain(`${failureId}  station-rollback`);
  }, 90_000);

  it('a station that is already there fails the preflight, and the rollback leaves it (and its registration) alone', async () => {
    const { dir, store, deploy } = project();
    const first = await deploy('STATION-07');
    expect(first.code, first.stderr).toBe(0);
    const before = filesUnder(join(dir, 'stations/STATION-07'));

    const again = await deploy('STATION-07');
    expect(again.code).toBe(1);
    expect(again.view.tasks.preflight).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(again.view.tasks.preflight!.error!.message).toContain(
      `station stations/STATION-07 already exists (deployed by run ${first.view.runId})`,
    );
    expect(again.view.tasks.create_folder_structure!.status).toBe('SKIPPED');
    const rollback = JSON.parse(
      (await cli(['--store', store, 'status', `${again.view.runId}-failure`, '--json'])).stdout,
    ) as View;
    expect(rollback).toMatchObject({ status: 'COMPLETED', output: { unregistered: false, removed: false } });
    expect(rollback.output.station_note).toBe(
      `stations/STATION-07 was deployed by run ${first.view.runId}, not by the failed run ${again.view.runId}: left alone`,
    );
    expect(filesUnder(join(dir, 'stations/STATION-07'))).toEqual(before);
    expect(registry(dir).stations).toEqual([
      expect.objectContaining({ station: 'STATION-07', registered_by: first.view.runId }),
    ]);
  }, 90_000);

  it('registration waits out a registry lock another deployment holds: the attempt fails, the retry goes through', async () => {
    const { dir, store } = project();
    const lock = join(dir, 'stations/CMD.BRIDGE/STATIONS.REGISTRY.yaml.lock');
    mkdirSync(lock, { recursive: true });
    const child = spawnCli(
      ['--store', store, 'run', DEFINITION, '--station_id', 'STATION-09', '--target_root', 'stations', '--json'],
      { cwd: dir },
    );
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((res) => child.on('close', res));
    // Once an attempt has been refused by the lock, the other deployment lets go of it.
    await waitFor(
      'an attempt refused by the lock',
      async () => {
        const list = await cli(['--store', store, 'list', '--json']);
        const runId = list.code === 0 ? (JSON.parse(list.stdout) as { runId: string }[])[0]?.runId : undefined;
        return (
          !!runId &&
          (await cli(['--store', store, 'history', runId])).stdout.includes(
            'is locked by another deployment or rollback',
          )
        );
      },
      { timeout: 30_000, interval: 0 },
    );
    rmdirSync(lock);
    expect(await exited).toBe(0);
    const view = JSON.parse(stdout) as View;
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.register_with_cmd_bridge!.attempts).toBeGreaterThan(1);
    expect(registry(dir).stations.map((s) => s.station)).toEqual(['STATION-09']);
  }, 90_000);

  it('refuses a station id that is no folder name before anything is written', async () => {
    const { dir, deploy } = project();
    const { code, view } = await deploy('../escape');
    expect(code).toBe(1);
    expect(view.tasks.preflight!.error!.message).toContain("station_id '../escape' is not a station id");
    expect(existsSync(join(dir, 'stations'))).toBe(false);
    expect(existsSync(join(dir, 'escape'))).toBe(false);
    // Its rollback has nothing to undo, and says so rather than failing.
    const rollback = JSON.parse(
      (await cli(['--store', join(dir, 'store'), 'status', `${view.runId}-failure`, '--json'])).stdout,
    ) as View;
    expect(rollback).toMatchObject({ status: 'COMPLETED', output: { unregistered: false, removed: false } });
    expect(rollback.output.station_note).toContain('is not a station id');
  }, 60_000);

  it('runs from a copy made by ledgerflow new --id, the rollback renamed with it', async () => {
    const dir = tempDir('lf-station-new-');
    const made = await cli(['new', 'station-deployment', '--id', 'edge-deploy', '--dir', dir]);
    expect(made.code, made.stderr).toBe(0);
    expect(readFileSync(join(dir, 'definitions/edge-deploy.yaml'), 'utf8')).toMatch(
      /failure_workflow:\n\s+id: edge-deploy-station-rollback/,
    );
    cpSync(BROKEN, join(dir, 'broken'), { recursive: true });
    const r = await cli(
      [
        '--store',
        join(dir, 'store'),
        'run',
        'definitions/edge-deploy.yaml',
        '--station_id',
        'S1',
        '--target_root',
        'stations',
        '--policies_dir',
        'broken',
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(1);
    const { runId } = JSON.parse(r.stdout) as View;
    const rollback = JSON.parse(
      (await cli(['--store', join(dir, 'store'), 'status', `${runId}-failure`, '--json'])).stdout,
    );
    expect(rollback).toMatchObject({
      workflowId: 'edge-deploy-station-rollback',
      status: 'COMPLETED',
      output: { removed: true },
    });
    expect(existsSync(join(dir, 'stations/S1'))).toBe(false);
  }, 90_000);
});
