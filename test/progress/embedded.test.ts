/**
 * docs/handlers.md "Progress" on the embedded store, as a user tries it: the page's workflow and handler reporting
 * while it runs (seen by `status --json`, `status`, the store's progress files), kept on task.completed after; a
 * handler reporting 10,000 times adds no event to the log; the page's COMMAND script reporting on fd 3, lines that do
 * not parse ignored.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from '../helpers/cli.js';
import { spawnIn, stopSpawned } from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';
import { COUNT_SH, SCAN_HANDLERS, SCAN_YAML, countYaml, heldHandlers } from './docs.js';

afterEach(stopSpawned);

type Progress = { fraction: number; message?: string; at: string; live?: true; eta?: string; attempt: number };
type View = { status: string; tasks: Record<string, { status: string; progress?: Progress }> };

function project(files = 10): { dir: string; folder: string } {
  const dir = tempDir('lf-progress-');
  const folder = join(dir, 'data');
  mkdirSync(folder);
  for (let i = 0; i < files; i++) writeFileSync(join(folder, `f${i}.txt`), 'x'.repeat(i + 1));
  writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
  return { dir, folder };
}

const status = async (dir: string, runId: string): Promise<View> => {
  const r = await cli(['status', runId, '--json', '--store', join(dir, 'store')], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as View;
};

const history = async (dir: string, runId: string) => {
  const r = await cli(['history', runId, '--json', '--store', join(dir, 'store')], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { type: string; data: { progress?: Progress } }[];
};

describe('progress on the embedded store (docs/handlers.md#progress)', () => {
  it('a handler that reports is seen by status --json and status while it runs, and its last value is kept on task.completed', async () => {
    const { dir, folder } = project(10);
    const release = join(dir, 'release');
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(release));
    const run = spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'scan-1', '--store', 'store']);
    const live = await waitFor(
      'the live progress in status --json',
      async () => {
        if (!existsSync(join(dir, 'store', 'runs'))) return null;
        const p = (await status(dir, 'scan-1').catch(() => null))?.tasks.scan?.progress;
        // The first report is written at once, the one the handler holds at within 250 ms.
        return p?.live && p.fraction === 0.4 ? p : null;
      },
      { timeout: 30_000, detail: run.output },
    );
    expect(live).toMatchObject({ fraction: 0.4, message: 'scanned 4 of 10 files', attempt: 1, live: true });
    expect(Date.parse(live.at)).not.toBeNaN();
    // The store's progress channel: a file under <store>/progress/<runId>/, not a line of the log.
    expect(readdirSync(join(dir, 'store', 'progress', 'scan-1'))).toHaveLength(1);
    const text = await cli(['status', 'scan-1', '--store', 'store'], { cwd: dir });
    expect(text.stdout).toMatch(/scan\s+IN_PROGRESS\s+attempts 1 {2}█{8}░{12} 40%.*scanned 4 of 10 files/);
    writeFileSync(release, '');
    expect(await run.exited, run.output()).toBe(0);
    const done = await status(dir, 'scan-1');
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.scan!.progress).toMatchObject({ fraction: 1, message: 'scanned 10 of 10 files', attempt: 1 });
    expect(done.tasks.scan!.progress!.live).toBeUndefined();
    const completed = (await history(dir, 'scan-1')).find((e) => e.type === 'task.completed');
    expect(completed!.data.progress).toMatchObject({ fraction: 1, message: 'scanned 10 of 10 files' });
    // The attempt ended: its live value is gone.
    expect(existsSync(join(dir, 'store', 'progress', 'scan-1'))).toBe(false);
    const lines = await cli(['history', 'scan-1', '--store', 'store'], { cwd: dir });
    expect(lines.stdout).toMatch(/task\.completed.*scan.*progress 100% scanned 10 of 10 files/);
    const after = await cli(['status', 'scan-1', '--store', 'store'], { cwd: dir });
    expect(after.stdout).toMatch(/scan\s+COMPLETED\s+attempts 1 {2}█{20} 100% {2}scanned 10 of 10 files/);
  });

  it('a value left by a process that died is not shown: `run` killed with -9 mid-task leaves no live bar in status', async () => {
    // docs/handlers.md: "A value left by a process that died is not shown: only the attempt in flight shows one."
    const { dir, folder } = project(10);
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(join(dir, 'release')));
    const run = spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'scan-k', '--store', 'store']);
    await waitFor(
      'the live progress in status --json',
      async () => {
        if (!existsSync(join(dir, 'store', 'runs'))) return null;
        return (await status(dir, 'scan-k').catch(() => null))?.tasks.scan?.progress?.fraction === 0.4;
      },
      { timeout: 30_000, detail: run.output },
    );
    run.child.kill('SIGKILL');
    await run.exited;
    // The log still has the attempt in flight (nothing restarted it), and its value's file is still there.
    const view = await status(dir, 'scan-k');
    expect(view.tasks.scan!.status).toBe('IN_PROGRESS');
    expect(readdirSync(join(dir, 'store', 'progress', 'scan-k'))).toHaveLength(1);
    expect(view.tasks.scan!.progress).toBeUndefined();
    const text = await cli(['status', 'scan-k', '--store', 'store'], { cwd: dir });
    expect(text.stdout).toMatch(/scan\s+IN_PROGRESS/);
    expect(text.stdout).not.toContain('40%');
  });

  it('a handler reporting 10,000 times adds nothing to the log; the last value is on task.completed', async () => {
    const { dir, folder } = project(3);
    writeFileSync(join(dir, 'scan-handlers.mjs'), SCAN_HANDLERS);
    const quiet = await cli(['run', 'archive-scan.yaml', '--folder', folder, '--id', 'quiet', '--store', 'store'], {
      cwd: dir,
    });
    expect(quiet.code, quiet.stderr).toBe(0);
    writeFileSync(
      join(dir, 'scan-handlers.mjs'),
      `export default {
  async scan(input, ctx) {
    for (let i = 1; i <= 10000; i++) ctx.progress(i / 10000, \`item \${i}\`);
    return { files: 3, bytes: 6 };
  },
};
`,
    );
    const loud = await cli(['run', 'archive-scan.yaml', '--folder', folder, '--id', 'loud', '--store', 'store'], {
      cwd: dir,
    });
    expect(loud.code, loud.stderr).toBe(0);
    const [a, b] = [await history(dir, 'quiet'), await history(dir, 'loud')];
    expect(b.map((e) => e.type)).toEqual(a.map((e) => e.type));
    expect(b.find((e) => e.type === 'task.completed')!.data.progress).toMatchObject({
      fraction: 1,
      message: 'item 10000',
    });
  });

  it("the page's COMMAND script reports on fd 3 (its last value kept); lines that do not parse are ignored", async () => {
    const dir = tempDir('lf-progress-cmd-');
    mkdirSync(join(dir, 'scripts'));
    writeFileSync(join(dir, 'scripts', 'count.sh'), COUNT_SH);
    for (const f of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) writeFileSync(join(dir, f), 'one\ntwo\n');
    writeFileSync(join(dir, 'count.yaml'), countYaml());
    const r = await cli(['run', 'count.yaml', '--id', 'count-1', '--store', 'store', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const done = await status(dir, 'count-1');
    const kept = { fraction: 1, message: 'counted 4 of 4 files' };
    expect(done.tasks.count!.progress).toMatchObject(kept);
    // `run --json` and `wait --json` print the run in the shape `status --json` does, the kept value with it.
    expect((JSON.parse(r.stdout) as View).tasks.count!.progress).toMatchObject(kept);
    const waited = await cli(['wait', 'count-1', '--json', '--store', 'store'], { cwd: dir });
    expect((JSON.parse(waited.stdout) as View).tasks.count!.progress).toMatchObject(kept);
    // A program writing what is not a progress line (and a fraction out of range, clamped) runs as before.
    writeFileSync(
      join(dir, 'scripts', 'count.sh'),
      `echo hello >&3\necho NaN >&3\necho '{bad json' >&3\necho '{"fraction": "x"}' >&3\necho '1.7 over' >&3\necho '{"files": 0}'\n`,
    );
    const odd = await cli(['run', 'count.yaml', '--id', 'count-2', '--store', 'store'], { cwd: dir });
    expect(odd.code, odd.stderr).toBe(0);
    const view = await status(dir, 'count-2');
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.count!.progress).toMatchObject({ fraction: 1, message: 'over' });
  });

  it('a COMMAND task is seen live while its program runs', async () => {
    const dir = tempDir('lf-progress-cmd-live-');
    mkdirSync(join(dir, 'scripts'));
    const release = join(dir, 'release');
    // The program waits for the test's release file (its own polling: the test waits on a condition).
    writeFileSync(
      join(dir, 'scripts', 'count.sh'),
      `echo "0.25 counted 1 of 4 files" >&3\nwhile [ ! -f ${JSON.stringify(release)} ]; do sleep 0.05; done\necho "1 counted 4 of 4 files" >&3\necho '{"files": 4}'\n`,
    );
    writeFileSync(join(dir, 'count.yaml'), countYaml());
    const run = spawnIn(dir, ['run', 'count.yaml', '--id', 'count-live', '--store', 'store']);
    const live = await waitFor(
      'the COMMAND task live progress',
      async () => {
        if (!existsSync(join(dir, 'store', 'runs'))) return null;
        const p = (await status(dir, 'count-live').catch(() => null))?.tasks.count?.progress;
        return p?.live ? p : null;
      },
      { timeout: 30_000, detail: run.output },
    );
    expect(live).toMatchObject({ fraction: 0.25, message: 'counted 1 of 4 files' });
    writeFileSync(release, '');
    expect(await run.exited, run.output()).toBe(0);
    expect((await status(dir, 'count-live')).tasks.count!.progress).toMatchObject({ fraction: 1 });
  });
});
