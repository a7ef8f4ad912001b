/**
 * What a process killed mid-report leaves under `<store>/progress/` is swept (issue 63): the run's folder goes when the
 * run settles (here: `ledgerflow cancel` of the run whose process was killed), and `serve` sweeps at its start the
 * folders of runs that are not active, while the file of an attempt still in flight stays.
 */
import { cpSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { spawnIn, stopSpawned } from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';
import { SCAN_YAML, heldHandlers, scanFolder } from './docs.js';

afterEach(stopSpawned);

describe('progress folders left by a killed process (embedded store)', () => {
  it('go when the run settles and at serve’s sweep; a live attempt’s file stays', async () => {
    const dir = tempDir('lf-progress-sweep-');
    const folder = scanFolder(dir);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(join(dir, 'release')));
    const progress = (runId: string) => join(dir, 'store', 'progress', runId);
    const files = (runId: string) => (existsSync(progress(runId)) ? readdirSync(progress(runId)) : []);

    // One run's process killed with SIGKILL while its handler reports: its progress file is left behind.
    const killed = spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'killed', '--store', 'store']);
    await waitFor('the killed run’s progress file', () => files('killed').length === 1, {
      timeout: 30_000,
      detail: killed.output,
    });
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(files('killed')).toHaveLength(1);
    const aside = join(dir, 'left-behind');
    cpSync(progress('killed'), aside, { recursive: true });

    // The run settles (cancelled): its folder goes.
    const cancel = await cli(['cancel', 'killed', '--store', 'store'], { cwd: dir });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(existsSync(progress('killed'))).toBe(false);

    // The same left over once more (as a process killed after the settle would leave it), and a run in flight.
    cpSync(aside, progress('killed'), { recursive: true });
    spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'live', '--store', 'store']);
    await waitFor('the live run’s progress file', () => files('live').length === 1, { timeout: 30_000 });

    // serve sweeps at its start: the settled run's folder goes, the live attempt's file stays.
    const serve = spawnIn(dir, ['serve', '--store', 'store']);
    await waitFor('serve to sweep the settled run’s folder', () => !existsSync(progress('killed')), {
      timeout: 30_000,
      detail: serve.output,
    });
    expect(files('live')).toHaveLength(1);
  }, 90_000);
});
