import { appendFileSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Three tasks in a row whose handlers mark each run of theirs in a file: what ran again shows there. */
function project(): { dir: string; store: string; file: string; marks: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'h.mjs'), `import { appendFileSync } from 'node:fs';
const mark = (t) => () => { appendFileSync(process.env.MARKS, t + '\\n'); return { t }; };
export default { a: mark('a'), b: mark('b'), c: mark('c') };
`);
  const file = join(dir, 'three.yaml');
  writeFileSync(file, `workflow:
  id: three-steps
  name: Three steps
  version: 1
  handlers: ./h.mjs
  tasks:
    - id: a
      type: SIMPLE
    - id: b
      type: SIMPLE
      depends_on: [a]
    - id: c
      type: SIMPLE
      depends_on: [b]
`);
  return { dir, store: join(dir, 'store'), file, marks: join(dir, 'marks') };
}

const marks = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

describe('a run log cut short by hand is reported as damaged, and nothing re-runs its completed work', () => {
  it('status, list and history warn (status and history exit 1); resume refuses (exit 2) and serve leaves it alone; reindex accepts it', async () => {
    const { dir, store, file, marks: marksFile } = project();
    const env = { MARKS: marksFile };
    const run = await cli(['--store', store, 'run', file, '--json'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    const { runId } = JSON.parse(run.stdout);
    expect(marks(marksFile)).toEqual(['a', 'b', 'c']);
    // The run index records the run settled, at its last event.
    expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toMatchObject([{ runId, status: 'COMPLETED' }]);

    // Cut by hand in the middle of the second line: the commits after the first are lost.
    const log = join(store, 'runs', `${runId}.jsonl`);
    const first = readFileSync(log, 'utf8').indexOf('\n') + 1;
    truncateSync(log, first + 100);
    const size = statSync(log).size;

    const status = await cli(['--store', store, 'status', runId, '--json']);
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'RUNNING', damaged: { runId, recordedSeq: 7, recordedStatus: 'COMPLETED', foundSeq: 2 } });
    expect(status.stderr).toContain(`warning: run ${runId}: its log is damaged: it ends at event 2, but the run index recorded it COMPLETED at event 7`);
    expect(status.stderr).toContain(`ledgerflow history ${runId}`);
    // list warns every time, also once its cache holds the shorter log.
    for (let i = 0; i < 2; i++) {
      const list = await cli(['--store', store, 'list', '--json']);
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout)).toMatchObject([{ runId, status: 'RUNNING', damaged: { recordedSeq: 7, foundSeq: 2 } }]);
      expect(list.stderr).toContain(`warning: run ${runId}: its log is damaged`);
    }
    const history = await cli(['--store', store, 'history', runId]);
    expect(history.code).toBe(1);
    expect(history.stdout).toContain('the log ends here, but events up to 7 (COMPLETED) were recorded: they are lost');
    expect(history.stderr).toContain('its log is damaged');

    const resume = await cli(['--store', store, 'resume', runId, '--json'], { cwd: dir, env });
    expect(resume.code).toBe(2);
    expect(JSON.parse(resume.stdout).error).toMatchObject({ code: 'LF_RUN_LOG_DAMAGED', meta: { runId, recordedSeq: 7, foundSeq: 2 } });
    expect(resume.stderr).toContain(`Inspect it with \`ledgerflow history ${runId}\``);
    const approve = await cli(['--store', store, 'cancel', runId]);
    expect(approve.code).toBe(2);

    const serve = spawnCli(['--store', store, 'serve', '--json', '--no-schedules'], { cwd: dir, env });
    let out = '';
    serve.stdout!.on('data', (d) => (out += d));
    serve.stderr!.on('data', (d) => (out += d));
    try {
      await waitFor('serve to leave the damaged run alone', () => out.includes(`"runId":"${runId}"`) && out.includes('left alone by this serve'), { timeout: 15_000, detail: () => out });
    } finally {
      serve.kill('SIGTERM');
      await new Promise((r) => serve.on('close', r));
    }
    expect(out).not.toMatch(/taken over|picked up/);
    expect(marks(marksFile)).toEqual(['a', 'b', 'c']); // nothing ran again
    expect(statSync(log).size).toBe(size); // nothing written

    // Accepting the log as it is: reindex forgets the later events; the run is what its log says.
    expect((await cli(['--store', store, 'reindex'])).code).toBe(0);
    const after = await cli(['--store', store, 'status', runId, '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout).damaged).toBeUndefined();
  }, 60_000);

  it('a torn last line after a crash is no damage: status and list say nothing of it, approve and resume go on as before', async () => {
    const store = tempDir();
    const run = await cli(['--store', store, 'run', join(FIXTURES, 'approval.yaml'), '--json']);
    const { runId } = JSON.parse(run.stdout);
    expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toMatchObject([{ runId, status: 'WAITING' }]);
    const log = join(store, 'runs', `${runId}.jsonl`);
    appendFileSync(log, `{"dedupId":"lost-commit","events":[{"runId":"${runId}","seq":`);
    const status = await cli(['--store', store, 'status', runId, '--json']);
    expect(status.code).toBe(0);
    expect(status.stderr).not.toContain('damaged');
    const list = await cli(['--store', store, 'list', '--json']);
    expect(list.stderr).not.toContain('damaged');
    expect(JSON.parse(list.stdout)[0].damaged).toBeUndefined();
    expect((await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice'])).code).toBe(0);
    const resumed = await cli(['--store', store, 'resume', runId, '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe('COMPLETED');
  }, 60_000);
});
