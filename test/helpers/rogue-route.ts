/** A stranger's nats-server at a cluster's route ports (`npm run chaos`; test/cluster/route-auth.test.ts tries one by hand). */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { freePort, natsServerBin, type NatsCluster } from './nats.js';

/**
 * A stranger's nats-server (ledgerflow's own nats.conf, the cluster's name, no route password) routed at every
 * node's route port for the whole chaos: the rogue route. `joinedNodes` names the nodes that took it.
 */
export async function startRogueRoute(
  cluster: NatsCluster,
  dir: string,
): Promise<{ joinedNodes(): Promise<string[]>; stop(): void }> {
  const monitor = await freePort();
  const child = spawn(
    natsServerBin()!,
    [
      '-c',
      join(ROOT, 'nats.conf'),
      '-a',
      '127.0.0.1',
      '-n',
      'rogue',
      '-p',
      String(await freePort()),
      '-m',
      String(monitor),
      '-sd',
      join(dir, 'rogue'),
      '--cluster_name',
      'ledgerflow',
      '--cluster',
      `nats://127.0.0.1:${await freePort()}`,
      '--routes',
      cluster.routes.ports.map((p) => `nats://127.0.0.1:${p}`).join(','),
    ],
    { stdio: 'ignore', env: { ...process.env, LF_ROUTE_PASSWORD: 'not-the-password' } },
  );
  let id = '';
  return {
    async joinedNodes() {
      try {
        id ||= ((await (await fetch(`http://127.0.0.1:${monitor}/varz`)).json()) as { server_id: string }).server_id;
      } catch {
        /* not answering: said below */
      }
      // A rogue that never ran proves nothing: say so rather than report that nothing joined.
      if (!id)
        throw new Error(`the rogue server (monitoring port ${monitor}) never answered: the rogue route was not tried`);
      const joined: string[] = [];
      for (const node of cluster.nodes) {
        const z = (await (await fetch(`http://127.0.0.1:${node.monitorPort}/routez`)).json().catch(() => null)) as {
          routes?: { remote_id: string }[];
        } | null;
        if (id && z?.routes?.some((r) => r.remote_id === id)) joined.push(node.name);
      }
      return joined;
    },
    stop() {
      child.kill('SIGKILL');
    },
  };
}
