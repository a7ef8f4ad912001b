/**
 * The cluster's routes take only a server that gives the route password
 * (nats-cluster.conf's cluster.authorization): a stranger's nats-server that
 * reaches a route port, with ledgerflow's own nats.conf (its users and
 * accounts) and the cluster's name, is refused and never becomes a route; the
 * same server given the password joins (so the refusal is the password's
 * doing). The nodes are started as `ledgerflow dev --cluster` starts them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { newRoutePassword, ROUTE_PASSWORD } from '../../src/cluster/index.js';
import { checkRoutes } from '../../src/cluster/admin/route-check.js';
import { noNats } from '../helpers/cluster.js';
import { freePort, natsServerBin, startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

describe.skipIf(noNats)('cluster routes are authorized (nats-cluster.conf)', () => {
  let cluster: NatsCluster;
  const rogues: ChildProcess[] = [];
  let dir = '';
  beforeAll(async () => {
    cluster = await startNatsCluster(3, { production: true });
    dir = await mkdtemp(join(tmpdir(), 'lf-rogue-'));
  }, 60_000);
  afterAll(async () => {
    for (const r of rogues) if (r.exitCode === null && r.signalCode === null) r.kill('SIGKILL');
    await cluster?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** A server of the stranger's: ledgerflow's nats.conf, the cluster's name, a route to node-1 (with `route` credentials when given). */
  const rogue = async (name: string, cred = '') => {
    const monitor = await freePort();
    const routePort = await freePort();
    const child = spawn(
      natsServerBin()!,
      [
        '-c',
        join(ROOT, 'nats.conf'),
        '-a',
        '127.0.0.1',
        '-n',
        name,
        '-p',
        String(await freePort()),
        '-m',
        String(monitor),
        '-sd',
        join(dir, name),
        '--cluster_name',
        'ledgerflow',
        '--cluster',
        `nats://127.0.0.1:${routePort}`,
        '--routes',
        `nats://${cred}127.0.0.1:${cluster.routes.ports[0]}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LF_ROUTE_PASSWORD: 'not-the-password' } },
    );
    rogues.push(child);
    let log = '';
    child.stderr!.on('data', (d) => {
      log += d;
    });
    const z = (path: string) =>
      waitFor(
        `${name}'s ${path}`,
        async () => {
          try {
            return (await (await fetch(`http://127.0.0.1:${monitor}/${path}`)).json()) as Record<string, unknown>;
          } catch {
            return null;
          }
        },
        { timeout: 20_000, detail: () => log },
      );
    return {
      log: () => log,
      routePort,
      id: async () => (await z('varz')).server_id as string,
      routes: async () => (await z('routez')).num_routes as number,
    };
  };
  /** Speaks the route protocol to `port` as a server would: its INFO, then our CONNECT (with `auth` when given) and a PING; every line it answered. */
  const handshake = (port: number, auth: Record<string, string> = {}) =>
    new Promise<string[]>((resolve, reject) => {
      const sock = tcpConnect(port, '127.0.0.1');
      let buf = '';
      let sent = false;
      sock.setEncoding('utf8');
      sock.on('error', reject);
      sock.on('close', () => resolve(buf.split('\r\n').filter(Boolean)));
      sock.on('data', (d: string) => {
        buf += d;
        if (!sent && buf.includes('\r\n')) {
          sent = true;
          sock.write(
            `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, tls_required: false, name: 'probe', cluster: 'ledgerflow', ...auth })}\r\nPING\r\n`,
          );
        }
        if (/^(PONG|-ERR)/m.test(buf.slice(buf.indexOf('\r\n') + 2))) sock.end();
      });
    });
  const routeHandshake = (auth: Record<string, string> = {}) => handshake(cluster.routes.ports[0]!, auth);
  const routesOfNode1 = async () => {
    const z = (await (await fetch(`http://127.0.0.1:${cluster.nodes[0]!.monitorPort}/routez`)).json()) as {
      num_routes: number;
      routes: { remote_id: string; remote_name?: string }[];
    };
    return z;
  };

  it('a route port asks for credentials, and a route that gives none (or a wrong password) is refused at its CONNECT', async () => {
    const none = await routeHandshake();
    expect(JSON.parse(none[0]!.replace(/^INFO /, ''))).toMatchObject({ cluster: 'ledgerflow', server_name: 'node-1' });
    expect(none.slice(1), none.join('\n')).toContain("-ERR 'Authorization Violation'");
    const wrong = await routeHandshake({ user: 'route', pass: 'guess' });
    expect(wrong.slice(1)).toContain("-ERR 'Authorization Violation'");
    const right = await routeHandshake({ user: 'route', pass: cluster.routes.password });
    expect(right.slice(1)).not.toContain("-ERR 'Authorization Violation'");
  });

  it('a server without the route password is refused and never becomes a route; with it, the same server joins', async () => {
    expect((await routesOfNode1()).num_routes).toBe(2);
    const stranger = await rogue('stranger');
    // Started first, it has tried (and retries every second); the member, started after, joins; the stranger never does.
    const member = await rogue('member', `route:${encodeURIComponent(cluster.routes.password)}@`);
    await waitFor('a server with the password to join', async () => (await routesOfNode1()).num_routes === 3, {
      timeout: 20_000,
      detail: member.log,
    });
    const ids = (await routesOfNode1()).routes.map((r) => r.remote_id);
    expect(ids).toContain(await member.id());
    expect(ids, stranger.log()).not.toContain(await stranger.id());
    expect(await stranger.routes()).toBe(0);
  }, 60_000);

  it('`doctor --routes` is content with routes that ask for the password, and warns (exit 1) of one that takes a server without credentials', async () => {
    const routes = cluster.routes.ports.map((p) => `127.0.0.1:${p}`).join(',');
    const ok = await cli(['--nats', cluster.as('engine'), 'doctor', '--routes', routes, '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { routes: { route: string; authRequired: boolean }[]; notes: string[] };
    expect(report.routes.map((r) => r.authRequired)).toEqual([true, true, true]);
    expect(report.notes).toContainEqual(expect.stringContaining('asks for credentials, without TLS'));
    const open = await rogue('open');
    await waitFor('the open server to be up', () => open.id());
    // Its route port listens a moment after its client port (doctor read no INFO there once, under load).
    await waitFor(
      "the open server's route port to greet",
      async () =>
        (await checkRoutes([{ host: '127.0.0.1', port: open.routePort, route: 'open' }], 1000))[0]!.authRequired !==
        null,
    );
    const bad = await cli(['--nats', cluster.as('engine'), 'doctor', '--routes', `127.0.0.1:${open.routePort}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      `warning: route 127.0.0.1:${open.routePort}: takes a server without credentials (no cluster authorization)`,
    );
    // Without --routes, a server in a cluster says its routes were not checked.
    expect((await cli(['--nats', cluster.as('engine'), 'doctor'])).stdout).toContain(
      'its routes were not checked; give --routes',
    );
    expect((await cli(['--nats', cluster.as('engine'), 'doctor', '--routes', 'nowhere'])).code).toBe(2);
  }, 60_000);

  it('`ledgerflow dev --cluster 3` makes a route password (kept readable by its owner only), says so, and its nodes refuse a route without it', async () => {
    const store = tempDir('lf-dev-cluster-');
    // Three client ports in a row and their route ports 2000 above, free when looked at; another test's server may
    // take one before dev binds it (dev then answers with a port-in-use error, or a node exits at start): try others.
    const freeRun = async (): Promise<number> => {
      for (let tries = 0; tries < 50; tries++) {
        const p = 20_000 + Math.floor(Math.random() * 20_000);
        const free = await Promise.all(
          [p, p + 1, p + 2, p + 2000, p + 2001, p + 2002].map(
            (x) =>
              new Promise<boolean>((res) => {
                const s = tcpConnect(x, '127.0.0.1');
                s.on('connect', () => {
                  s.destroy();
                  res(false);
                });
                s.on('error', () => res(true));
              }),
          ),
        );
        if (free.every(Boolean)) return p;
      }
      throw new Error('no six free ports found');
    };
    type Ready = { routePasswordFile: string; nodes: { route: number }[] };
    let dev: ReturnType<typeof spawnCli> | undefined;
    let info: Ready | undefined;
    let err = '';
    for (let attempt = 0; attempt < 5 && !info; attempt++) {
      const port = await freeRun();
      const child = spawnCli(['dev', '--cluster', '3', '--port', String(port), '--store-dir', store, '--json']);
      rogues.push(child);
      let out = '';
      err = '';
      let exited = false;
      child.stdout!.on('data', (d) => {
        out += d;
      });
      child.stderr!.on('data', (d) => {
        err += d;
      });
      child.once('exit', () => {
        exited = true;
      });
      const said = await waitFor(
        'dev --cluster to be ready (or to give up)',
        () => {
          try {
            return JSON.parse(out) as Ready | { error: { message: string } };
          } catch {
            return exited ? { error: { message: err } } : null;
          }
        },
        { timeout: 45_000, detail: () => err },
      );
      if ('error' in said) {
        // Only a port taken meanwhile is tried again; anything else is this test's failure.
        expect(said.error.message).toMatch(/already in use|exited during start-up/);
        if (!exited) await new Promise((r) => child.once('exit', r));
        continue;
      }
      dev = child;
      info = said;
    }
    if (!info || !dev) throw new Error(`dev --cluster never started on free ports: ${err}`);
    expect(info.routePasswordFile).toBe(join(store, 'route-password'));
    expect(statSync(info.routePasswordFile).mode & 0o777).toBe(0o600);
    for (const n of info.nodes) expect(await handshake(n.route)).toContain("-ERR 'Authorization Violation'");
    dev.kill('SIGTERM');
    await new Promise((r) => dev.once('exit', r));
  }, 60_000);
});

describe('route passwords nats-server can read', () => {
  it('a made one is letters and digits starting with a letter (nats-server reads LF_ROUTE_PASSWORD as a config value: 9abc… is a bad number)', () => {
    for (let i = 0; i < 500; i++) expect(newRoutePassword()).toMatch(ROUTE_PASSWORD);
  });

  it('dev --cluster refuses an LF_ROUTE_PASSWORD the server would misread, before starting any node (exit 2, the rule said)', async () => {
    const r = await cli(['dev', '--cluster', '3', '--port', '1', '--store-dir', tempDir()], {
      env: { LF_ROUTE_PASSWORD: '9f8e7d6c5b4a39281706' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'LF_ROUTE_PASSWORD: a route password is 16 or more letters and digits, starting with a letter',
    );
  });
});
