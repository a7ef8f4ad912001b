import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readlinkSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Three tasks in a row whose handlers mark each run of theirs in a file: what ran again shows there. */
function project(): { dir: string; store: string; file: string; marks: string } {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'h.mjs'),
    `import { appendFileSync } from 'node:fs';
const mark = (t) => () => { appendFileSync(process.env.MARKS, t + '\\n'); return { t }; };
export default { a: mark('a'), b: mark('b'), c: mark('c') };
`,
  );
  const file = join(dir, 'three.yaml');
  writeFileSync(
    file,
    `workflow:
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
`,
  );
  return { dir, store: join(dir, 'store'), file, marks: join(dir, 'marks') };
}

const marks = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

describe('a run log cut short by hand is reported as damaged, and nothing re-runs its completed work', () => {
  // Two sets of tests side by side, each test of a set after the other (every test has a project of its own).
  describe.concurrent('cut by hand', () => {
    it.sequential('status, list and history warn (status and history exit 1); resume refuses (exit 2) and serve leaves it alone; reindex accepts it', async () => {
      const { dir, store, file, marks: marksFile } = project();
      const env = { MARKS: marksFile };
      const run = await cli(['--store', store, 'run', file, '--json'], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      const { runId } = JSON.parse(run.stdout);
      expect(marks(marksFile)).toEqual(['a', 'b', 'c']);
      // The run index records the run settled, at its last event.
      expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toMatchObject([
        { runId, status: 'COMPLETED' },
      ]);

      // Cut by hand in the middle of the second line: the commits after the first are lost.
      const log = join(store, 'runs', `${runId}.jsonl`);
      const first = readFileSync(log, 'utf8').indexOf('\n') + 1;
      truncateSync(log, first + 100);
      const size = statSync(log).size;

      const status = await cli(['--store', store, 'status', runId, '--json']);
      expect(status.code).toBe(1);
      expect(JSON.parse(status.stdout)).toMatchObject({
        status: 'DAMAGED',
        damaged: { runId, recordedSeq: 7, recordedStatus: 'COMPLETED', foundSeq: 2 },
      });
      expect(status.stderr).toContain(
        `warning: run ${runId}: its log is damaged: it ends at event 2, but the run index recorded it COMPLETED at event 7`,
      );
      expect(status.stderr).toContain(`ledgerflow history ${runId}`);
      // list warns every time, also once its cache holds the shorter log.
      for (let i = 0; i < 2; i++) {
        const list = await cli(['--store', store, 'list', '--json']);
        expect(list.code).toBe(0);
        expect(JSON.parse(list.stdout)).toMatchObject([
          { runId, status: 'DAMAGED', damaged: { recordedSeq: 7, foundSeq: 2 } },
        ]);
        expect(list.stderr).toContain(`warning: run ${runId}: its log is damaged`);
      }
      const history = await cli(['--store', store, 'history', runId]);
      expect(history.code).toBe(1);
      expect(history.stdout).toContain(
        'the log ends here, but events up to 7 (COMPLETED) were recorded: they are lost',
      );
      expect(history.stderr).toContain('its log is damaged');

      const resume = await cli(['--store', store, 'resume', runId, '--json'], { cwd: dir, env });
      expect(resume.code).toBe(2);
      expect(JSON.parse(resume.stdout).error).toMatchObject({
        code: 'LF_RUN_LOG_DAMAGED',
        meta: { runId, recordedSeq: 7, foundSeq: 2 },
      });
      expect(resume.stderr).toContain(`Inspect it with \`ledgerflow history ${runId}\``);
      const approve = await cli(['--store', store, 'cancel', runId]);
      expect(approve.code).toBe(2);

      const serve = spawnCli(['--store', store, 'serve', '--json', '--no-schedules'], { cwd: dir, env });
      let out = '';
      serve.stdout!.on('data', (d) => (out += d));
      serve.stderr!.on('data', (d) => (out += d));
      try {
        await waitFor(
          'serve to leave the damaged run alone',
          () => out.includes(`"runId":"${runId}"`) && out.includes('left alone by this serve'),
          { timeout: 15_000, detail: () => out },
        );
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

    it.sequential("the run index never written (no list since the run): the store's journal witnesses the lost events; status, --json, list and the dashboard say DAMAGED, resume re-runs nothing, reindex accepts it", async () => {
      const { dir, store, file, marks: marksFile } = project();
      const env = { MARKS: marksFile };
      const run = await cli(['--store', store, 'run', file, '--json'], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      const { runId } = JSON.parse(run.stdout);
      expect(existsSync(join(store, 'index', 'runs.jsonl'))).toBe(false);
      // Cut by hand after its first commit: the settle and two tasks' work are lost.
      const log = join(store, 'runs', `${runId}.jsonl`);
      truncateSync(log, readFileSync(log, 'utf8').indexOf('\n') + 1);

      const text = await cli(['--store', store, 'status', runId]);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(new RegExp(`^run ${runId}  three-steps v1  DAMAGED`));
      expect(text.stderr).toContain(
        `its log is damaged: it ends at event 2, but the store's journal recorded it COMPLETED at event 7`,
      );
      expect(JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout)).toMatchObject({
        status: 'DAMAGED',
        damaged: { recordedSeq: 7, recordedStatus: 'COMPLETED', foundSeq: 2 },
      });
      expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toMatchObject([
        { runId, status: 'DAMAGED' },
      ]);
      // watch shows it DAMAGED and ends (nothing drives it), exit 1 as status; --all --json says it as a line.
      const watched = await cli(['--store', store, 'watch', runId]);
      expect(watched.code).toBe(1);
      expect(watched.stdout).toContain(
        `${runId}  DAMAGED  run ${runId}: its log is damaged: it ends at event 2, but the store's journal recorded it COMPLETED at event 7`,
      );
      const all = await cli(['--store', store, 'watch', '--all', '--json']);
      expect(all.code).toBe(1);
      expect(
        all.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
      ).toContainEqual(expect.objectContaining({ runId, status: 'DAMAGED' }));

      const resume = await cli(['--store', store, 'resume', runId, '--json'], { cwd: dir, env });
      expect(resume.code).toBe(2);
      expect(JSON.parse(resume.stdout).error).toMatchObject({ code: 'LF_RUN_LOG_DAMAGED' });
      expect(marks(marksFile)).toEqual(['a', 'b', 'c']); // nothing ran again

      // The dashboard's run JSON (ledgerflow ui on the same store).
      const ui = spawnCli(['--store', store, 'ui', '--port', '0', '--json'], { cwd: dir, env });
      let out = '';
      ui.stdout!.on('data', (d) => (out += d));
      try {
        const info = await waitFor(
          'ui to serve',
          () => {
            try {
              return JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { base: string; token: string };
            } catch {
              return null;
            }
          },
          { timeout: 20_000, detail: () => out },
        );
        const r = (await (
          await fetch(new URL(`/api/runs/${runId}`, info.base), { headers: { authorization: `Bearer ${info.token}` } })
        ).json()) as { run: { status: string; damaged: { file: string } } };
        expect(r.run.status).toBe('DAMAGED');
        expect(r.run.damaged.file).toBe(`<store>/runs/${runId}.jsonl`);
      } finally {
        ui.kill('SIGTERM');
        await new Promise((res) => ui.on('close', res));
      }

      expect((await cli(['--store', store, 'reindex'])).stdout).toContain(`accepted the log of run ${runId} as it is`);
      const after = await cli(['--store', store, 'status', runId, '--json']);
      expect(after.code).toBe(0);
      expect(JSON.parse(after.stdout)).toMatchObject({ status: 'RUNNING' });
    }, 60_000);
  });

  describe.concurrent('what a crash leaves is no damage', () => {
    it.sequential("a writer killed between the journal's sync and the log's line is no damage: the lines are put back before anything reads, and resume runs nothing again", async () => {
      const { dir, store, file, marks: marksFile } = project();
      const env = { MARKS: marksFile };
      const run = await cli(['--store', store, 'run', file, '--json'], { cwd: dir, env });
      expect(run.code, run.stderr).toBe(0);
      const { runId } = JSON.parse(run.stdout);
      // What a kill -9 right after the journal's sync leaves: the log without its last lines, and the writer lock of a process that is gone.
      const log = join(store, 'runs', `${runId}.jsonl`);
      const whole = readFileSync(log, 'utf8');
      truncateSync(log, whole.indexOf('\n') + 1);
      const dead = spawnSync(process.execPath, ['-e', '']).pid!;
      writeFileSync(
        join(store, 'journal', 'writer.lock'),
        JSON.stringify({
          pid: dead,
          time: new Date().toISOString(),
          host: hostname(),
          pidns: readlinkSync('/proc/self/ns/pid'),
        }),
      );

      // Two resumes at once, as in neither sees the short log, neither runs anything again.
      const [r1, r2] = await Promise.all(
        [0, 1].map(() => cli(['--store', store, 'resume', runId, '--json'], { cwd: dir, env })),
      );
      expect([r1!.code, r2!.code], r1!.stdout + r1!.stderr + r2!.stdout + r2!.stderr).toEqual([0, 0]);
      const status = await cli(['--store', store, 'status', runId, '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'COMPLETED' });
      expect(JSON.parse(status.stdout).damaged).toBeUndefined();
      expect(readFileSync(log, 'utf8')).toBe(whole);
      expect(marks(marksFile)).toEqual(['a', 'b', 'c']);
    }, 60_000);

    it.sequential('a torn last line after a crash is no damage: status and list say nothing of it, approve and resume go on as before', async () => {
      const store = tempDir();
      const run = await cli(['--store', store, 'run', join(FIXTURES, 'approval.yaml'), '--json']);
      const { runId } = JSON.parse(run.stdout);
      expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toMatchObject([
        { runId, status: 'WAITING' },
      ]);
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
});
