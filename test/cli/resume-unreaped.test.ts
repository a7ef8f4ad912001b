/**
 * Two `ledgerflow resume`s right after a `kill -9` of the `run` driving a
 * three-step chain (the kill during the first step), while the killed process
 * is not yet reaped by its parent: what a loaded machine makes of a kill (the
 * parent, a shell, gets to reap it only later). Its lease named a pid that
 * `kill(pid, 0)` still finds, so both resumes refused the run (LF_RUN_BUSY)
 * and it was left with its step lost, the last step never run. Now a zombie
 * (or a process SIGKILL was sent to) holds nothing: one resume completes the
 * run, the last step runs once. A few times, bounded.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const TRIES = 3;

describe.skipIf(process.platform !== 'linux')('two resumes after a kill -9 whose process is not reaped yet', () => {
  it(`finish the run every time (${TRIES} tries): one completes it, the last step runs once`, async () => {
    const dir = tempDir('lf-unreaped-');
    writeFileSync(
      join(dir, 'chain.yaml'),
      'workflow:\n  id: chain3\n  handlers: ./h.mjs\n  tasks:\n    - { id: a, type: SIMPLE }\n    - { id: b, type: SIMPLE, depends_on: [a] }\n    - { id: c, type: SIMPLE, depends_on: [b] }\n',
    );
    writeFileSync(
      join(dir, 'h.mjs'),
      `import { appendFileSync } from 'node:fs';
const h = (n, ms) => async () => { appendFileSync(process.env.MARKS, n + '\\n'); await new Promise((r) => setTimeout(r, ms)); return { n }; };
export default { a: h('a', 2000), b: h('b', 50), c: h('c', 50) };
`,
    );
    for (let t = 0; t < TRIES; t++) {
      const store = join(dir, `store-${t}`);
      const marksFile = join(dir, `marks-${t}`);
      const pidFile = join(dir, `run-${t}.pid`);
      const env: NodeJS.ProcessEnv = { ...process.env, MARKS: marksFile, NO_COLOR: '1', LEDGERFLOW_STATE_FILE: 'off' };
      delete env.LEDGERFLOW_STORE; // the run's store is --store (test files share a worker's environment)
      const marks = () =>
        existsSync(marksFile) ? readFileSync(marksFile, 'utf8').trim().split('\n').filter(Boolean) : [];
      // The run's parent is a `sleep` that never reaps it: once killed, it stays a zombie until the sleep ends.
      const parent = spawn(
        'sh',
        [
          '-c',
          `"${process.execPath}" "${BIN}" --store "${store}" run chain.yaml >/dev/null 2>&1 & echo $! > "${pidFile}"; exec sleep 120`,
        ],
        { cwd: dir, env, stdio: 'ignore' },
      );
      try {
        await waitFor('the run to start its first step', () => marks().length > 0, { timeout: 30_000 });
        const runPid = Number(readFileSync(pidFile, 'utf8').trim());
        process.kill(runPid, 'SIGKILL');
        await waitFor(
          'the killed run to be a zombie',
          () => /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${runPid}/stat`, 'utf8')),
          { timeout: 10_000 },
        );
        const runId = readdirSync(join(store, 'runs'))
          .find((f) => f.endsWith('.jsonl'))!
          .replace('.jsonl', '');
        const resume = () => cli(['--store', store, 'resume', runId], { cwd: dir, env: { MARKS: marksFile } });
        const [r1, r2] = await Promise.all([resume(), resume()]);
        const status = JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout) as {
          status: string;
        };
        const detail = `try ${t}: marks ${marks().join(' ')}\n${r1.stdout}${r1.stderr}\n---\n${r2.stdout}${r2.stderr}`;
        expect([r1.code, r2.code], detail).toContain(0);
        expect(status.status, detail).toBe('COMPLETED');
        expect(
          marks().filter((m) => m === 'c'),
          detail,
        ).toHaveLength(1);
      } finally {
        parent.kill('SIGKILL');
      }
    }
  }, 180_000);
});
