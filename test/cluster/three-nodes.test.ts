/**
 * A 3-node cluster is a supported deployment: three nats-servers from
 * nats-cluster.conf, every stream and bucket with 3 replicas, two engines and
 * two workers as processes of the built CLI (`npm run build` first) connected
 * to all three URLs. A node is killed with SIGKILL mid-run, the leader of the
 * event log's stream, so that the log really fails over; every run must still
 * complete with a sound history, and no attempt may run twice (counted from
 * the markers the fixture handlers write, not from what the engines say).
 * Two engines acting on one run after the failover is what makes appends
 * race on the replicated log (test/cluster/r3-appends.test.ts), and what a
 * dead node's consumers stall: reads and waits must not.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanos } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { STREAMS, taskStream } from '../../src/cluster/index.js';
import { ENGINE_CONSUMERS } from '../../src/cluster/transport/subjects.js';
import { cli } from '../helpers/cli.js';
import {
  CHAOS_TASKS,
  CHAOS_WORKFLOW,
  duplicateExecutions,
  HANDLERS,
  historyProblems,
  readMarkers,
  spawnLedgerflow,
  type LedgerflowProcess,
} from '../helpers/cluster-run.js';
import { noNats, skipNote, testCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { runReads } from '../../src/runs/index.js';

const R3 = { LEDGERFLOW_NATS_REPLICAS: '3' };

describe.skipIf(noNats)(`a 3-node cluster${skipNote}`, () => {
  it("the leader of the log's stream killed mid-run: every run completes, no history forks, no attempt runs twice; the node catches up when back", async () => {
    const cluster = await testCluster({
      server: 'three-nodes',
      client: { store: { replicas: 3 }, cluster: { replicas: 3 } },
    });
    const client = cluster.client;
    const dir = mkdtempSync(join(tmpdir(), 'lf-three-'));
    const markers = join(dir, 'markers');
    const procs: LedgerflowProcess[] = [];
    cluster.defer(() => Promise.all(procs.map((p) => p.kill())));
    const logs = () => procs.map((p) => `--- ${p.name} (${p.pid}) ---\n${p.output()}`).join('\n');
    const launch = async (name: string, args: string[]) => {
      const p = spawnLedgerflow(name, args, { cwd: dir, markers, env: R3 });
      procs.push(p);
      await p.started();
      return p;
    };

    const deployed = await cli(['--nats', cluster.url, 'deploy', CHAOS_WORKFLOW], { cwd: dir, env: R3 });
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    // One after the other, as an operator brings a cluster up: the first makes the replicated streams and consumers,
    // the second finds them. Both at once on a loaded 2-core machine let one's setup call outlast the client's 5 s
    // (an engine's start-up requests are not retried: it exits, for its supervisor to start again).
    for (const n of ['engine-1', 'engine-2']) await launch(n, ['--nats', cluster.url, 'engine']);
    // What the killed node held (an input an engine was folding, an ack on its way to a consumer leader
    // that died) comes back after the consumer's ack wait: make the engines' 2 s, as an operator may, so
    // that it does within the test. The workers keep the default (10 s, heartbeats every third of it): no
    // worker dies here, and a wait shorter than a leader election would take a live worker's attempt for
    // lost and run it again elsewhere.
    const nc = await client.store.connection();
    const jsm = await jetstreamManager(nc);
    for (const [kind, durable] of Object.entries(ENGINE_CONSUMERS)) {
      await jsm.consumers.update(STREAMS[kind as keyof typeof ENGINE_CONSUMERS].name, durable, {
        ack_wait: nanos(2000),
      });
    }
    await Promise.all(
      ['worker-1', 'worker-2'].map((n) =>
        launch(n, ['--nats', cluster.as('worker'), 'worker', '--handlers', HANDLERS]),
      ),
    );

    const runIds = (
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => client.start('cluster-chaos', { ms: 200 + (i % 6) * 100 })),
      )
    ).map((s) => s.runId);
    // Mid-run: slow tasks under way, no run finished yet. Then kill the node leading the log's stream.
    await waitFor(
      'slow tasks to be running',
      () => readMarkers(markers).filter((m) => m.task.startsWith('slow') && m.what === 'start').length >= 6,
      { timeout: 30_000, detail: logs },
    );
    // Everything lives on three nodes: the log, the work queues (the queue's own, made by an engine as it handed out the first attempt), the definitions.
    for (const name of [
      'LF_EVENTS',
      taskStream('default').name,
      STREAMS.inputs.name,
      'KV_LF_DEFINITIONS',
      'KV_LF_ATTEMPTS',
    ]) {
      expect((await jsm.streams.info(name)).config.num_replicas, name).toBe(3);
    }
    const leader = (await jsm.streams.info('LF_EVENTS')).cluster!.leader!;
    const victim = cluster.natsCluster!.nodes.find((n) => n.name === leader)!;
    await victim.stop();

    const views = await Promise.all(runIds.map((id) => runReads(client.store).wait(id, { timeoutMs: 60_000 })));
    expect(
      views.map((v) => `${v.runId} ${v.status}`),
      logs(),
    ).toEqual(runIds.map((id) => `${id} COMPLETED`));
    for (const runId of runIds) {
      const events = await client.store.read(runId);
      expect(historyProblems(events), logs()).toEqual([]);
      for (const task of CHAOS_TASKS)
        expect(views.find((v) => v.runId === runId)!.tasks[task]!.status).toBe('COMPLETED');
    }
    // No process was killed: every attempt ran exactly once, and each task needed one attempt.
    const ms = readMarkers(markers);
    expect(duplicateExecutions(ms), logs()).toEqual([]);
    expect(new Set(ms.filter((m) => m.what === 'start').map((m) => m.key)).size).toBe(
      runIds.length * CHAOS_TASKS.length,
    );
    expect((await jsm.streams.info('LF_EVENTS')).cluster!.leader).not.toBe(leader);

    // Back up, the node catches up: doctor finds every replica current again.
    await victim.restart();
    const current = await waitFor(
      'doctor to find every replica current',
      async () => {
        const r = await cli(['--nats', cluster.url, 'doctor', '--json'], { cwd: dir, env: R3 });
        return r.code === 0 && r;
      },
      { timeout: 30_000 },
    );
    const report = JSON.parse(current.stdout);
    const log = report.streams.find((s: { name: string }) => s.name === 'LF_EVENTS');
    expect(log.peers.map((p: { name: string; current: boolean }) => p.current)).toEqual([true, true]);
  }, 90_000);
});
