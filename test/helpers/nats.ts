/**
 * A real nats-server for integration tests, started from the repo's
 * nats-dev.conf (nats.conf, plus: a connection without credentials is the
 * engine user, which most tests rely on), or with `production: true` from
 * nats.conf itself (such a connection is refused: what security tests need),
 * with a free client port, a random monitoring port (so parallel servers
 * never collide on nats.conf's fixed `http:` port) and a temporary JetStream
 * store dir. `stop()` is a SIGKILL (the crash the store must survive);
 * `restart()` brings the server back on the same port and store.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clusterNode, newRoutePassword, nodeName, waitForJetStream, type NodePorts } from '../../src/cluster/index.js';
import { waitFor } from './wait.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The production files: every connection must give credentials. */
export const NATS_CONF = join(ROOT, 'nats.conf');
export const NATS_CLUSTER_CONF = join(ROOT, 'nats-cluster.conf');
/** The development files (the helpers' default): they include the above and make a connection without credentials the engine user. */
export const NATS_DEV_CONF = join(ROOT, 'nats-dev.conf');
export const NATS_CLUSTER_DEV_CONF = join(ROOT, 'nats-cluster-dev.conf');
/** A server URL as one of nats.conf's users (their development passwords). */
export const asUser = (url: string, user: string): string =>
  url.replace('nats://', `nats://${user}:${user}-dev-password@`);
/** The oldest server the JetStream store is written for (Debian's package). */
export const MIN_NATS_SERVER = [2, 9, 0] as const;

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** SIGKILL, then wait for the process to be gone. */
  stop(): Promise<void>;
  /** Starts again on the same port and store dir (after stop(), or kills first). */
  restart(): Promise<void>;
  /** stop() and remove the store dir if this helper created it. */
  dispose(): Promise<void>;
}

/** The nats-server binary: $NATS_SERVER_BIN, /usr/sbin/nats-server, or `nats-server` on PATH; null when none runs. */
export function natsServerBin(): string | null {
  const candidates = [
    process.env.NATS_SERVER_BIN,
    '/usr/sbin/nats-server',
    '/usr/bin/nats-server',
    'nats-server',
  ].filter((c): c is string => !!c);
  for (const c of candidates) {
    if (c.includes('/') && !existsSync(c)) continue;
    const r = spawnSync(c, ['--version'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return null;
}

/** `[major, minor, patch]` of the binary, parsed from `nats-server: v2.9.10`. */
export function natsServerVersion(bin: string): [number, number, number] | null {
  const out = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

export function versionAtLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) {
    if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  }
  return true;
}

/**
 * A port nothing listens on right now, drawn below the kernel's ephemeral range (ip_local_port_range, 32768-60999
 * here). The kernel's own pick for port 0 comes from that range, which is also where every outgoing connection's
 * source port comes from: in a suite of hundreds of connections, a port picked and closed was now and then taken as
 * some connection's source port before nats-server bound it. A node whose route port went that way printed "Server
 * is ready", then died on the route listener, and a 3-node cluster never elected its R3 streams (doctor-cluster
 * failed so, "not ready after 30000 ms", 2026-11-29). A port under the range is only ever taken by a listener, which
 * this check sees; random, so that test files starting servers side by side rarely draw the same one.
 */
const PICKED_LOW = 20_000;
const PICKED_HIGH = 32_000;
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = PICKED_LOW + Math.floor(Math.random() * (PICKED_HIGH - PICKED_LOW));
    if (await canListen(port)) return port;
  }
  return kernelPort();
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** The kernel's pick for port 0 (when fifty draws under its range found none free). */
function kernelPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

/**
 * Starts nats-server with `args` and resolves with the process once it says it
 * is ready and takes connections on `port`; throws (the process killed) when
 * it exits or is not ready within `timeoutMs`, with its log.
 */
async function spawnNats(
  bin: string,
  args: string[],
  port: number,
  timeoutMs: number,
  env: Record<string, string> = {},
  routePort?: number,
): Promise<ChildProcess> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let log = '';
  let ready = false;
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    if (log.length < 64_000) log += d;
    if (log.includes('Server is ready')) ready = true;
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  try {
    await waitFor(
      'nats-server to be ready',
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null)
          throw new Error(`nats-server exited during start-up (code ${proc.exitCode}):\n${log}`);
        // A cluster node says it is ready once it takes clients, and only then binds its route port, dying when that
        // fails ("Error listening on router port"): ready means both listening.
        return ready && (await canConnect(port)) && (routePort === undefined || (await canConnect(routePort)));
      },
      { timeout: timeoutMs, detail: () => log },
    );
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    throw err;
  }
  return proc;
}

