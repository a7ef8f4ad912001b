/**
 * `ledgerflow dev` as a user runs it: by default it starts
 * nats-dev.conf, where a connection without credentials is the engine user,
 * and says so loudly, naming the file and how to run the production one; with
 * `--config nats.conf` (found among the shipped files from any directory) a
 * connection without credentials is refused and the URL it prints carries
 * the engine's credentials.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { anonymousUser } from '../../src/cli/commands/dev-config.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { freePort, natsServerBin } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';
import { jetstreamManager } from '@nats-io/jetstream';

describe('the shipped nats-server configs', () => {
  it('only the dev files let a connection without credentials in (as the engine user)', () => {
    expect(anonymousUser(join(ROOT, 'nats.conf'))).toBeNull();
    expect(anonymousUser(join(ROOT, 'nats-cluster.conf'))).toBeNull();
    expect(anonymousUser(join(ROOT, 'nats-dev.conf'))).toBe('engine');
    expect(anonymousUser(join(ROOT, 'nats-cluster-dev.conf'))).toBe('engine');
  });
});

describe.skipIf(noNats)('ledgerflow dev', () => {
  let child: ChildProcess | undefined;
  afterEach(async () => {
    const c = child;
    child = undefined;
    if (c && c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM'); // dev stops its nats-server and exits
      await gone;
    }
  });

  /** Starts `ledgerflow dev …` in an empty directory; resolves with what it printed once it says how to connect. */
  async function dev(args: string[], ready: RegExp): Promise<{ out: () => string; err: () => string }> {
    let out = '';
    let err = '';
    child = spawnCli(['dev', ...args], { cwd: tempDir('lf-dev-') });
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    await waitFor('dev to say how to connect', () => ready.test(out), { timeout: 20_000, detail: () => out + err });
    return { out: () => out, err: () => err };
  }

  it('starts nats-dev.conf by default and says loudly that no credentials means the engine user, and how to run nats.conf instead', async () => {
    const port = await freePort();
    const { out } = await dev(['--port', String(port)], /stop with Ctrl-C/);
    const text = out();
    expect(text).toContain(`config ${join(ROOT, 'nats-dev.conf')}`);
    expect(text).toContain(`!! DEVELOPMENT ONLY: ${join(ROOT, 'nats-dev.conf')} sets no_auth_user: engine.`);
    expect(text).toMatch(
      /A connection without credentials IS the engine user, which may publish anything: it can approve under any approver's name/,
    );
    expect(text).toContain('ledgerflow dev --config nats.conf');
    expect(text).toContain(`--nats nats://engine:engine-dev-password@127.0.0.1:${port}`);
    expect(text).toContain(
      `engines and admin commands   nats://127.0.0.1:${port}  (no credentials = the engine user: development only)`,
    );
    // And it is so: no credentials, and JetStream answers (as the engine user).
    await waitFor('JetStream without credentials', async () => {
      const nc = await connect({ servers: `nats://127.0.0.1:${port}`, maxReconnectAttempts: 0 }).catch(() => null);
      if (!nc) return false;
      try {
        return !!(await (await jetstreamManager(nc)).getAccountInfo());
      } finally {
        await nc.close();
      }
    });
  }, 40_000);

  it("with --config nats.conf refuses a connection without credentials, prints the URL with the engine's, and warns of nothing", async () => {
    const port = await freePort();
    const { out, err } = await dev(['--port', String(port), '--config', 'nats.conf', '--json'], /^\{.*\}\s*$/m);
    const info = JSON.parse(out().trim()) as { nats: string; config: string; anonymous: string | null };
    expect(info).toMatchObject({
      nats: `nats://engine:engine-dev-password@127.0.0.1:${port}`,
      config: join(ROOT, 'nats.conf'),
      anonymous: null,
    });
    expect(err()).not.toMatch(/DEVELOPMENT ONLY/);
    await expect(connect({ servers: `nats://127.0.0.1:${port}`, maxReconnectAttempts: 0 })).rejects.toThrow(
      /authorization/i,
    );
    const engine = await connect({
      servers: `nats://127.0.0.1:${port}`,
      user: 'engine',
      pass: 'engine-dev-password',
      maxReconnectAttempts: 0,
    });
    await engine.close();
  }, 40_000);

  it('--json on the dev file says who a connection without credentials is, and warns on stderr', async () => {
    const port = await freePort();
    const { out, err } = await dev(['--port', String(port), '--json'], /^\{.*\}\s*$/m);
    expect(JSON.parse(out().trim())).toMatchObject({
      nats: `nats://127.0.0.1:${port}`,
      config: join(ROOT, 'nats-dev.conf'),
      anonymous: 'engine',
    });
    expect(err()).toContain(`!! DEVELOPMENT ONLY: ${join(ROOT, 'nats-dev.conf')} sets no_auth_user: engine.`);
  }, 40_000);

  it('--cluster 3 whose second node exits at start says which, at once, and stops the others', async () => {
    // A nats-server that cannot start as node-2 (as when its port is taken between dev's check and its start).
    const dir = tempDir('lf-dev-node-');
    const bin = join(dir, 'nats-server');
    writeFileSync(bin, `#!/bin/sh\nfor a; do [ "$a" = node-2 ] && exit 3; done\nexec ${natsServerBin()} "$@"\n`);
    chmodSync(bin, 0o755);
    const closed = (port: number) =>
      new Promise<boolean>((res) => {
        const s = tcpConnect(port, '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          res(false);
        });
        s.on('error', () => res(true));
      });
    for (let tries = 0; ; tries++) {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const r = await cli(
        ['dev', '--cluster', '3', '--port', String(port), '--store-dir', join(dir, 'store'), '--json'],
        {
          cwd: dir,
          env: { NATS_SERVER_BIN: bin },
        },
      );
      // Another test's server on one of the six ports: dev refuses before starting any node; try others.
      if (/already in use/.test(r.stderr) && tries < 20) continue;
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('a node of the cluster exited during start-up: node-2 (exit code 3)');
      expect(r.stderr).not.toContain('not ready after');
      // node-1 and node-3 were started, and are stopped: nobody listens on their ports.
      expect(await closed(port)).toBe(true);
      expect(await closed(port + 2)).toBe(true);
      return;
    }
  }, 25_000);
});
