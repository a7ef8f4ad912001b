/**
 * `ledgerflow dev`: a local nats-server from nats-dev.conf with its store under .ledgerflow/nats/, or with
 * `--cluster <n>` a cluster of n nodes from nats-cluster-dev.conf with their stores under .ledgerflow/cluster/node-N/;
 * in the foreground, stopped with Ctrl-C (SIGINT) or SIGTERM. The dev files make a connection without credentials the
 * engine user, and `dev` says so loudly (dev-config.ts); `--config nats.conf` runs the production file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../../errors/index.js';
import type { Io } from '../render/io.js';
import { anonymousUser, configFile, CONFIGS, devWarning, withUser } from './dev-config.js';
import { DEFAULT_LEAF_PORT, HUB_DOMAIN, hubRemote, keptPassword, writeHubConfig, writeLeafConfig } from './dev-leaf.js';
import { linkUser } from '../../users/index.js';
import { stationQueue } from '../../definition/index.js';
import {
  clusterNode,
  natsServerBinary,
  nodeName,
  ROUTE_USER,
  waitForJetStream,
  type NodePorts,
} from '../../cluster/index.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer()
      .once('error', () => res(false))
      .listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

async function checkPort(port: number, what: string): Promise<void> {
  if (!(await portFree(port))) {
    throw new UsageError(
      `port ${port} (${what}) is already in use (another nats-server?): pass --port <free port>, or use that server with --nats nats://127.0.0.1:${port}`,
      { port },
    );
  }
}

/** Runs until every child has exited; SIGINT / SIGTERM stop them all. */
function foreground(children: ChildProcess[]): Promise<number> {
  const stop = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return Promise.all(
    children.map(
      (c) =>
        new Promise<number | null>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) res(c.exitCode);
          else c.once('exit', (code) => res(code));
        }),
    ),
  ).then((codes) => (codes.every((code) => code === 0 || code === null) ? 0 : 1));
}

function tcpPort(flag: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw new UsageError(`${flag} ${value} is not a TCP port`, { value });
  return port;
}

export interface DevOptions {
  port?: string;
  storeDir?: string;
  config?: string;
  cluster?: string;
  leafPort?: string;
  stations?: string;
  leaf?: string;
  hub?: string;
  json?: boolean;
}

