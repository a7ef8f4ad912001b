/**
 * The state file as docs/state-file.md tells a user to use it, with seed
 * 000's layout: `mkdir .3ox`, the seed's inventory validation on a strict
 * policy (it waits for the commander), the file read, the approval, the file
 * again, `state-file` and `state-file --rebuild` byte for byte; then what
 * turns it off, where it may not go, how many settled runs it keeps, and a
 * reader that never sees half a file. Real CLI processes on the embedded store.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, ROOT, spawnCli, storeFiles, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const SEED = join(ROOT, 'definitions', 'inventory-validation.yaml');
const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
/** The default rule, as a user has it (the helpers turn the state file off for every other test). */
const env = { LEDGERFLOW_STATE_FILE: '' };

function project(): string {
  const cwd = tempDir();
  cpSync(join(ROOT, 'definitions', 'samples', '0UT.3OX'), join(cwd, '0UT.3OX'), { recursive: true });
  writeFileSync(join(cwd, 'strict.yaml'), 'required_files: [README.md, SECURITY.md]\n');
  return cwd;
}

const read = (cwd: string, file = '.3ox/workflow.state.yaml') => readFileSync(join(cwd, file), 'utf8');

describe('the state file (docs/state-file.md)', () => {
  it("mkdir .3ox, run, approve: the file shows seed 000's layout at each step, and state-file prints and rebuilds the same bytes", async () => {
    const cwd = project();
    mkdirSync(join(cwd, '.3ox'));
    const run = await cli(
      ['--store', 'store', 'run', SEED, '--target_folder', '0UT.3OX', '--policy_file', 'strict.yaml', '--json'],
      { cwd, env },
    );
    expect(run.code, run.stderr).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;

    const waiting = parse(read(cwd));
    expect(Object.keys(waiting)).toEqual([runId]);
    expect(waiting[runId]).toMatchObject({
      id: runId,
      definition_id: 'inventory-validation-v1',
      status: 'WAITING',
      created_at: expect.any(String),
      completed_at: null,
      execution_time: null,
      input: { target_folder: '0UT.3OX', policy_file: 'strict.yaml', strict_mode: false },
    });
    const tasks = waiting[runId].tasks;
    expect(tasks.scan_files).toMatchObject({
      status: 'COMPLETED',
      started_at: expect.any(String),
      completed_at: expect.any(String),
      attempts: 1,
      execution_time: expect.stringMatching(/^\d+(\.\d)?(ms|s)$/),
      output: { total_files: 4 },
    });
    expect(tasks.validate_compliance.output).toMatchObject({ compliance_status: 'FAIL_STRICT' });
    expect(tasks.decision_gate).toMatchObject({
      status: 'COMPLETED',
      decision: 'FAIL_STRICT',
      next_tasks: ['alert_cmd_bridge'],
    });
    expect(tasks.generate_receipt).toEqual({ status: 'SKIPPED' });
    expect(tasks.alert_cmd_bridge).toMatchObject({
      status: 'PENDING_APPROVAL',
      waiting_since: expect.any(String),
      timeout_at: expect.any(String),
    });
    // The approval deadline is the task's timeout (1h) after it began waiting.
    expect(Date.parse(tasks.alert_cmd_bridge.timeout_at) - Date.parse(tasks.alert_cmd_bridge.waiting_since)).toBe(
      3_600_000,
    );

    // Editing the file by hand changes nothing about the run.
    writeFileSync(join(cwd, '.3ox/workflow.state.yaml'), `${runId}: { status: COMPLETED }\n`);
    expect(JSON.parse((await cli(['--store', 'store', 'status', runId, '--json'], { cwd, env })).stdout).status).toBe(
      'WAITING',
    );

    const approved = await cli(['--store', 'store', 'approve', runId, 'alert_cmd_bridge', '--as', 'commander'], {
      cwd,
      env,
    });
    expect(approved.code, approved.stderr).toBe(0);
    const done = parse(read(cwd))[runId];
    expect(done).toMatchObject({
      status: 'COMPLETED',
      completed_at: expect.any(String),
      execution_time: expect.stringMatching(/^\d+(\.\d)?(ms|s)$/),
    });
    expect(done.tasks.alert_cmd_bridge).toMatchObject({ status: 'COMPLETED', decided_by: 'commander' });
    expect(done.tasks.alert_cmd_bridge.waiting_since).toBeUndefined();

    const live = read(cwd);
    const printed = await cli(['--store', 'store', 'state-file'], { cwd, env });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(live);
    rmSync(join(cwd, '.3ox/workflow.state.yaml'));
    const rebuilt = await cli(['--store', 'store', 'state-file', '--rebuild'], { cwd, env });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(read(cwd)).toBe(live);
  }, 60_000);

  it("the definition's monitoring: block keeps it without a .3ox folder; --no-state-file and LEDGERFLOW_STATE_FILE=off keep none; a definition without one keeps none", async () => {
    const cwd = project();
    // The seed's definition has a monitoring: block (seed 003's).
    expect(
      (
        await cli(['--store', 'store', 'run', SEED, '--target_folder', '0UT.3OX', '--policy_file', 'strict.yaml'], {
          cwd,
          env,
        })
      ).code,
    ).toBe(3);
    expect(existsSync(join(cwd, '.3ox/workflow.state.yaml'))).toBe(true);

    const other = project();
    expect(
      (
        await cli(
          [
            '--store',
            'store',
            'run',
            SEED,
            '--target_folder',
            '0UT.3OX',
            '--policy_file',
            'strict.yaml',
            '--no-state-file',
          ],
          { cwd: other, env },
        )
      ).code,
    ).toBe(3);
    expect(
      (
        await cli(['--store', 'store', 'run', SEED, '--target_folder', '0UT.3OX', '--policy_file', 'strict.yaml'], {
          cwd: other,
          env: { LEDGERFLOW_STATE_FILE: 'off' },
        })
      ).code,
    ).toBe(3);
    // (The seed's monitoring: block also names an execution log, .3ox/workflow.execution.log: that is kept either way.)
    expect(existsSync(join(other, '.3ox/workflow.state.yaml'))).toBe(false);

    const plain = project();
    expect((await cli(['--store', 'store', 'run', APPROVAL], { cwd: plain, env })).code).toBe(3);
    expect(existsSync(join(plain, '.3ox'))).toBe(false);
  }, 60_000);

  it('--state-file PATH and --state-file-keep: every unsettled run and the newest settled ones', async () => {
    const cwd = project();
    const flow = join(cwd, 'quick.yaml');
    writeFileSync(flow, 'workflow:\n  id: quick\n  tasks:\n    - { id: echo, type: COMMAND, command: [echo, hi] }\n');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await cli(
        ['--store', 'store', 'run', flow, '--state-file', 'out/state.yaml', '--state-file-keep', '2', '--json'],
        { cwd, env },
      );
      expect(r.code, r.stderr).toBe(0);
      ids.push(JSON.parse(r.stdout).runId);
    }
    const waiting = await cli(
      ['--store', 'store', 'run', APPROVAL, '--state-file', 'out/state.yaml', '--state-file-keep', '2', '--json'],
      { cwd, env },
    );
    expect(waiting.code).toBe(3);
    const doc = parse(read(cwd, 'out/state.yaml'));
    expect(Object.keys(doc).sort()).toEqual([ids[1], ids[2], JSON.parse(waiting.stdout).runId].sort());
    expect(doc[ids[2]!].tasks.echo).toMatchObject({ status: 'COMPLETED', output: { stdout: 'hi\n' } });
    expect(existsSync(join(cwd, '.3ox'))).toBe(false);
  }, 60_000);

  it('a path outside the project folder, or one that cannot be written, is refused before anything is stored (exit 2)', async () => {
    const cwd = project();
    const outside = await cli(['--store', 'store', 'run', APPROVAL, '--state-file', '../elsewhere.yaml'], { cwd, env });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(
      /--state-file \.\.\/elsewhere\.yaml is outside the project folder .*; nothing was started/,
    );
    writeFileSync(join(cwd, 'blocker'), 'a file where a folder should be\n');
    const blocked = await cli(['--store', 'store', 'run', APPROVAL, '--state-file', 'blocker/state.yaml'], {
      cwd,
      env,
    });
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(
      /cannot write the state file .*blocker\/state\.yaml: .*pass another with --state-file PATH, or --no-state-file; nothing was started/,
    );
    expect(storeFiles(join(cwd, 'store'))).toEqual([]);
  }, 60_000);

  it('a reader polling the file while a run writes it step after step always reads a whole file', async () => {
    const cwd = project();
    mkdirSync(join(cwd, '.3ox'));
    const steps = Array.from(
      { length: 30 },
      (_, i) =>
        `    - { id: s${i}, type: COMMAND, command: [sleep, "0.01"]${i > 0 ? `, depends_on: [s${i - 1}]` : ''} }\n`,
    ).join('');
    writeFileSync(join(cwd, 'steps.yaml'), `workflow:\n  id: steps\n  tasks:\n${steps}`);
    const child = spawnCli(['--store', 'store', 'run', 'steps.yaml'], { cwd, env });
    const closed = new Promise<number | null>((r) => child.on('close', r));
    let reads = 0;
    let finished = false;
    void closed.then(() => {
      finished = true;
    });
    const statuses = new Set<string>();
    while (!finished) {
      if (existsSync(join(cwd, '.3ox/workflow.state.yaml'))) {
        const doc = parse(read(cwd)) as Record<string, { status: string }> | null;
        reads++;
        for (const run of Object.values(doc ?? {})) statuses.add(run.status);
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toBe(0);
    expect(reads).toBeGreaterThan(10);
    expect(statuses.has('RUNNING')).toBe(true);
    // The command wrote what it owed before it ended: the run as it settled.
    expect(Object.values(parse(read(cwd)) as Record<string, { status: string }>).map((r) => r.status)).toEqual([
      'COMPLETED',
    ]);
  }, 60_000);

  it("keeps seed 003's workset of each run beside it (.3ox/worksets/ws-<run>.yaml), and --rebuild writes the same bytes", async () => {
    const cwd = project();
    mkdirSync(join(cwd, '.3ox'));
    const run = await cli(
      ['--store', 'store', 'run', SEED, '--target_folder', '0UT.3OX', '--policy_file', 'strict.yaml', '--json'],
      { cwd, env },
    );
    expect(run.code, run.stderr).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;
    const file = `.3ox/worksets/ws-${runId}.yaml`;
    const waiting = parse(read(cwd, file)).workset;
    expect(waiting).toMatchObject({
      id: `ws-${runId}`,
      goal: 'Validates file inventory and generates compliance receipt',
      created: expect.any(String),
      updated: expect.any(String),
      status: 'waiting',
      owner: 'manual',
      workflow_instance: runId,
      workflow: {
        definition: 'inventory-validation-v1',
        instance_id: runId,
        state: 'WAITING',
        current_task: 'alert_cmd_bridge',
        progress: '83%',
      },
      failures: { count: 0, retries: [] },
      approvals: [
        { task: 'alert_cmd_bridge', status: 'pending', requested: expect.any(String), timeout: expect.any(String) },
      ],
    });
    expect(waiting.tasks.map((t: { id: string; status: string }) => [t.id, t.status])).toEqual([
      ['scan_files', 'COMPLETED'],
      ['load_policy', 'COMPLETED'],
      ['validate_compliance', 'COMPLETED'],
      ['decision_gate', 'COMPLETED'],
      ['generate_receipt', 'SKIPPED'],
      ['alert_cmd_bridge', 'PENDING_APPROVAL'],
    ]);

    expect(
      (await cli(['--store', 'store', 'approve', runId, 'alert_cmd_bridge', '--as', 'commander'], { cwd, env })).code,
    ).toBe(0);
    const done = parse(read(cwd, file)).workset;
    expect(done).toMatchObject({
      status: 'completed',
      workflow: { state: 'COMPLETED', current_task: null, progress: '100%' },
      approvals: [{ task: 'alert_cmd_bridge', status: 'approved', decided_by: 'commander' }],
    });

    const live = read(cwd, file);
    rmSync(join(cwd, '.3ox'), { recursive: true });
    const rebuilt = await cli(['--store', 'store', 'state-file', '--rebuild'], { cwd, env });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toContain('1 workset in .3ox/worksets/');
    expect(read(cwd, file)).toBe(live);
  }, 60_000);

  it('ui takes --state-file as serve does: the file is written when it starts, and --no-state-file keeps none', async () => {
    const cwd = project();
    mkdirSync(join(cwd, '.3ox'));
    for (const [flags, file] of [
      [['--state-file', 'ui.state.yaml'], 'ui.state.yaml'],
      [['--no-state-file'], null],
    ] as const) {
      const ui = spawnCli(['--store', 'store', 'ui', '--port', '0', ...flags], { cwd, env });
      let out = '';
      ui.stdout!.on('data', (d) => (out += d));
      ui.stderr!.on('data', (d) => (out += d));
      const exit = new Promise((res) => ui.once('exit', res));
      await waitFor('the dashboard to listen', () => /http:\/\/127\.0\.0\.1:\d+/.test(out), {
        timeout: 30_000,
        detail: () => out,
      });
      ui.kill('SIGTERM');
      await exit;
      if (file) expect(parse(read(cwd, file))).toEqual({});
      else expect(existsSync(join(cwd, '.3ox/workflow.state.yaml'))).toBe(false);
    }
  }, 60_000);
});

describe.skipIf(noNats)(
  'the state file from a NATS stream (docs/state-file.md: `ledgerflow --nats URL state-file --rebuild`)',
  () => {
    const c = useCluster({
      engines: 1,
      handlers: { first: async () => ({ ok: true }), last: async () => ({ ok: true }) },
    });

    it('writes the runs of the stream in the same layout, the waiting run with its approval deadline', async () => {
      const cwd = tempDir();
      const run = await cli(['--nats', c.url, 'run', APPROVAL, '--json'], { cwd, env });
      expect(run.code, run.stderr).toBe(3);
      const runId = JSON.parse(run.stdout).runId as string;
      const rebuilt = await cli(['--nats', c.url, 'state-file', '--rebuild'], { cwd, env });
      expect(rebuilt.code, rebuilt.stderr).toBe(0);
      const doc = parse(read(cwd));
      expect(doc[runId]).toMatchObject({
        id: runId,
        definition_id: 'approval',
        status: 'WAITING',
        tasks: {
          first: { status: 'COMPLETED' },
          sign_off: { status: 'PENDING_APPROVAL', waiting_since: expect.any(String), timeout_at: expect.any(String) },
        },
      });
      const printed = await cli(['--nats', c.url, 'state-file'], { cwd, env });
      expect(printed.stdout).toBe(read(cwd));
    }, 60_000);

    it('state-file --follow keeps the file and the worksets from the stream, and an engine given --state-file keeps one too', async () => {
      const cwd = tempDir();
      const procs = [
        spawnCli(['--nats', c.url, 'state-file', '--follow', 'followed.yaml'], { cwd, env }),
        spawnCli(['--nats', c.url, 'engine', '--no-schedules', '--state-file', 'engine.yaml'], { cwd, env }),
      ];
      const outputs = procs.map((p) => {
        let out = '';
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (out += d));
        return () => out;
      });
      const exits = procs.map((p) => new Promise<number | null>((res) => p.once('exit', (code) => res(code))));
      try {
        await waitFor(
          'both files written',
          () => existsSync(join(cwd, 'followed.yaml')) && existsSync(join(cwd, 'engine.yaml')),
          { timeout: 30_000, detail: () => outputs.map((o) => o()).join('\n') },
        );
        const run = await cli(['--nats', c.url, 'run', APPROVAL, '--json'], { cwd, env });
        expect(run.code, run.stderr).toBe(3);
        const runId = JSON.parse(run.stdout).runId as string;
        const shown = (file: string) =>
          (parse(read(cwd, file)) ?? {})[runId] as
            | { status: string; tasks: Record<string, { status: string }> }
            | undefined;
        for (const file of ['followed.yaml', 'engine.yaml']) {
          await waitFor(
            `${file} to show the run waiting`,
            () => shown(file)?.tasks.sign_off?.status === 'PENDING_APPROVAL',
            { timeout: 30_000 },
          );
          expect(shown(file)).toMatchObject({ status: 'WAITING', tasks: { first: { status: 'COMPLETED' } } });
        }
        expect(parse(read(cwd, `worksets/ws-${runId}.yaml`)).workset).toMatchObject({
          status: 'waiting',
          approvals: [{ task: 'sign_off', status: 'pending' }],
        });

        expect((await cli(['--nats', c.url, 'approve', runId, 'sign_off', '--as', 'alice'], { cwd, env })).code).toBe(
          0,
        );
        for (const file of ['followed.yaml', 'engine.yaml']) {
          await waitFor(`${file} to show the run completed`, () => shown(file)?.status === 'COMPLETED', {
            timeout: 30_000,
          });
        }
        await waitFor(
          'the workset completed',
          () => parse(read(cwd, `worksets/ws-${runId}.yaml`)).workset.status === 'completed',
          { timeout: 30_000 },
        );
      } finally {
        for (const p of procs) p.kill('SIGINT');
      }
      expect(await Promise.all(exits)).toEqual([0, 0]);
    }, 90_000);
  },
);
