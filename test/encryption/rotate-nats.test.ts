/**
 * `keys rotate --nats` as docs/security.md says to do it: the key in KV LF_SECRETS, an engine and a worker, a run; the
 * key rotated and the engines restarted (the worker left running, as the page asks only of the engines). The next
 * run's attempt reaches the worker sealed with the new key, which it never loaded: it finds it in LF_SECRETS and runs
 * it. Both runs read with their values through the rotation, and `list` shows both.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { rawMessages, spawnLedgerflow, type LedgerflowProcess } from '../helpers/cluster-run.js';
import { waitFor } from '../helpers/wait.js';
import { HANDLERS, NAME, PAYROLL_YAML } from './docs-page.js';

describe.skipIf(noNats)('keys rotate on NATS (docs/security.md#rotating-the-key)', () => {
  const c = useCluster();
  const procs: LedgerflowProcess[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill()));
  });

  it('a worker running since before the rotation runs the attempts sealed with the new key', async () => {
    const dir = tempDir('lf-rotate-nats-');
    writeFileSync(join(dir, 'payroll.yaml'), PAYROLL_YAML);
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    const engineUrl = c.as('engine');
    // Nothing in the environment: every process finds the key in KV LF_SECRETS.
    const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '' };
    const lf = (...args: string[]) => cli([...args, '--nats', engineUrl], { cwd: dir, env });
    const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--nats', engineUrl], {
      cwd: dir,
      stdin: randomBytes(32).toString('base64'),
      env,
    });
    expect(set.code, set.stderr).toBe(0);
    const spawn = async (name: string, args: string[]) => {
      const p = spawnLedgerflow(name, args, { cwd: dir, markers: join(dir, 'markers'), env });
      procs.push(p);
      await p.started();
      return p;
    };
    const engine = await spawn('engine', ['engine', '--nats', engineUrl]);
    const worker = await spawn('worker', ['worker', '--nats', c.as('worker'), '--handlers', 'handlers.mjs']);
    expect((await lf('deploy', 'payroll.yaml')).code).toBe(0);

    const salaried = async (who: string) => {
      const started = await lf('start', 'payroll', '--employee', who);
      expect(started.code, started.stderr).toBe(0);
      const runId = started.stdout.trim();
      await waitFor(
        `run ${runId}'s salary task, run by the worker`,
        async () => {
          const s = await lf('status', runId, '--json');
          return s.code === 0 && JSON.parse(s.stdout).tasks.contract?.status === 'WAITING';
        },
        { timeout: 60_000, detail: () => `${engine.output()}\n${worker.output()}` },
      );
      return runId;
    };
    const before = await salaried(NAME);

    const rotated = await lf('keys', 'rotate');
    expect(rotated.code, rotated.stderr).toBe(0);
    const newId = /data key ([0-9a-f]{16}) is LF_DATA_KEY/.exec(rotated.stdout)![1]!;
    // "restart the engines after it"
    await engine.kill('SIGTERM');
    const engine2 = await spawn('engine-2', ['engine', '--nats', engineUrl]);
    const after = await salaried(`${NAME}-after`);
    expect(worker.alive()).toBe(true);
    expect(worker.output()).not.toContain('LF_DATA_KEY_MISSING');
    expect(engine2.output()).not.toContain('lost');

    for (const [runId, who] of [
      [before, NAME],
      [after, `${NAME}-after`],
    ] as const) {
      const history = JSON.parse((await lf('history', runId, '--json')).stdout) as {
        type: string;
        data: Record<string, any>;
      }[];
      expect(history.find((e) => e.type === 'task.completed')!.data.output).toEqual({ employee: who, salary: 85000 });
    }
    // `list` shows both runs after the rotation, the first's index values sealed with the key from before (which the
    // CLI loads from LF_SECRETS as it reads them): twice, the second from the order kept in the CLI's cache folder.
    for (let i = 0; i < 2; i++) {
      const listed = await lf('list', '--json');
      expect(listed.code, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as { runId: string }[]).map((r) => r.runId).sort()).toEqual(
        [before, after].sort(),
      );
    }
    // The second run's values are sealed with the new key, as the stream holds them.
    const { jetstreamManager } = await import('@nats-io/jetstream');
    expect(await rawMessages(await jetstreamManager(await c.admin()), after)).toContain(`1:${newId}:`);
  }, 180_000);
});
