/**
 * The bundled workflows used from a folder of one's own, as a new user does
 * (docs/operations.md#schedules, docs/library.md): `ledgerflow schedules`
 * lists what `serve` fires there — the folder's own schedules, not the
 * bundled daily-operations one, which serve never fires outside the clone —
 * and `schedules trigger` refuses a schedule serve would not fire. A bundled
 * workflow started there by its id runs on its defaults, which name the
 * package's sample files: its `resume` from the same folder completes it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, userProject } from '../helpers/cli.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { waitFor } from '../helpers/wait.js';

describe('the bundled workflows from a folder of your own', () => {
  it('schedules lists what serve fires: nothing in a folder without definitions/, its own schedules in one with', async () => {
    const dir = userProject();
    const none = await cli(['schedules'], { cwd: dir });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).not.toContain('daily-operations');
    expect(none.stderr).toContain('no schedule fires');
    expect(JSON.parse((await cli(['schedules', '--json'], { cwd: dir })).stdout)).toEqual([]);
    const trigger = await cli(['schedules', 'trigger', 'daily-operations'], { cwd: dir });
    expect(trigger.code).toBe(2);
    expect(trigger.stderr).toContain('no schedule fires');

    mkdirSync(join(dir, 'definitions'));
    writeFileSync(
      join(dir, 'definitions', 'nightly.yaml'),
      'workflow:\n  id: nightly\n  triggers:\n    - schedule: "0 2 * * *"\n  tasks:\n    - { id: say, type: COMMAND, command: [echo, "{}"] }\n',
    );
    const own = JSON.parse((await cli(['schedules', '--json'], { cwd: dir })).stdout) as { workflowId: string }[];
    expect(own.map((r) => r.workflowId)).toEqual(['nightly']);
  }, 60_000);

  it('start daily-operations --detach in a folder of your own, then resume: it completes on the bundled sample departments', async () => {
    const dir = userProject();
    const started = await cli(['start', 'daily-operations', '--detach', '--id', 'ops1'], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const resumed = await cli(['resume', 'ops1'], { cwd: dir });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', 'ops1', '--json'], { cwd: dir })).stdout) as {
      status: string;
      tasks: Record<string, { status: string }>;
    };
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.list_departments!.status).toBe('COMPLETED');
  }, 120_000);

  it('the dashboard of a folder of your own starts daily-operations, and the run completes on the bundled samples', async () => {
    const dir = userProject();
    const ui = await startUiProcess([], [], { cwd: dir });
    try {
      const auth = { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' };
      const r = await fetch(`${ui.base}/api/workflows/daily-operations/start`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ input: {} }),
      });
      expect(r.status, await r.clone().text()).toBe(200);
      const { runId } = (await r.json()) as { runId: string };
      // The dashboard's own service drives it: it completes, its departments listed from the package's samples.
      const run = await waitFor(
        'the run to settle',
        async () => {
          const body = (await (await fetch(`${ui.base}/api/runs/${runId}`, { headers: auth })).json()) as {
            run: { status: string; input: Record<string, string> };
          };
          return ['COMPLETED', 'FAILED'].includes(body.run.status) ? body.run : false;
        },
        { timeout: 60_000, interval: 250, detail: () => ui.stderr() },
      );
      expect(run.status, ui.stderr()).toBe('COMPLETED');
      expect(run.input.root).toMatch(/^\/.*\/definitions\/samples\/operations$/);
    } finally {
      await ui.stop();
    }
  }, 120_000);
});
