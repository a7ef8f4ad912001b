/**
 * Several hundred runs committing at once on the embedded store, with a kill between: a user's process
 * (the library, as docs/library-api.md shows it) starts and drives 300 runs and is killed -9 mid-way,
 * then `ledgerflow serve` takes every run over (docs/serve.md) and drives it to its end. Every log holds
 * only its own run's events, `replay --all` reads and replays every run. And the same drive in a process
 * allowed fewer descriptors than the store keeps open completes every run.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileEventStore } from '../../../src/store/index.js';
import { cli, ROOT, spawnCli, tempDir } from '../../helpers/cli.js';
import { killLeftovers } from '../../helpers/processes.js';
import { waitFor } from '../../helpers/wait.js';
import { foreignLines } from './foreign-lines.js';

const DRIVER = join(ROOT, 'test', 'store', 'scale', 'drive-many.mjs');
const procs: ReturnType<typeof spawn>[] = [];
afterEach(() => killLeftovers(procs.splice(0)));

function project(): { dir: string; storeDir: string; file: string } {
  const dir = tempDir('lf-kills-');
  writeFileSync(
    join(dir, 'orders.yaml'),
    `workflow:
  id: orders
  handlers: ./handlers.mjs
  input:
    required:
      - n: { type: number }
  tasks:
    - { id: reserve, type: SIMPLE }
    - { id: charge, type: SIMPLE, depends_on: [reserve] }
    - { id: ship, type: SIMPLE, depends_on: [charge] }
`,
  );
  writeFileSync(
    join(dir, 'handlers.mjs'),
    `import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
export default {
  reserve: async (_input, ctx) => ({ held: ctx.workflowInput.n }),
  charge: async () => ({ paid: true }),
  // Held until the test writes ./release: the process is killed while runs pile up here and others commit.
  ship: async () => {
    while (!existsSync(new URL('./release', import.meta.url))) await sleep(20);
    return { sent: true };
  },
};
`,
  );
  return { dir, storeDir: join(dir, '.ledgerflow'), file: join(dir, 'orders.yaml') };
}

function drive(
  p: { dir: string; storeDir: string; file: string },
  count: number,
  shell = '',
): { child: ReturnType<typeof spawn>; out: () => string } {
  let out = '';
  const args = [DRIVER, ROOT, p.file, p.storeDir, String(count)];
  const child = shell
    ? spawn('bash', ['-c', `${shell}; exec "$0" "$@"`, process.execPath, ...args], { cwd: p.dir })
    : spawn(process.execPath, args, { cwd: p.dir });
  procs.push(child);
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { child, out: () => out };
}

async function settledCount(storeDir: string): Promise<number> {
  const store = new FileEventStore(storeDir);
  try {
    return (await store.listRuns()).filter((r) => r.status === 'COMPLETED').length;
  } finally {
    await store.close();
  }
}

/**
 * `ledgerflow serve` on the store (docs/serve.md) until every one of `runs` runs COMPLETED, then stopped; then every
 * log holds only its own run's events and `replay --all` reads and replays every run.
 */
async function serveToTheEnd(p: { dir: string; storeDir: string }, runs: number): Promise<void> {
  const serve = spawnCli(['--store', p.storeDir, 'serve', '--json', '--handlers', 'handlers.mjs'], { cwd: p.dir });
  procs.push(serve);
  serve.stdout!.resume(); // read, or its notices fill the pipe and it cannot exit
  serve.stderr!.resume();
  await waitFor('serve drove every run to its end', async () => (await settledCount(p.storeDir)) === runs, {
    timeout: 120_000,
    interval: 250,
  });
  serve.kill('SIGTERM');
  await waitFor('serve stopped', () => serve.exitCode !== null);
  expect((await foreignLines(p.storeDir)).foreign).toEqual([]);
  const replay = await cli(['--store', p.storeDir, 'replay', '--all'], { cwd: p.dir });
  expect([replay.code, replay.stderr]).toEqual([0, expect.not.stringMatching(/could not be read|corrupt/)]);
}

/** How many runs have started the task (their log has its attempt). */
async function atTask(storeDir: string, taskId: string): Promise<number> {
  const runs = join(storeDir, 'runs');
  let n = 0;
  for (const f of await readdir(runs)) {
    if (f.endsWith('.jsonl') && (await readFile(join(runs, f), 'utf8')).includes(`"task":"${taskId}"`)) n++;
  }
  return n;
}

describe('hundreds of runs at once on the embedded store, with kills', () => {
  it('a process driving 300 runs is killed -9 mid-way; serve takes them all over: every log is its own run, every run completes and replays', async () => {
    const p = project();
    const { child, out } = drive(p, 300);
    await waitFor('the runs started', () => out().includes('started'), { timeout: 60_000, detail: out });
    await waitFor('100 runs at their last task', async () => (await atTask(p.storeDir, 'ship')) >= 100, {
      timeout: 60_000,
      interval: 50,
      detail: out,
    });
    child.kill('SIGKILL');
    await waitFor('the driver gone', () => child.exitCode !== null || child.signalCode !== null);
    expect(await settledCount(p.storeDir)).toBe(0); // killed mid-way: serve has every run to take over
    writeFileSync(join(p.dir, 'release'), '');

    await serveToTheEnd(p, 300);
  }, 240_000);

  it('a process allowed 48 descriptors drives 300 runs at once: a commit that fails lands nowhere, and resume completes every run', async () => {
    const p = project();
    writeFileSync(join(p.dir, 'release'), '');
    const { child, out } = drive(p, 300, 'ulimit -n 48');
    await waitFor('the drive ended', () => child.exitCode !== null, { timeout: 120_000, detail: out });
    expect(out()).toMatch(/^done /m);
    expect((await foreignLines(p.storeDir)).foreign).toEqual([]);
    // What ran out of descriptors is left unsettled, as after a kill: serve (with the usual limit) finishes it.
    await serveToTheEnd(p, 300);
  }, 240_000);
});
