/**
 * docs/users.md, "nats.conf from the users file": `ledgerflow users add` for
 * the engine, a Commander, a Station OPS and a Worker, `ledgerflow users
 * nats-conf --out ledgerflow-users.conf`, a nats.conf that includes it, a
 * real nats-server started with it. The server checks each password (the
 * bcrypt hash kept beside the scrypt one) and refuses what a level may not
 * publish before an engine sees it; the engine (`--users`) judges the rest.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { STOCK_COUNT } from '../helpers/authority.js';
import { HANDLERS } from '../helpers/cluster-run.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

describe.skipIf(noNats)("users nats-conf: nats-server checks the users file's passwords and levels", () => {
  let dir = '';
  let server: NatsServer | undefined;
  const url = (user: string, password = `pw-${user}`) => `nats://${user}:${password}@127.0.0.1:${server!.port}`;

  beforeAll(async () => {
    dir = tempDir('lf-nats-conf-');
    writeFileSync(join(dir, 'stock-count.yaml'), STOCK_COUNT);
    for (const [name, level, extra] of [
      ['engine', 'L1', []],
      ['alice', 'L0', []],
      ['ops-east', 'L2', ['--domains', 'inventory']],
      ['scanner', 'L3', ['--queues', 'default']],
    ] as const) {
      const r = await cli(['users', 'add', name, '--level', level, ...extra, '--password-stdin'], {
        cwd: dir,
        stdin: `pw-${name}\n`,
      });
      expect(r.code, r.stderr).toBe(0);
    }
    const conf = await cli(['users', 'nats-conf', '--out', 'ledgerflow-users.conf'], { cwd: dir });
    expect(conf.code, conf.stderr).toBe(0);
    expect(statSync(join(dir, 'ledgerflow-users.conf')).mode & 0o777).toBe(0o600);
    const text = readFileSync(join(dir, 'ledgerflow-users.conf'), 'utf8');
    expect(text).not.toContain('pw-'); // hashes only
    // The nats.conf the docs show: JetStream and the include.
    writeFileSync(join(dir, 'nats.conf'), 'jetstream {}\ninclude ./ledgerflow-users.conf\n');
    server = await startNatsServer({ config: join(dir, 'nats.conf') });
  }, 60_000);
  afterAll(async () => {
    await server?.dispose();
  });

  it('a wrong password is refused; a Station OPS may approve (the engine refuses it) but the server refuses its cancel; the Commander approves', async () => {
    expect((await cli(['--nats', url('engine'), 'deploy', join(dir, 'stock-count.yaml')])).code).toBe(0);
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')]);
    procs.push(engine);
    let out = '';
    engine.stderr!.on('data', (d) => (out += d));
    const started = await cli(['--nats', url('engine'), 'start', 'stock-count', '--json']);
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const waited = await cli(['--nats', url('engine'), 'wait', runId, '--or-waiting', '--timeout', '30s', '--json']);
    expect(JSON.parse(waited.stdout).status, out).toBe('WAITING');

    const wrong = await cli(['--nats', url('alice', 'guess'), 'approve', runId, 'commander_review']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/authoriz|password/i);

    const cancel = await cli(['--nats', url('ops-east'), 'cancel', runId]);
    expect(cancel.code, cancel.stderr).not.toBe(0);
    expect(cancel.stderr).toMatch(/permission/i);
    const byOps = await cli(['--nats', url('ops-east'), 'approve', runId, 'commander_review']);
    expect(byOps.code, byOps.stderr + out).toBe(2);
    expect(byOps.stderr).toContain(
      'ops-east is L2 (Station OPS); approving commander_review needs L0 (Commander) or higher',
    );
    // A Worker may not read the log at all.
    const peek = await cli(['--nats', url('scanner'), 'status', runId]);
    expect(peek.code).not.toBe(0);
    expect(peek.stderr).toMatch(/permission/i);

    const byAlice = await cli(['--nats', url('alice'), 'approve', runId, 'commander_review']);
    expect(byAlice.code, byAlice.stderr + out).toBe(0);
    const done = await cli(['--nats', url('engine'), 'wait', runId, '--timeout', '30s', '--json']);
    expect(JSON.parse(done.stdout).status).toBe('COMPLETED');
    const history = JSON.parse((await cli(['--nats', url('engine'), 'history', runId, '--json'])).stdout) as {
      type: string;
      data: { by?: string };
    }[];
    expect(history.filter((e) => e.type.startsWith('approval.')).map((e) => [e.type, e.data.by])).toEqual([
      ['approval.refused', 'ops-east'],
      ['approval.recorded', 'alice'],
    ]);
    expect(history.some((e) => e.type === 'run.cancelled')).toBe(false);
  }, 120_000);

  it("the agents view names a worker with its NATS user's level (the engine's users file) and its skills", async () => {
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')]);
    const worker = spawnCli(['--nats', url('scanner'), 'worker', '--handlers', HANDLERS, '--skills', 'gpu']);
    procs.push(engine, worker);
    let last = '';
    await waitFor(
      'the worker heard with its level',
      async () => {
        last = (await cli(['--nats', url('engine'), 'agents', '--json'])).stdout;
        const rows = (
          JSON.parse(last || '{"agents":[]}') as { agents: { user?: string; level?: string; skills: string[] }[] }
        ).agents;
        return rows.some((r) => r.user === 'scanner' && r.level === 'L3' && r.skills.includes('gpu'));
      },
      { timeout: 30_000, detail: () => last },
    );
  }, 60_000);

  it('leaves out, and says so, a user with no password for NATS; refuses to write a file with no engine user', async () => {
    const other = tempDir('lf-nats-conf-2-');
    expect((await cli(['users', 'add', 'viewer', '--level', 'L1'], { cwd: other })).code).toBe(0);
    const none = await cli(['users', 'nats-conf'], { cwd: other });
    expect([none.code, none.stderr.includes('names no engine user engine')]).toEqual([2, true]);
    expect(
      (await cli(['users', 'add', 'engine', '--level', 'L1', '--password-stdin'], { cwd: other, stdin: 'pw\n' })).code,
    ).toBe(0);
    const conf = await cli(['users', 'nats-conf', '--json'], { cwd: other });
    expect(conf.code, conf.stderr).toBe(0);
    const json = JSON.parse(conf.stdout) as { text: string; left: { name: string; why: string }[] };
    expect(json.left.map((l) => l.name)).toEqual(['viewer']);
    expect(json.text).toContain('user: "engine"');
    expect(json.text).not.toContain('"viewer"');
  }, 60_000);
});
