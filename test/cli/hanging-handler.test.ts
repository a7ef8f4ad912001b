import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { noNats, skipNote, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

// The test run's nats-server.
const nats = useCluster({ server: 'shared' });

/** A workflow whose one task's handler never settles (no timeout), and a module that completes it. */
function project(): { dir: string; file: string; done: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'hang.mjs'), 'export default { stuck: () => new Promise(() => {}) };\n');
  writeFileSync(join(dir, 'done.mjs'), 'export default { stuck: () => ({ ok: true }) };\n');
  const file = join(dir, 'hang.yaml');
  writeFileSync(
    file,
    `workflow:
  id: hangs
  name: A handler that never returns
  version: 1
  handlers: ./hang.mjs
  tasks:
    - id: stuck
      type: SIMPLE
`,
  );
  return { dir, file, done: join(dir, 'done.mjs') };
}

function collect(child: ChildProcess): { out: () => string; err: () => string; closed: Promise<number | null> } {
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { out: () => out, err: () => err, closed };
}

/** Waits for `n` notices naming the attempt; the process must still be running meanwhile (it used to exit 13 after about a second). */
async function noticesWhileAlive(child: ChildProcess, io: ReturnType<typeof collect>, n: number): Promise<void> {
  await waitFor(
    `${n} notices naming the attempt still running`,
    () => {
      if (child.exitCode !== null)
        throw new Error(
          `ledgerflow run exited ${child.exitCode} while its attempt was in flight:\n${io.out()}\n${io.err()}`,
        );
      return (
        io
          .err()
          .split('\n')
          .filter((l) =>
            /still waiting for stuck of run \S+ \(attempt 1, running \d+s; its task has no timeout/.test(l),
          ).length >= n
      );
    },
    { timeout: 20_000, detail: () => io.out() + io.err() },
  );
}

describe('ledgerflow run: a handler that never settles', () => {
  for (const json of [false, true]) {
    it(`waits for the attempt and says so on stderr every so often${json ? ' (--json: stdout holds only the final object)' : ''}; Ctrl-C exits 130 and resume continues`, async () => {
      const { dir, file, done } = project();
      const store = join(dir, 'store');
      const child = spawnCli(['--store', store, 'run', file, ...(json ? ['--json'] : [])], {
        cwd: dir,
        env: { LEDGERFLOW_WAIT_NOTICE: '300ms' },
      });
      const io = collect(child);
      await noticesWhileAlive(child, io, 3);
      child.kill('SIGINT');
      expect(await io.closed).toBe(130);
      if (json)
        expect(JSON.parse(io.out())).toMatchObject({ status: 'RUNNING', tasks: { stuck: { status: 'IN_PROGRESS' } } });
      else expect(io.out()).toMatch(/run \S+ RUNNING/);
      const runId = /run (\S+) started/.exec(json ? io.err() : io.out())![1]!;
      const resumed = await cli(['--store', store, 'resume', runId, '--handlers', done, '--json'], { cwd: dir });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({
        status: 'COMPLETED',
        tasks: { stuck: { output: { ok: true } } },
      });
    });
  }

  it('refuses a LEDGERFLOW_WAIT_NOTICE that is not a duration (exit 2, nothing started)', async () => {
    const { dir, file } = project();
    const r = await cli(['--store', join(dir, 'store'), 'run', file], {
      cwd: dir,
      env: { LEDGERFLOW_WAIT_NOTICE: 'often' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LEDGERFLOW_WAIT_NOTICE=often is not a duration');
    expect((await cli(['--store', join(dir, 'store'), 'list', '--json'])).stdout.trim()).toBe('[]');
  });
});

describe.skipIf(noNats)(`ledgerflow run --nats: a handler that never settles${skipNote}`, () => {
  it('waits for the attempt and says so on stderr; Ctrl-C exits 130', async () => {
    const { dir, file } = project();
    const child = spawnCli(['--nats', nats.url, 'run', file, '--json'], {
      cwd: dir,
      env: { LEDGERFLOW_WAIT_NOTICE: '300ms' },
    });
    const io = collect(child);
    await noticesWhileAlive(child, io, 3);
    child.kill('SIGINT');
    expect(await io.closed).toBe(130);
    expect(JSON.parse(io.out())).toMatchObject({ status: 'RUNNING' });
  });
});