/**
 * `attempt` until it succeeds (undoing a failed one with `undo`), every 200 ms;
 * one that fails after `timeoutMs` fails the retry with its error. An attempt
 * is never cut off (it may have started a process): one takes at most
 * `timeoutMs` itself, hence the wait's own bound of twice that.
 */
async function retry(
  what: string,
  attempt: () => Promise<void>,
  undo: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await waitFor(
    what,
    async () => {
      try {
        await attempt();
        return true;
      } catch (err) {
        await undo();
        if (Date.now() > deadline) throw err;
        return false;
      }
    },
    { timeout: 2 * timeoutMs, interval: 200 },
  );
}

async function killProcess(c: ChildProcess | undefined): Promise<void> {
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  const gone = new Promise<void>((r) => c.once('exit', () => r()));
  c.kill('SIGKILL');
  await gone;
}

/**
 * `config`: another config file than nats-dev.conf (e.g. a server without
 * users); `production`: the production nats.conf (no connection without credentials).
 */
export async function startNatsServer(
  opts: { storeDir?: string; bin?: string; timeoutMs?: number; config?: string; production?: boolean } = {},
): Promise<NatsServer> {
  const bin = opts.bin ?? natsServerBin();
  if (!bin) throw new Error('nats-server not found (install the nats-server package or set NATS_SERVER_BIN)');
  const ownDir = opts.storeDir === undefined;
  const storeDir = opts.storeDir ?? (await mkdtemp(join(tmpdir(), 'lf-nats-')));
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let port = 0;
  let child: ChildProcess | undefined;

  const launch = async (p: number): Promise<void> => {
    // -p overrides nats.conf's listen port; -m -1 picks a random monitoring
    // port (0 would mean "unset" and keep nats.conf's 8222).
    child = await spawnNats(
      bin,
      [
        '-c',
        opts.config ?? (opts.production ? NATS_CONF : NATS_DEV_CONF),
        '-a',
        '127.0.0.1',
        '-p',
        String(p),
        '-m',
        '-1',
        '-sd',
        storeDir,
      ],
      p,
      timeoutMs,
    );
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    await killProcess(c);
  };

  // The port is free when picked but could be taken before the server binds it: retry with another.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch(port);
      break;
    } catch (err) {
      await stop();
      if (attempt >= 3) {
        if (ownDir) await rm(storeDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    restart: async () => {
      await stop();
      // Right after a kill the port can linger briefly; retry the bind for a moment.
      await retry('nats-server to bind its port again', () => launch(port), stop, timeoutMs);
    },
    dispose: async () => {
      await stop();
      if (ownDir) await rm(storeDir, { recursive: true, force: true });
    },
  };
  return server;
}

export interface NatsNode {
  /** Its server_name (node-1…), as doctor and stream info name replicas. */
  name: string;
  url: string;
  port: number;
  /** Its HTTP monitoring port (/jsz, /varz). */
  monitorPort: number;
  storeDir: string;
  running(): boolean;
  /** SIGKILL, then wait for the process to be gone. */
  stop(): Promise<void>;
  /** Starts again on the same ports and store dir (kills first if running); resolves once it takes connections. */
  restart(): Promise<void>;
}

export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's URL, comma-separated: the --nats value of a cluster. */
  url: string;
  /** The route password every node asks of a route (LF_ROUTE_PASSWORD), and each node's route port. */
  routes: { password: string; ports: number[] };
  /** The cluster's URL as one of nats.conf's users (credentials on the first URL apply to all). */
  as(user: string): string;
  /** The node that leads JetStream's meta group (asked of a running node's /jsz). */
  metaLeader(): Promise<string>;
  /** Stops every node and removes the store dirs. */
  dispose(): Promise<void>;
}

/**
 * A JetStream cluster of `size` nodes on 127.0.0.1, each from
 * nats-cluster-dev.conf (or with `production: true` nats-cluster.conf: the
 * users of nats.conf, no connection without credentials) with its own client, route and
 * monitoring ports and store dir, started as `ledgerflow dev --cluster` starts
 * them (src/cluster/admin/nats-server.ts). Resolves once every node answers JetStream
 * requests, i.e. a meta leader is elected.
 */
