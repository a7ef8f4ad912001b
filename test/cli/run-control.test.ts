/** `ledgerflow pause` / `resume` of a paused run, and SET / TERMINATE from the CLI, on the embedded store. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

describe('ledgerflow pause / resume', () => {
  it('pauses a waiting run (PAUSED), refuses a second pause and a pause of a settled run, and resume un-pauses and continues it', async () => {
    const store = tempDir();
    const run = await cli(['--store', store, 'run', join(FIXTURES, 'approval.yaml'), '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    const pause = await cli(['--store', store, 'pause', runId, '--reason', 'maintenance', '--as', 'ops', '--json']);
    expect(pause.code).toBe(0);
    expect(JSON.parse(pause.stdout).status).toBe('PAUSED');
    const again = await cli(['--store', store, 'pause', runId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/cannot pause run .*: the run is already paused; nothing was recorded/);

    const status = await cli(['--store', store, 'status', runId]);
    expect(status.stdout).toMatch(/PAUSED/);
    expect(
      JSON.parse((await cli(['--store', store, 'list', '--status', 'paused', '--json'])).stdout).map(
        (r: { runId: string }) => r.runId,
      ),
    ).toEqual([runId]);

    // Approvals are still taken while paused; the task after it does not start until resume.
    expect((await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'])).code).toBe(0);
    const resumed = await cli(['--store', store, 'resume', runId, '--as', 'ops', '--json']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/resumed \(it was paused\)/);
    expect(JSON.parse(resumed.stdout).status).toBe('COMPLETED');

    const history = JSON.parse((await cli(['--store', store, 'history', runId, '--json'])).stdout) as {
      type: string;
      data: Record<string, unknown>;
      state: { status: string };
    }[];
    expect(history.map((e) => e.type)).toEqual([
      'run.started',
      'task.started',
      'task.completed',
      'run.paused',
      'approval.recorded',
      'run.resumed',
      'task.started',
      'task.completed',
    ]);
    expect(history[3]).toMatchObject({ data: { by: 'ops', reason: 'maintenance' }, state: { status: 'PAUSED' } });
    expect(history[4]!.state.status).toBe('PAUSED');
    expect(history[5]).toMatchObject({ data: { by: 'ops' } });
    const text = await cli(['--store', store, 'history', runId]);
    expect(text.stdout).toMatch(/run\.paused\s+by ops maintenance/);

    const settled = await cli(['--store', store, 'pause', runId]);
    expect(settled.code).toBe(2);
    expect(settled.stderr).toMatch(/the run is already COMPLETED/);
  }, 60_000);
});

describe('SET and TERMINATE from the CLI', () => {
  it('a run that sets variables and terminates FAILED: exit 1, LF_TERMINATED with the reason, variables in status', async () => {
    const dir = tempDir();
    const file = join(dir, 'stop.yaml');
    writeFileSync(
      file,
      `workflow:
  id: stop-early
  name: Stop early
  version: 1
  input:
    optional: [region]
  output: { where: "\${workflow.variables.region}" }
  tasks:
    - id: remember
      type: SET
      values: { region: "\${workflow.input.region}", attempts_left: 0 }
    - id: stop
      type: TERMINATE
      depends_on: [remember]
      status: FAILED
      reason: "nothing left to try in \${workflow.variables.region}"
`,
    );
    const store = join(dir, 'store');
    const run = await cli(['--store', store, 'run', file, '--region', 'eu', '--json']);
    expect(run.code).toBe(1);
    const view = JSON.parse(run.stdout);
    expect(view.error).toEqual({
      code: 'LF_TERMINATED',
      retryable: false,
      message: 'nothing left to try in eu',
      task: 'stop',
    });
    expect(view.variables).toEqual({ region: 'eu', attempts_left: 0 });
    expect(view.output).toEqual({ where: 'eu' });
    const status = await cli(['--store', store, 'status', view.runId]);
    expect(status.stdout).toMatch(/variable region = "eu"/);
    expect(status.stdout).toMatch(/variable attempts_left = 0/);
    const json = JSON.parse((await cli(['--store', store, 'status', view.runId, '--json'])).stdout);
    expect(json.variables).toEqual({ region: 'eu', attempts_left: 0 });
  }, 60_000);
});
