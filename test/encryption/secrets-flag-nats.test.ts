/**
 * docs/security.md on NATS with the data key in a file, not in KV LF_SECRETS: `--secrets <file>` given to the engines
 * (`engine --handlers`, and an engine with a remote `worker`), and to the CLI that starts and reads. The run's values
 * are sealed in the stream; `status --secrets` shows them, `status` without the file `[encrypted]`.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';
import { HANDLERS, NAME, PAYROLL_YAML, leaked } from './docs-page.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

describe.skipIf(noNats)('--secrets on NATS: the data key in a file (docs/security.md)', () => {
  const c = useCluster();

  for (const how of ['engine --handlers', 'engine and a remote worker'] as const)
    it(`${how}: sealed in the stream, read with --secrets, [encrypted] without`, async () => {
      const dir = tempDir('lf-secrets-nats-');
      writeFileSync(join(dir, 'payroll.yaml'), PAYROLL_YAML);
      writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
      // Nothing in the environment nor in KV: only the file has the key.
      const env = { LEDGERFLOW_SECRET_LF_DATA_KEY: '', LEDGERFLOW_SECRETS_FILE: '' };
      const set = await cli(['secrets', 'set', 'LF_DATA_KEY', '--secrets', 'key.yaml'], {
        cwd: dir,
        env,
        stdin: randomBytes(32).toString('base64'),
      });
      expect(set.code, set.stderr).toBe(0);
      const url = c.as('engine');
      let out = '';
      const spawn = (args: string[]) => {
        const p = spawnCli(args, { cwd: dir, env });
        p.stdout!.on('data', (d) => (out += d));
        p.stderr!.on('data', (d) => (out += d));
        procs.push(p);
      };
      if (how === 'engine --handlers')
        spawn(['engine', '--nats', url, '--handlers', 'handlers.mjs', '--secrets', 'key.yaml']);
      else {
        spawn(['engine', '--nats', url, '--secrets', 'key.yaml']);
        spawn(['worker', '--nats', c.as('worker'), '--handlers', 'handlers.mjs', '--secrets', 'key.yaml']);
      }
      const lf = (...args: string[]) => cli([...args, '--nats', url], { cwd: dir, env });
      expect((await lf('deploy', 'payroll.yaml')).code).toBe(0);
      // As the engine user the CLI records the start itself: it writes, so it is given the key too.
      const started = await lf('start', 'payroll', '--employee', NAME, '--secrets', 'key.yaml');
      expect(started.code, started.stderr).toBe(0);
      const runId = started.stdout.trim();
      await waitFor(
        'the salary task to complete (its first attempt fails, the retry passes)',
        async () => {
          const s = await lf('status', runId, '--json', '--secrets', 'key.yaml');
          return s.code === 0 && JSON.parse(s.stdout).tasks.contract?.status === 'WAITING';
        },
        { timeout: 60_000, detail: () => out },
      );
      const shown = JSON.parse((await lf('status', runId, '--json', '--secrets', 'key.yaml')).stdout);
      expect(shown.input).toEqual({ employee: NAME });
      const blind = await lf('status', runId, '--json');
      expect(blind.code, blind.stderr).toBe(0);
      expect(leaked(blind.stdout)).toBeNull();
      const history = JSON.parse((await lf('history', runId, '--json', '--secrets', 'key.yaml')).stdout) as {
        type: string;
        data: Record<string, any>;
      }[];
      expect(history.find((e) => e.type === 'task.completed')!.data.output.employee).toBe(NAME);
      expect(history.find((e) => e.type === 'task.failed')!.data.error.message).toContain(NAME);
      // The run's log as stored: no value in clear.
      const jsm = await c.jsm();
      const info = await jsm.streams.info('LF_EVENTS');
      for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('LF_EVENTS', { seq }).catch(() => null);
        if (m) expect(leaked(Buffer.from(m.data).toString('latin1')), `LF_EVENTS ${seq}`).toBeNull();
      }
      expect(out).not.toContain('LF_DATA_KEY_MISSING');
    }, 120_000);
});