export async function startNatsCluster(
  size = 3,
  opts: { bin?: string; timeoutMs?: number; production?: boolean } = {},
): Promise<NatsCluster> {
  const bin = opts.bin ?? natsServerBin();
  if (!bin) throw new Error('nats-server not found (install the nats-server package or set NATS_SERVER_BIN)');
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const root = await mkdtemp(join(tmpdir(), 'lf-nats-cluster-'));
  const ports: NodePorts[] = [];
  for (let i = 0; i < size; i++)
    ports.push({ client: await freePort(), route: await freePort(), monitor: await freePort() });
  const routePassword = newRoutePassword();
  const children: (ChildProcess | undefined)[] = [];
  // A killed node's ports can linger for a moment: retry the bind until the deadline.
  // A "free" monitor port another test's server took meanwhile is picked anew, and a client port at the first start (no other
  // node names those; route ports they do; a restarted node keeps its client port, which the cluster's URL names).
  let started = false;
  const launch = (i: number): Promise<void> =>
    retry(
      `${nodeName(i)} to start`,
      async () => {
        const node = clusterNode(
          opts.production ? NATS_CLUSTER_CONF : NATS_CLUSTER_DEV_CONF,
          ports,
          i,
          join(root, nodeName(i)),
          routePassword,
        );
        try {
          children[i] = await spawnNats(bin, node.args, ports[i]!.client, timeoutMs, node.env, ports[i]!.route);
        } catch (err) {
          const text = String((err as Error).message);
          if (/monitor port.*address already in use/.test(text)) ports[i]!.monitor = await freePort();
          else if (!started && text.includes(`127.0.0.1:${ports[i]!.client}: bind: address already in use`))
            ports[i]!.client = await freePort();
          // A route port taken at the first start: the node comes up on another, and the routes it solicits tell the
          // others where (the other nodes' --routes still name the old one, which they retry and never reach).
          else if (!started && /Error listening on router port/.test(text)) ports[i]!.route = await freePort();
          throw err;
        }
      },
      async () => undefined,
      timeoutMs,
    );
  const nodes: NatsNode[] = ports.map((p, i) => ({
    name: nodeName(i),
    get url() {
      return `nats://127.0.0.1:${p.client}`;
    },
    get port() {
      return p.client;
    },
    get monitorPort() {
      return p.monitor;
    },
    storeDir: join(root, nodeName(i)),
    running: () => {
      const c = children[i];
      return !!c && c.exitCode === null && c.signalCode === null;
    },
    stop: async () => {
      const c = children[i];
      children[i] = undefined;
      await killProcess(c);
    },
    restart: async () => {
      await killProcess(children[i]);
      await launch(i);
    },
  }));
  const dispose = async () => {
    await Promise.all(children.map((c) => killProcess(c)));
    await rm(root, { recursive: true, force: true });
  };
  let url = '';
  try {
    await Promise.all(nodes.map((_, i) => launch(i)));
    started = true;
    url = nodes.map((n) => n.url).join(',');
    await waitForJetStream(asUser(url, 'engine'), timeoutMs, { replicas: size });
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    nodes,
    url,
    routes: { password: routePassword, ports: ports.map((p) => p.route) },
    as: (user) => asUser(url, user),
    metaLeader: async () => {
      for (const n of nodes.filter((x) => x.running())) {
        try {
          const jsz = (await (await fetch(`http://127.0.0.1:${n.monitorPort}/jsz`)).json()) as {
            meta_cluster?: { leader?: string };
          };
          if (jsz.meta_cluster?.leader) return jsz.meta_cluster.leader;
        } catch {
          // That node is going down or not up yet: ask the next.
        }
      }
      throw new Error('no running node knows a meta leader');
    },
    dispose,
  };
}

export interface GatedProxy {
  url: string;
  /** From now on, hold back everything the server sends (the client's requests still go through). */
  hold(): void;
  /** Deliver what was held back, and stop holding. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a server that can hold back the server's replies:
 * a request reaches the server and is carried out, but its answer comes too
 * late for the client's timeout. That is a lost reply, the "unknown outcome"
 * a store must retry idempotently. Bytes are delayed, never dropped, so the
 * protocol stream stays intact.
 */
export async function startGatedProxy(target: number): Promise<GatedProxy> {
  let holding = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const srv = createServer((client) => {
    const upstream = tcpConnect({ port: target, host: '127.0.0.1' });
    sockets.add(client).add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => (holding ? held.push(() => client.write(d)) : client.write(d)));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `nats://127.0.0.1:${port}`,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const f of held.splice(0)) f();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => srv.close(() => res()));
    },
  };
}
