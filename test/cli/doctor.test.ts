/**
 * `ledgerflow doctor` against a real nats-server, and the settings reaching
 * every bucket ledgerflow creates (the definitions bucket used to be made
 * with the defaults whatever the settings said).
 */
import { RetentionPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureWorkerConsumer } from '../../src/cluster/transport/setup.js';
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const APPROVAL = `${ROOT}/test/fixtures/approval.yaml`;

describe.skipIf(noNats)('ledgerflow doctor', () => {
  const c = useCluster();

  it('lists each stream and bucket with replicas and leader, says what is not created yet, and warns where replicas differ from the setting', async () => {
    // Memory storage from the settings: it must reach the definitions bucket as it reaches the streams.
    const env = { LEDGERFLOW_NATS_STORAGE: 'memory' };
    expect((await cli(['--nats', c.url, 'deploy', APPROVAL], { env })).code).toBe(0);

    const ok = await cli(['--nats', c.url, 'doctor', '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ expectedReplicas: 1, warnings: [] });
    const names = report.streams.map((s: { name: string }) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'LF_INPUTS',
        'LF_TIMERS',
        'LF_APPROVALS',
        'LF_TRIGGERS',
        'LF_DLQ',
        'KV_LF_DEFINITIONS',
        'KV_LF_ATTEMPTS',
      ]),
    );
    // No engine has handed out an attempt: no queue's stream yet, and no single LF_TASKS (older versions') either.
    expect(names.filter((n: string) => n.startsWith('LF_TASKS'))).toEqual([]);
    // A standalone server (no cluster) names no leader.
    for (const s of report.streams) expect(s).toMatchObject({ replicas: 1, peers: [] });
    // No engine has run: its secret's bucket, the snapshots, the schedule cursors and the run index are made on first use.
    expect(report.missing).toEqual(
      expect.arrayContaining(['KV_LF_ENGINE', 'KV_LF_SNAPSHOTS', 'KV_LF_SCHEDULES', 'KV_LF_RUNS_INDEX']),
    );
    // Nothing gated and no workflow with concurrency started: the gates' bucket and log and the admission lock come on first use.
    expect(report.missing).toEqual(
      expect.arrayContaining(['KV_LF_ADMISSION', 'KV_LF_TRIGGER_GATES', 'LF_TRIGGER_LOG', 'KV_LF_TASK_GATES']),
    );

    const nc = await c.connect();
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info('KV_LF_DEFINITIONS')).config.storage).toBe('memory');
      expect((await jsm.streams.info('LF_INPUTS')).config.storage).toBe('memory');
    } finally {
      await nc.close();
    }

    // With a replica setting the streams do not have, every one of them is named, and the exit code says so.
    const off = await cli(['--nats', c.url, 'doctor'], { env: { LEDGERFLOW_NATS_REPLICAS: '3' } });
    expect(off.code).toBe(1);
    expect(off.stderr).toMatch(
      /warning: KV_LF_DEFINITIONS has 1 replica, but the setting \(LEDGERFLOW_NATS_REPLICAS\) is 3/,
    );
    expect(off.stderr).toMatch(/warning: LF_INPUTS has 1 replica/);
    expect(off.stdout).toMatch(/LF_INPUTS\s+stream\s+R1\s+leader \S+/);
  }, 60_000);

  it("lists the admission lock and the trigger gates' bucket and log once made: by a start of a workflow with concurrency and by `ledgerflow triggers`", async () => {
    const dir = tempDir('lf-doctor-');
    const file = join(dir, 'limited.yaml');
    writeFileSync(
      file,
      'workflow:\n  id: doctor-limited\n  version: 1\n  concurrency: { limit: 1 }\n  tasks:\n    - { id: sign, type: HUMAN, approvers: [alice] }\n',
    );
    const dep = await cli(['--nats', c.url, 'deploy', file]);
    expect(dep.code, dep.stderr).toBe(0);
    const started = await cli(['--nats', c.url, 'start', 'doctor-limited']);
    expect(started.code, started.stderr).toBe(0);
    const listed = await cli(['--nats', c.url, 'triggers', '--json']);
    expect(listed.code, listed.stderr).toBe(0);

    const r = await cli(['--nats', c.url, 'doctor', '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.streams.map((s: { name: string }) => s.name)).toEqual(
      expect.arrayContaining(['KV_LF_ADMISSION', 'KV_LF_TRIGGER_GATES', 'LF_TRIGGER_LOG']),
    );
    expect(report.missing).not.toEqual(expect.arrayContaining(['KV_LF_ADMISSION']));
    const text = (await cli(['--nats', c.url, 'doctor'])).stdout;
    for (const line of [/LF_TRIGGER_LOG\s+stream\s+R1/, /KV_LF_ADMISSION\s+kv\s+R1/, /KV_LF_TRIGGER_GATES\s+kv\s+R1/])
      expect(text).toMatch(line);
  }, 60_000);

  it("checks each queue's stream LF_TASKS_<queue> it finds, warns while the single LF_TASKS of older versions holds attempts, and says to delete it once empty", async () => {
    const nc = await c.connect();
    try {
      const jsm = await jetstreamManager(nc);
      // As an engine makes it when it first hands out an attempt on queue `default`.
      await ensureWorkerConsumer(jsm, 'default', 'first');
      // As an older version left it: one attempt still in it.
      await jsm.streams.add({ name: 'LF_TASKS', subjects: ['lf.tasks.>'], retention: RetentionPolicy.Workqueue });
      const { seq } = await jetstream(nc).publish('lf.tasks.default.first', new TextEncoder().encode('{}'));

      const held = await cli(['--nats', c.url, 'doctor']);
      expect(held.code).toBe(1);
      expect(held.stdout).toMatch(/LF_TASKS_default\s+stream\s+R1/);
      expect(held.stderr).toMatch(
        /warning: LF_TASKS holds 1 message: task attempts from before each queue had its own stream/,
      );
      // A queue's stream is checked against the replica setting like every other.
      expect((await cli(['--nats', c.url, 'doctor'], { env: { LEDGERFLOW_NATS_REPLICAS: '3' } })).stderr).toMatch(
        /warning: LF_TASKS_default has 1 replica/,
      );

      await jsm.streams.deleteMessage('LF_TASKS', seq);
      const empty = await cli(['--nats', c.url, 'doctor']);
      expect(empty.stderr).toBe('');
      expect(empty.code).toBe(0);
      expect(empty.stdout).toMatch(
        /note: LF_TASKS is left from before each queue had its own stream \(LF_TASKS_<queue>\) and is empty: .*delete it \(nats stream rm LF_TASKS\)/,
      );
      await jsm.streams.delete('LF_TASKS');
    } finally {
      await nc.close();
    }
  }, 60_000);
});