export async function devCmd(io: Io, opts: DevOptions): Promise<number> {
  // A station's leaf node beside a hub on this machine: the next client port by default.
  const port = tcpPort('--port', opts.port ?? (opts.leaf !== undefined ? '4223' : '4222'));
  if (opts.leaf !== undefined) {
    if (opts.cluster !== undefined || opts.leafPort !== undefined)
      throw new UsageError(
        "--leaf starts a station's leaf node: not with --cluster or --leaf-port (those are the hub's)",
        {},
      );
    if (opts.config !== undefined)
      throw new UsageError(
        "--config: `dev --leaf` writes the leaf node's config itself (development users); for a leaf node of your own, run nats-server with a config as docs/nats.md#stations shows",
        {},
      );
    return devLeaf(io, port, opts.leaf, opts);
  }
  if (opts.hub !== undefined)
    throw new UsageError("--hub is where a station's leaf node links to: give it with --leaf <station>", {});
  if ((opts.stations !== undefined) !== (opts.leafPort !== undefined))
    throw new UsageError(
      opts.leafPort === undefined
        ? '--stations: the stations a hub takes leaf nodes of, with --leaf-port'
        : "--leaf-port: name the stations whose leaf nodes it takes, --stations north[,south…]: each links as its own user, which carries only that station's people and workers (docs/nats.md#stations)",
      {},
    );
  if (opts.cluster !== undefined) {
    if (opts.leafPort !== undefined)
      throw new UsageError(
        '--leaf-port: a cluster hub for stations is configured by hand (docs/nats.md#stations); `dev --leaf-port` starts a single server',
        {},
      );
    return devCluster(io, port, opts);
  }
  await checkPort(port, 'clients');
  const chosen = configFile(opts.config, CONFIGS.single.dev);
  // A hub for stations gets its users written again (nats.conf's and each station's link): only over a shipped file's.
  if (
    opts.leafPort !== undefined &&
    opts.config !== undefined &&
    !([CONFIGS.single.dev, CONFIGS.single.production] as string[]).includes(basename(chosen))
  ) {
    throw new UsageError(
      `--leaf-port writes the hub's users itself (nats.conf's development users and each station's link), over ${CONFIGS.single.dev} or ${CONFIGS.single.production}: for a hub of your own config, add the links with \`ledgerflow users nats-conf\` (docs/nats.md#stations)`,
      { config: opts.config },
    );
  }
  const anonymous = anonymousUser(chosen);
  const storeDir = resolve(opts.storeDir ?? join('.ledgerflow', 'nats'));
  mkdirSync(storeDir, { recursive: true });
  const leafPort = opts.leafPort === undefined ? undefined : tcpPort('--leaf-port', opts.leafPort);
  if (leafPort !== undefined) await checkPort(leafPort, 'leaf nodes');
  const leaf = leafPort === undefined ? null : keptPassword('leaf', storeDir, true)!;
  const stations = (opts.stations ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const config = leafPort === undefined ? chosen : writeHubConfig(chosen, storeDir, leafPort, leaf!.password, stations);
  const bin = natsServerBinary();
  // -m -1: a random monitoring port, so a dev server never collides with another on nats.conf's.
  const child = spawn(bin, ['-c', config, '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-m', '-1'], {
    stdio: ['ignore', opts.json ? 'ignore' : 'inherit', 'inherit'],
  });
  const url = `nats://127.0.0.1:${port}`;
  // Without a no_auth_user a connection must name a user: the --nats value carries the engine's.
  const nats = anonymous ? url : withUser(url, 'engine');
  const warning = anonymous ? devWarning(config, anonymous, url, CONFIGS.single.production, '') : [];
  if (opts.json) {
    await waitForJetStream(nats);
    for (const l of warning) io.err(l.trim());
    io.out(
      JSON.stringify({
        nats,
        servers: [url],
        config,
        anonymous,
        storeDir,
        worker: withUser(url, 'worker'),
        ...(leafPort !== undefined
          ? { leafnodes: `nats://127.0.0.1:${leafPort}`, leafPasswordFile: leaf!.file, domain: HUB_DOMAIN, stations }
          : {}),
      }),
    );
  } else {
    io.out(`nats-server (JetStream, domain ${HUB_DOMAIN}) listening on ${url}`);
    io.out(`  config ${config}, store ${storeDir}`);
    for (const l of warning) io.out(l);
    io.out(`  use it with: --nats ${nats}   or   export LEDGERFLOW_NATS_URL=${nats}`);
    if (leafPort !== undefined) {
      io.out(
        `  stations' leaf nodes on nats://127.0.0.1:${leafPort}: ${stations.map((st) => `${st} as user ${linkUser(st)}`).join(', ')}, password ${leaf!.file ? `in ${leaf!.file}` : 'from LF_LEAF_PASSWORD'} (a leaf without it is refused; each carries only its station's people and workers)`,
      );
      io.out(
        `  start a station here: ledgerflow dev --leaf ${stations[0]} --port <port>${leafPort === DEFAULT_LEAF_PORT ? '' : ` --hub nats://127.0.0.1:${leafPort}`}`,
      );
    }
    printUsers(io, url, anonymous);
  }
  return foreground([child]);
}

/**
 * A station's leaf node (dev-leaf.ts): no JetStream, linked to the hub's leaf port. It says it is ready once JetStream
 * answers through it (the link is up), or after 30 s that the link is not up yet (it keeps trying: a station's tasks
 * wait for it).
 */
async function devLeaf(io: Io, port: number, name: string, opts: DevOptions): Promise<number> {
  await checkPort(port, 'clients');
  const storeDir = resolve(opts.storeDir ?? join('.ledgerflow', `leaf-${name}`));
  const hub = hubRemote(opts.hub, name, () => {
    const kept = keptPassword('leaf', resolve(join('.ledgerflow', 'nats')), false);
    if (!kept)
      throw new UsageError(
        `the hub's leaf password: set LF_LEAF_PASSWORD, run this where the hub runs (it keeps it in .ledgerflow/nats/leaf-password), or give it in --hub nats://${linkUser(name)}:<password>@host:port`,
        {},
      );
    return kept.password;
  });
  const config = writeLeafConfig(name, storeDir, hub);
  const child = spawn(natsServerBinary(), ['-c', config, '-a', '127.0.0.1', '-p', String(port), '-m', '-1'], {
    stdio: ['ignore', opts.json ? 'ignore' : 'inherit', 'inherit'],
  });
  const done = foreground([child]);
  const url = `nats://127.0.0.1:${port}`;
  const nats = `${url}?domain=${HUB_DOMAIN}`;
  const hubShown = hub.replace(/\/\/[^@/]*@/, '//');
  // Asked as its worker: the link carries the station's people and workers, not the leaf's anonymous engine user.
  const linked = Promise.race([
    waitForJetStream(`${withUser(url, 'worker')}?domain=${HUB_DOMAIN}`).then(
      () => true,
      () => false,
    ),
    done.then(() => false),
  ]);
  if (opts.json) {
    io.out(
      JSON.stringify({
        station: name,
        nats,
        servers: [url],
        domain: HUB_DOMAIN,
        hub: hubShown,
        config,
        linked: await linked,
        worker: `${withUser(url, 'worker')}?domain=${HUB_DOMAIN}`,
        queue: stationQueue(name),
      }),
    );
  } else {
    io.out(`station ${name}: leaf nats-server on ${url}, linked to the hub at ${hubShown}`);
    io.out(`  config ${config}`);
    io.out(`  !! DEVELOPMENT ONLY: a connection without credentials is the engine user. Never expose this server.`);
    io.out(
      `  its clients use the hub's JetStream: --nats '${nats}'   (or export LEDGERFLOW_NATS_DOMAIN=${HUB_DOMAIN})`,
    );
    io.out(
      `  its worker: ledgerflow worker --nats '${withUser(url, 'worker')}?domain=${HUB_DOMAIN}' --station ${name} --handlers <module>`,
    );
    io.out(`  its people: ${withUser(url, 'alice')}?domain=${HUB_DOMAIN}  (also bob, cfo, commander)`);
    io.out('  stop with Ctrl-C');
    void linked.then((up) =>
      io.out(
        up
          ? `  link to the hub is up (JetStream answers through it)`
          : `  link to the hub is not up yet: the leaf keeps trying; the station's tasks wait in the hub's queue`,
      ),
    );
  }
  return done;
}

function printUsers(io: Io, nats: string, anonymous: string | null): void {
  io.out('  users (nats.conf; development passwords, change them in production):');
  io.out(
    anonymous
      ? `    engines and admin commands   ${nats}  (no credentials = the ${anonymous} user: development only)`
      : `    engines and admin commands   ${withUser(nats, 'engine')}  (no credentials: refused)`,
  );
  io.out(`    workers                      ${withUser(nats, 'worker')}`);
  io.out(`    approvers                    ${withUser(nats, 'alice')}  (also bob, cfo, commander)`);
  io.out('  then: ledgerflow engine --nats … & ledgerflow worker --nats … --handlers <module>');
  io.out('  stop with Ctrl-C');
}

/**
 * n nodes on consecutive client ports from --port, route ports 2000 above them (4222 → 6222, as NATS numbers them),
 * random monitoring ports. It says it is ready once JetStream answers on every node (a meta leader is elected).
 */
async function devCluster(
  io: Io,
  port: number,
  opts: { storeDir?: string; config?: string; cluster?: string; json?: boolean },
): Promise<number> {
  const n = Number(opts.cluster);
  if (!Number.isInteger(n) || n < 3 || n > 9) {
    throw new UsageError(
      `--cluster ${opts.cluster}: give the number of nodes, 3 to 9 (3 survives the loss of one node, 5 of two)`,
      { value: opts.cluster ?? null },
    );
  }
  const ports: NodePorts[] = Array.from({ length: n }, (_, i) => ({
    client: port + i,
    route: port + 2000 + i,
    monitor: -1,
  }));
  if (ports.some((p) => p.route > 65535))
    throw new UsageError(`--port ${port} leaves no room for ${n} route ports 2000 above it`, { port });
  for (const [i, p] of ports.entries()) {
    await checkPort(p.client, `clients of ${nodeName(i)}`);
    await checkPort(p.route, `routes of ${nodeName(i)}`);
  }
  const config = configFile(opts.config, CONFIGS.cluster.dev);
  const anonymous = anonymousUser(config);
  const storeRoot = resolve(opts.storeDir ?? join('.ledgerflow', 'cluster'));
  const bin = natsServerBinary();
  const routes = keptPassword('route', storeRoot, true)!;
  const children = ports.map((_, i) => {
    const storeDir = join(storeRoot, nodeName(i));
    mkdirSync(storeDir, { recursive: true });
    const node = clusterNode(config, ports, i, storeDir, routes.password);
    return spawn(bin, node.args, {
      stdio: ['ignore', 'ignore', opts.json ? 'ignore' : 'inherit'],
      env: { ...process.env, ...node.env },
    });
  });
  const done = foreground(children);
  // One node gone ends the wait (its port taken since checked, a config it refuses): without it the others wait out
  // the 30 s and say "connection refused" of the wrong thing.
  const oneExited = Promise.race(
    children.map(
      (c, i) =>
        new Promise<string>((res) =>
          c.once('exit', (code, sig) => res(`${nodeName(i)} (${sig ?? `exit code ${code}`})`)),
        ),
    ),
  );
  const urls = ports.map((p) => `nats://127.0.0.1:${p.client}`);
  const servers = urls.join(',');
  const nats = anonymous ? servers : withUser(servers, 'engine');
  const warning = anonymous
    ? devWarning(config, anonymous, servers, CONFIGS.cluster.production, ` --cluster ${n}`)
    : [];
  try {
    await Promise.race([
      waitForJetStream(nats, 30_000, { replicas: 3 }),
      oneExited.then((which) => {
        throw new UsageError(
          `a node of the cluster exited during start-up: ${which}${opts.json ? '' : '; see its log above'}`,
          {},
        );
      }),
    ]);
  } catch (err) {
    for (const c of children) c.kill('SIGTERM');
    await done;
    throw err;
  }
  if (opts.json) {
    for (const l of warning) io.err(l.trim());
    io.out(
      JSON.stringify({
        nats,
        servers: urls,
        nodes: ports.map((p, i) => ({
          name: nodeName(i),
          url: urls[i],
          route: p.route,
          storeDir: join(storeRoot, nodeName(i)),
        })),
        config,
        anonymous,
        routePasswordFile: routes.file,
        worker: withUser(servers, 'worker'),
      }),
    );
  } else {
    io.out(`nats-server cluster of ${n} nodes (JetStream, meta leader elected, streams of 3 replicas placeable):`);
    for (const [i, url] of urls.entries())
      io.out(`  ${nodeName(i)}  ${url}  (routes on ${ports[i]!.route}, store ${join(storeRoot, nodeName(i))})`);
    io.out(`  config ${config}`);
    io.out(
      `  routes authorized: user ${ROUTE_USER}, password ${routes.file ? `in ${routes.file}` : 'from LF_ROUTE_PASSWORD'} (a server without it cannot join)`,
    );
    for (const l of warning) io.out(l);
    io.out(`  use it with: --nats ${nats}   or   export LEDGERFLOW_NATS_URL=${nats}`);
    io.out(
      `  and LEDGERFLOW_NATS_REPLICAS=3 so that streams and buckets keep a copy on 3 nodes (check with \`ledgerflow doctor\`)`,
    );
    printUsers(io, servers, anonymous);
  }
  return done;
}
