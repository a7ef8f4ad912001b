/**
 * docs/state-file.md, "After a crash": the state file a killed process left a step behind the log (its last
 * commit made, its coalesced write not) is brought up to date by the next ledgerflow process that opens the
 * store there, a reader (`status`) included; the temporaries a writer killed mid-write left beside the file and
 * its worksets are removed, those of a live process kept. Real CLI processes on the embedded store.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');
/** The default rule, as a user has it (the helpers turn the state file off for every other test). */
const env = { LEDGERFLOW_STATE_FILE: '' };
/** A process id no process has (above Linux's largest pid_max). */
const DEAD_PID = 2_147_483_646;

describe('the state file after a crash', () => {
  it('is brought up to date by the next process, a reader too, and loses the temporaries a killed writer left', async () => {
    const cwd = tempDir('lf-statefile-');
    mkdirSync(join(cwd, '.3ox'));
    const run = await cli(['--store', 'store', 'run', APPROVAL, '--json'], { cwd, env });
    expect(run.code, run.stderr).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;
    const file = join(cwd, '.3ox', 'workflow.state.yaml');
    expect(parse(readFileSync(file, 'utf8'))[runId].status).toBe('WAITING');

    // A commit the file never saw, as when its writer was killed between the commit and its write.
    const approved = await cli(['--store', 'store', 'approve', runId, 'sign_off', '--as', 'alice'], {
      cwd,
      env: { LEDGERFLOW_STATE_FILE: 'off' },
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect(parse(readFileSync(file, 'utf8'))[runId].status).toBe('WAITING');
    // And what a writer killed mid-write leaves: its temporaries, beside the file and among the worksets.
    const stale = [
      join(cwd, '.3ox', `workflow.state.yaml.${DEAD_PID}.tmp`),
      join(cwd, '.3ox', 'worksets', `ws-${runId}.yaml.${DEAD_PID}.0badf00d.tmp`),
    ];
    const live = join(cwd, '.3ox', `workflow.state.yaml.${process.pid}.tmp`);
    mkdirSync(join(cwd, '.3ox', 'worksets'), { recursive: true });
    for (const f of [...stale, live]) writeFileSync(f, 'half a fi');

    const status = await cli(['--store', 'store', 'status', runId], { cwd, env });
    expect(status.code, status.stderr).toBe(0);
    expect(parse(readFileSync(file, 'utf8'))[runId].status).toBe('COMPLETED');
    expect(stale.filter((f) => existsSync(f))).toEqual([]);
    expect(existsSync(live)).toBe(true); // a live process's: it may be about to rename it
  });

  it('is left as it is by a reader when nothing was committed since it was written, and written again when it was', async () => {
    const cwd = tempDir('lf-statefile-');
    mkdirSync(join(cwd, '.3ox'));
    const file = join(cwd, '.3ox', 'workflow.state.yaml');
    const run = await cli(['--store', 'store', 'run', APPROVAL, '--json'], { cwd, env });
    expect(run.code, run.stderr).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;
    // Each write renames a new file over it: the same inode means the file was not written again.
    const written = () => statSync(file, { bigint: true }).ino;
    const afterRun = written();

    for (const args of [['status', runId], ['list'], ['history', runId]]) {
      const r = await cli(['--store', 'store', ...args], { cwd, env });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(written()).toBe(afterRun);

    // Removed by hand: the next reader writes it again, and the one after leaves it.
    rmSync(file);
    expect((await cli(['--store', 'store', 'status', runId], { cwd, env })).code).toBe(0);
    expect(parse(readFileSync(file, 'utf8'))[runId].status).toBe('WAITING');
    const rewritten = written();
    expect((await cli(['--store', 'store', 'status', runId], { cwd, env })).code).toBe(0);
    expect(written()).toBe(rewritten);

    // A commit by a process that keeps no state file: the next reader brings the file up to date.
    const approved = await cli(['--store', 'store', 'approve', runId, 'sign_off', '--as', 'alice'], {
      cwd,
      env: { LEDGERFLOW_STATE_FILE: 'off' },
    });
    expect(approved.code, approved.stderr).toBe(0);
    expect((await cli(['--store', 'store', 'list'], { cwd, env })).code).toBe(0);
    expect(parse(readFileSync(file, 'utf8'))[runId].status).toBe('COMPLETED');
    expect(written()).not.toBe(rewritten);
  });
});
