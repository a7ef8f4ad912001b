/**
 * docs/state-file.md: a task's progress in `.3ox/workflow.state.yaml`, on the embedded store, as a user runs the page's
 * workflow in a project with a .3ox folder: the live value while the handler runs (written when it changes, not only
 * at commits), the value the outcome kept once the run has settled, and the same after `state-file --rebuild`.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, tempDir } from '../helpers/cli.js';
import { spawnIn, stopSpawned } from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';
import { SCAN_YAML, heldHandlers, scanFolder } from './docs.js';

afterEach(stopSpawned);

type Entry = {
  status: string;
  tasks: Record<string, { status: string; progress?: { fraction: number; message?: string } }>;
};

describe('progress in the state file (docs/state-file.md#the-layout)', () => {
  it('shows the live value while the task runs and the kept value after, also when rebuilt', async () => {
    const dir = tempDir('lf-state-progress-');
    mkdirSync(join(dir, '.3ox'));
    const folder = scanFolder(dir);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    const release = join(dir, 'release');
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(release));
    const file = join(dir, '.3ox', 'workflow.state.yaml');
    const entry = () =>
      existsSync(file) ? ((parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, Entry>)['scan-sf'] : undefined;
    const env = { LEDGERFLOW_STATE_FILE: '' };
    const run = spawnIn(
      dir,
      ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'scan-sf', '--store', 'store'],
      env,
    );
    const live = await waitFor(
      'the live progress in the state file',
      () => {
        const p = entry()?.tasks.scan?.progress;
        return p?.fraction === 0.4 ? p : null;
      },
      { timeout: 30_000, detail: run.output },
    );
    expect(live).toMatchObject({ fraction: 0.4, message: 'scanned 4 of 10 files' });
    expect(entry()!.tasks.scan!.status).toBe('IN_PROGRESS');
    writeFileSync(release, '');
    expect(await run.exited, run.output()).toBe(0);
    expect(entry()!.status).toBe('COMPLETED');
    expect(entry()!.tasks.scan!.progress).toMatchObject({ fraction: 1, message: 'scanned 10 of 10 files' });
    const rebuilt = await cli(['state-file', '--rebuild', '--store', 'store'], { cwd: dir, env });
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(entry()!.tasks.scan!.progress).toMatchObject({ fraction: 1, message: 'scanned 10 of 10 files' });
  }, 60_000);

  it('keeps following the value for as long as the task runs, not only its first writes', async () => {
    // A long task reports for minutes: the file must move with it at every value, well past the writer's first few
    // writes (the writer hands them to a thread of its own after its second, which kept a run's text by its sequence).
    const dir = tempDir('lf-state-progress-');
    mkdirSync(join(dir, '.3ox'));
    const folder = scanFolder(dir);
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    const stops = [0.5, 0.6, 0.7, 0.8, 0.9].map((at) => ({ at, release: join(dir, `release-${at}`) }));
    const first = join(dir, 'release');
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(first, stops));
    const file = join(dir, '.3ox', 'workflow.state.yaml');
    const fraction = () =>
      existsSync(file)
        ? ((parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, Entry>)['scan-long']?.tasks.scan?.progress
            ?.fraction
        : undefined;
    const run = spawnIn(
      dir,
      ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'scan-long', '--store', 'store'],
      {
        LEDGERFLOW_STATE_FILE: '',
      },
    );
    let release = first;
    for (const at of [0.4, ...stops.map((s) => s.at)]) {
      await waitFor(`${at * 100}% in the state file`, () => fraction() === at, { timeout: 30_000, detail: run.output });
      writeFileSync(release, '');
      release = stops.find((s) => s.at > at)?.release ?? release;
    }
    expect(await run.exited, run.output()).toBe(0);
    expect(fraction()).toBe(1);
  }, 90_000);
});
