/**
 * `ledgerflow start` right after the node leading the event log's stream
 * died: while the cluster elects a new leader its requests get no
 * reply or a 503 for a few seconds. Setting up the store and appending
 * run.started are safe to repeat (the append under its message id), so the
 * start waits the election out within its deadline instead of failing with
 * "no reply from nats-server in time", and the run is recorded once.
 */
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { CHAOS_WORKFLOW } from '../helpers/cluster-run.js';
import { noNats, testCluster } from '../helpers/cluster.js';
import { jetstreamManager } from '@nats-io/jetstream';

const R3 = { LEDGERFLOW_NATS_REPLICAS: '3' };

describe.skipIf(noNats)('a start during a failover of the log (3 nodes)', () => {
  it('`start` just after the LF_EVENTS leader is killed succeeds, and records run.started once', async () => {
    const cluster = await testCluster({
      server: 'three-nodes',
      client: { store: { replicas: 3 }, cluster: { replicas: 3 } },
    });
    const client = cluster.client;
    const deployed = await cli(['--nats', cluster.url, 'deploy', CHAOS_WORKFLOW], { env: R3 });
    expect(deployed.code, deployed.stderr).toBe(0);
    const jsm = await jetstreamManager(await client.store.connection());
    const leader = (await jsm.streams.info('LF_EVENTS')).cluster!.leader!;
    await cluster.natsCluster!.nodes.find((n) => n.name === leader)!.stop();

    // What a person types, with the three servers' URLs, while the cluster is still electing.
    const started = await cli(['--nats', cluster.url, 'start', 'cluster-chaos', '--json'], { env: R3 });
    expect(started.code, started.stdout + started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const events = await client.store.read(runId);
    expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
    expect(events[0]).toMatchObject({ seq: 1, type: 'run.started', workflowId: 'cluster-chaos' });
  }, 120_000);
});
