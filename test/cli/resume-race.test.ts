/**
 * A run handed between two processes is always finished by one of them
 *: `run` of a three-step chain killed with -9 while its first
 * steps run, then two `ledgerflow resume <run>` at once, under CPU load, a
 * few times with the kill at different points. Every time the run COMPLETES,
 * its last step runs exactly once, and no step that completed before the kill
 * runs again. Real CLI processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const TRIES = 5;

describe('two resumes at once after a kill -9', () => {
  const burners: ChildProcess[] = [];
  // CPU load, as on the loaded machine where the race was seen: a busy loop for the length of the test (the suite's other files add theirs).
  beforeAll(() => {
    for (let i = 0; i < 1; i++) burners.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  });
  afterAll(() => {
    for (const b of burners) b.kill('SIGKILL');
  });

  it(`finish the run every time (${TRIES} tries, under load): one of them completes it, the last step runs once, nothing completed runs again`, async () => {
    const dir = tempDir('lf-resume-race-');
    writeFileSync(
      join(dir, 'chain.yaml'),
      'workflow:\n  id: chain3\n  handlers: ./h.mjs\n  tasks:\n    - { id: a, type: SIMPLE }\n    - { id: b, type: SIMPLE, depends_on: [a] }\n    - { id: c, type: SIMPLE, depends_on: [b] }\n',
    );
    writeFileSync(
      join(dir, 'h.mjs'),
      `import { appendFileSync } from 'node:fs';
const ms = { a: 600, b: 300, c: 100 };
const h = (n) => async () => { appendFileSync(process.env.MARKS, n + '\\n'); await new Promise((r) => setTimeout(r, ms[n])); return { n }; };
export default { a: h('a'), b: h('b'), c: h('c') };
`,
    );
    for (let t = 0; t < TRIES; t++) {
      const store = join(dir, `store-${t}`);
      const marksFile = join(dir, `marks-${t}`);
      const env = { MARKS: marksFile };
      const marks = () =>
        existsSync(marksFile) ? readFileSync(marksFile, 'utf8').trim().split('\n').filter(Boolean) : [];
      const run = spawnCli(['--store', store, 'run', 'chain.yaml'], { cwd: dir, env });
      // Killed while a or b runs: at a start, or a little after it (the kill point moves with t).
      await waitFor('the run to start a step', () => marks().length > 0 || run.exitCode !== null, { timeout: 30_000 });
      await new Promise((r) => setTimeout(r, t * 150));
      run.kill('SIGKILL');
      await new Promise((r) => run.once('close', r));
      const before = marks();
      const runId = readdirSync(join(store, 'runs'))
        .find((f) => f.endsWith('.jsonl'))!
        .replace('.jsonl', '');
      const resume = () => cli(['--store', store, 'resume', runId], { cwd: dir, env });
      const [r1, r2] = await Promise.all([resume(), resume()]);
      const status = JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout) as {
        status: string;
      };
      const detail = `try ${t}: marks before ${before.join(' ')}, after ${marks().join(' ')}\n${r1.stdout}${r1.stderr}\n---\n${r2.stdout}${r2.stderr}`;
      expect([r1.code, r2.code], detail).toContain(0);
      expect(status.status, detail).toBe('COMPLETED');
      expect(
        marks().filter((m) => m === 'c'),
        detail,
      ).toHaveLength(1);
      // A step is run again only when the kill caught it running (its attempt restarted), never once it completed.
      for (const step of ['a', 'b'])
        expect(marks().filter((m) => m === step).length, detail).toBeLessThanOrEqual(
          before.filter((m) => m === step).length + 1,
        );
    }
  }, 120_000);
});
