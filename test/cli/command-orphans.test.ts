/**
 * A COMMAND task's program does not outlive the process that runs its
 * attempt (docs/handlers.md, COMMAND tasks): `ledgerflow run` killed with -9
 * while the program runs takes the program down with it (and what it
 * started, its process group), instead of leaving it running with parent 1
 * beside the copy a `resume` starts again.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** Alive and not a zombie (a reaped-later corpse is not running anything). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe.skipIf(process.platform === 'win32')('a COMMAND program and a kill -9 of its process', () => {
  it('kill -9 of `run` during a COMMAND task stops the program and what it started; resume runs the attempt again, once', async () => {
    const dir = tempDir('lf-orphans-');
    // The first time: read its input to the end, note its pid and its child's, then sleep for long. The second
    // (resume's): finish at once. Its input is written after its group is listed with the watchdog, so the pids file
    // says the program is guarded: a kill -9 in the instant between the program's start and that listing (the one
    // window handlers/orphan-guard.ts leaves) is not what this test is about.
    writeFileSync(
      join(dir, 'long.yaml'),
      `workflow:
  id: long
  tasks:
    - id: work
      type: COMMAND
      command: [sh, -c, 'cat > /dev/null; echo start >> runs.log; if [ -f second ]; then echo "{\\"again\\": true}"; else touch second; sleep 300 & echo "$$ $!" > pids; wait; fi']
`,
    );
    const run = spawnCli(['run', 'long.yaml', '--id', 'o1'], { cwd: dir });
    const pidsFile = join(dir, 'pids');
    await waitFor(
      'the program to start',
      () => (existsSync(pidsFile) && readFileSync(pidsFile, 'utf8').includes('\n')) || run.exitCode !== null,
      { timeout: 30_000 },
    );
    const [shell, sleeper] = readFileSync(pidsFile, 'utf8').trim().split(' ').map(Number) as [number, number];
    expect(running(shell) && running(sleeper)).toBe(true);

    run.kill('SIGKILL');
    await new Promise((r) => run.once('close', r));
    // The program and the sleep it started go with the process that ran the attempt (SIGTERM at once).
    await waitFor('the program and its child to stop', () => !running(shell) && !running(sleeper), { timeout: 15_000 });

    const resumed = await cli(['resume', 'o1'], { cwd: dir });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const view = JSON.parse((await cli(['status', 'o1', '--json'], { cwd: dir })).stdout) as {
      status: string;
      tasks: { work: { output: unknown } };
    };
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.work.output).toEqual({ again: true });
    expect(readFileSync(join(dir, 'runs.log'), 'utf8').trim().split('\n')).toEqual(['start', 'start']);
  }, 60_000);
});
