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
    writeFileSync(join(dir, 'definitions', 'nightly.yaml'), 'workflow:\n  id: nightly\n  triggers:\n    - schedule: "0 2 * * *"\n  tasks:\n    - { id: say, type: COMMAND, command: [echo, "{}"] }\n');
    const own = JSON.parse((await cli(['schedules', '--json'], { cwd: dir })).stdout) as { workflowId: string }[];
    expect(own.map((r) => r.workflowId)).toEqual(['nightly']);
  }, 60_000);

  it('start daily-operations --detach in a folder of your own, then resume: it completes on the bundled sample departments', async () => {
    const dir = userProject();
    const started = await cli(['start', 'daily-operations', '--detach', '--id', 'ops1'], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const resumed = await cli(['resume', 'ops1'], { cwd: dir });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', 'ops1', '--json'], { cwd: dir })).stdout) as { status: string; tasks: Record<string, { status: string }> };
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.list_departments!.status).toBe('COMPLETED');
  }, 120_000);
});
