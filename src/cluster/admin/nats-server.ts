/**
 * Running nats-server locally: the binary, the command line of a single server (nats.conf) or of one node of a cluster
 * (nats-cluster.conf), and waiting until JetStream answers. Shared by `ledgerflow dev` and the tests' and chaos
 * script's clusters, so that all start a node the same way.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect, jetstreamManager, StorageType } from '../../store/index.js';
import { UsageError, errorMessage } from '../../errors/index.js';
import { inboxPrefixFor, parseServers } from '../../store/index.js';

export function natsServerBinary(): string {
  for (const candidate of [
    process.env.NATS_SERVER_BIN,
    'nats-server',
    '/usr/sbin/nats-server',
    '/usr/local/bin/nats-server',
  ]) {
    if (candidate && spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new UsageError(
    'nats-server is not installed: install it (Debian: `apt-get install nats-server`) or point --nats at a running server',
    {},
  );
}

/** The ports of one cluster node: clients, routes from the other nodes, monitoring (-1: a random one). */
export interface NodePorts {
  client: number;
  route: number;
  monitor: number;
}

/** A node's name: its JetStream server_name, and the name doctor shows for its replicas. */
export const nodeName = (i: number): string => `node-${i + 1}`;

/** The user a node gives when it opens a route to another (nats-cluster.conf's `cluster.authorization`). */
export const ROUTE_USER = 'route';

/**
 * What a route password may be: nats-server reads LF_ROUTE_PASSWORD as a config value, not as text, so
 * one starting with a digit is taken for a number (and the node does not start), `true` for a boolean.
 */
export const ROUTE_PASSWORD = /^[A-Za-z][A-Za-z0-9]{15,}$/;
export const ROUTE_PASSWORD_RULE =
  'a route password is 16 or more letters and digits, starting with a letter (nats-server reads it as a config value)';

/** A new route password: `r` and 48 hex digits (a letter first, so nats-server reads it as text). */
export function newRoutePassword(): string {
  return `r${randomBytes(24).toString('hex')}`;
}

/** How one node of a local cluster is started: its command line, and what its environment adds. */
export interface ClusterNodeCommand {
  args: string[];
  env: Record<string, string>;
}

/**
 * The command line of node `i` of a cluster on 127.0.0.1 whose nodes have `ports`: nats-cluster.conf with this node's
 * name, ports and store, and a route to every node (nats-server skips the one to itself), each route giving the route
 * password the node's own config asks for (LF_ROUTE_PASSWORD in its environment).
 */
export function clusterNode(
  config: string,
  ports: NodePorts[],
  i: number,
  storeDir: string,
  routePassword: string,
): ClusterNodeCommand {
  const own = ports[i]!;
  const cred = `${ROUTE_USER}:${encodeURIComponent(routePassword)}@`;
  return {
    args: [
      '-c',
      config,
      '-a',
      '127.0.0.1',
      '-n',
      nodeName(i),
      '-p',
      String(own.client),
      '-m',
      String(own.monitor),
      '-sd',
      storeDir,
      // Credentials in --cluster too: nats-server's flag replaces the config's route authorization, and
      // one without credentials clears it (any server could then join through the route port).
      '--cluster',
      `nats://${cred}127.0.0.1:${own.route}`,
      '--routes',
      ports.map((p) => `nats://${cred}127.0.0.1:${p.route}`).join(','),
    ],
    env: { LF_ROUTE_PASSWORD: routePassword },
  };
}

type JetStreamManager = Awaited<ReturnType<typeof jetstreamManager>>;

/**
 * `ask` on a connection of its own to `server`, made once (no reconnects, 2 s to connect and per request) and closed
 * after: how `waitForJetStream` and an engine waiting for its server (await-server.ts) look at a server. `auth`: a
 * --nats URL's user, password, token and domain (parseServers).
 */
export async function probeServer<T>(
  server: string | string[],
  auth: Omit<ReturnType<typeof parseServers>, 'servers'>,
  ask: (nc: Awaited<ReturnType<typeof connect>>, jsm: JetStreamManager) => Promise<T>,
): Promise<T> {
  // The user's own reply inbox (nats.conf lets a user hear its own only; a station's link carries its users' only).
  const nc = await connect({
    servers: server,
    ...auth,
    inboxPrefix: inboxPrefixFor(auth.user),
    maxReconnectAttempts: 0,
    timeout: 2000,
    name: 'ledgerflow-ready-probe',
  });
  try {
    // No API check of its own (one request): what to ask, and whether JetStream must answer, is `ask`'s.
    return await ask(nc, await jetstreamManager(nc, { timeout: 2000, checkAPI: false }));
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/**
 * Resolves once JetStream answers at every one of `servers` (each asked on a connection of its own) and, with
 * `replicas` above 1, once a stream with that many replicas can be placed. A meta leader elected and known to every
 * node is not enough for that: until the leader has heard from its peers, making a stream of 3 replicas fails with "no
 * suitable peers for placement" (JetStream error 10005), as a user deploying right after start-up would meet. So the
 * last check places a throwaway stream in memory and deletes it. Throws after `timeoutMs` with the last error.
 */
export async function waitForJetStream(
  servers: string,
  timeoutMs = 30_000,
  opts: { replicas?: number } = {},
): Promise<void> {
  const { servers: list, ...auth } = parseServers(servers);
  const deadline = Date.now() + timeoutMs;
  const until = async (what: string, server: string, probe: () => Promise<void>): Promise<void> => {
    for (;;) {
      try {
        return await probe();
      } catch (err) {
        if (Date.now() > deadline)
          throw new UsageError(
            `JetStream at ${server} not ready after ${timeoutMs} ms (${what}): ${errorMessage(err)}`,
            { server },
          );
        // A poll, not a sleep in a test: this runs in the CLI too, where no test helper is at hand.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const asking = (server: string | string[], ask: (jsm: JetStreamManager) => Promise<void>) => () =>
    probeServer(server, auth, (_nc, jsm) => ask(jsm));
  for (const server of list)
    await until(
      'no answer',
      server,
      asking(server, async (jsm) => {
        await jsm.getAccountInfo();
      }),
    );
  const replicas = opts.replicas ?? 1;
  if (replicas <= 1) return;
  const name = `LF_READY_PROBE_${randomBytes(6).toString('hex')}`;
  await until(
    `placing ${replicas} replicas`,
    list.join(','),
    asking(list, async (jsm) => {
      await jsm.streams.add({
        name,
        subjects: [`lf.ready-probe.${name}`],
        storage: StorageType.Memory,
        num_replicas: replicas,
        max_msgs: 1,
      });
      await jsm.streams.delete(name);
    }),
  );
}
