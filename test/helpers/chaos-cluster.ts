/**
 * A chaos test's cluster (test/cluster/chaos.test.ts, test/cluster/slot-holder-kill.test.ts): its own
 * nats-server (test/helpers/cluster.ts) and `ledgerflow` engine and worker processes that a test can
 * SIGKILL, writing the fixture handlers' markers; all gone when the test ends.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ClusterClient } from '../../src/cluster/index.js';
import { cli, tempDir } from './cli.js';
import type { NatsServer } from './nats.js';
import { testCluster, type Cluster } from './cluster.js';
import { spawnLedgerflow, type LedgerflowProcess } from './cluster-run.js';

/** One test's cluster (test/helpers/cluster.ts, its own nats-server) and the `ledgerflow` processes it started; all gone when the test ends. */
export interface ChaosCluster extends Cluster {
  server: NatsServer;
  dir: string;
  markers: string;
  /** Starts `ledgerflow <args>` and resolves once it says it is taking work. */
  launch: (name: string, args: string[], env?: Record<string, string>) => Promise<LedgerflowProcess>;
  /** A client of its own (closed with the cluster), e.g. after a server restart. */
  newClient: () => ClusterClient;
  /** Everything the processes printed, for failure messages. */
  logs: () => string;
}

export async function startChaosCluster(): Promise<ChaosCluster> {
  const c = await testCluster();
  const dir = tempDir('lf-chaos-');
  const markers = join(dir, 'markers');
  const procs: LedgerflowProcess[] = [];
  c.defer(() => Promise.all(procs.map((p) => p.kill('SIGKILL'))));
  return Object.assign(c, {
    server: c.server!,
    dir,
    markers,
    newClient: () => c.clientAs(undefined, {}),
    logs: () => procs.map((p) => `--- ${p.name} (${p.pid}) ---\n${p.output()}`).join('\n'),
    launch: async (name: string, args: string[], env: Record<string, string> = {}) => {
      const proc = spawnLedgerflow(name, args, { cwd: dir, markers, env });
      procs.push(proc);
      await proc.started();
      return proc;
    },
  });
}

export async function deploy(c: ChaosCluster, file: string): Promise<void> {
  const r = await cli(['--nats', c.url, 'deploy', file], { cwd: c.dir });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}
