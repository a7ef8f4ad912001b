/**
 * Running nats-server locally: the binary, the command line of a single
 * server (nats.conf) or of one node of a cluster (nats-cluster.conf), and
 * waiting until JetStream answers. Shared by `ledgerflow dev` and the tests'
 * and chaos script's clusters, so that all start a node the same way.
 */
import { spawnSync } from 'node:child_process';
import { connect } from 'nats';
import { UsageError } from '../errors/index.js';
import { parseServers } from '../store/index.js';

export function natsServerBinary(): string {
  for (const candidate of [process.env.NATS_SERVER_BIN, 'nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) {
    if (candidate && spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new UsageError('nats-server is not installed: install it (Debian: `apt-get install nats-server`) or point --nats at a running server', {});
}

/** The ports of one cluster node: clients, routes from the other nodes, monitoring (-1: a random one). */
export interface NodePorts { client: number; route: number; monitor: number }

/** A node's name: its JetStream server_name, and the name doctor shows for its replicas. */
export const nodeName = (i: number): string => `node-${i + 1}`;

/**
 * The command line of node `i` of a cluster on 127.0.0.1 whose nodes have
 * `ports`: nats-cluster.conf with this node's name, ports and store, and a
 * route to every node (nats-server skips the one to itself).
 */
export function clusterNodeArgs(config: string, ports: NodePorts[], i: number, storeDir: string): string[] {
  const own = ports[i]!;
  return [
    '-c', config, '-a', '127.0.0.1', '-n', nodeName(i),
    '-p', String(own.client), '-m', String(own.monitor), '-sd', storeDir,
    '--cluster', `nats://127.0.0.1:${own.route}`,
    '--routes', ports.map((p) => `nats://127.0.0.1:${p.route}`).join(','),
  ];
}

/**
 * Resolves once JetStream answers at every one of `servers` (each asked on a
 * connection of its own): in a cluster that means a meta leader is elected
 * and every node knows it, so streams can be made with any replica count up
 * to the cluster's size. Throws after `timeoutMs` with the last error.
 */
export async function waitForJetStream(servers: string, timeoutMs = 30_000): Promise<void> {
  const { servers: list, ...auth } = parseServers(servers);
  const deadline = Date.now() + timeoutMs;
  for (const server of list) {
    for (;;) {
      try {
        const nc = await connect({ servers: server, ...auth, maxReconnectAttempts: 0, timeout: 2000, name: 'ledgerflow-ready-probe' });
        try {
          await (await nc.jetstreamManager({ timeout: 2000 })).getAccountInfo();
          break;
        } finally {
          await nc.close();
        }
      } catch (err) {
        if (Date.now() > deadline) throw new UsageError(`JetStream at ${server} not ready after ${timeoutMs} ms: ${(err as Error).message}`, { server });
        // A poll, not a sleep in a test: this runs in the CLI too, where no test helper is at hand.
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
