/**
 * `ledgerflow doctor` against a real nats-server, and the settings reaching
 * every bucket ledgerflow creates (the definitions bucket used to be made
 * with the defaults whatever the settings said).
 */
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cli, ROOT } from '../helpers/cli.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';

const skipReason = inject('natsSkipReason');
const APPROVAL = `${ROOT}/test/fixtures/approval.yaml`;

describe.skipIf(!!skipReason)('ledgerflow doctor', () => {
  let server: NatsServer;
  beforeAll(async () => { server = await startNatsServer(); }, 30_000);
  afterAll(async () => { await server?.dispose(); });

  it('lists each stream and bucket with replicas and leader, says what is not created yet, and warns where replicas differ from the setting', async () => {
    // Memory storage from the settings: it must reach the definitions bucket as it reaches the streams.
    const env = { LEDGERFLOW_NATS_STORAGE: 'memory' };
    expect((await cli(['--nats', server.url, 'deploy', APPROVAL], { env })).code).toBe(0);

    const ok = await cli(['--nats', server.url, 'doctor', '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ expectedReplicas: 1, warnings: [] });
    const names = report.streams.map((s: { name: string }) => s.name);
    expect(names).toEqual(expect.arrayContaining(['LF_INPUTS', 'LF_TASKS', 'LF_TIMERS', 'LF_APPROVALS', 'LF_TRIGGERS', 'LF_DLQ', 'KV_LF_DEFINITIONS', 'KV_LF_ATTEMPTS']));
    // A standalone server (no cluster) names no leader.
    for (const s of report.streams) expect(s).toMatchObject({ replicas: 1, peers: [] });
    // No engine has run: its secret's bucket, the snapshots, the schedule cursors and the run index are made on first use.
    expect(report.missing).toEqual(expect.arrayContaining(['KV_LF_ENGINE', 'KV_LF_SNAPSHOTS', 'KV_LF_SCHEDULES', 'KV_LF_RUNS_INDEX']));

    const nc = await connect({ servers: server.url });
    try {
      const jsm = await nc.jetstreamManager();
      expect((await jsm.streams.info('KV_LF_DEFINITIONS')).config.storage).toBe('memory');
      expect((await jsm.streams.info('LF_INPUTS')).config.storage).toBe('memory');
    } finally {
      await nc.close();
    }

    // With a replica setting the streams do not have, every one of them is named, and the exit code says so.
    const off = await cli(['--nats', server.url, 'doctor'], { env: { LEDGERFLOW_NATS_REPLICAS: '3' } });
    expect(off.code).toBe(1);
    expect(off.stderr).toMatch(/warning: KV_LF_DEFINITIONS has 1 replica, but the setting \(LEDGERFLOW_NATS_REPLICAS\) is 3/);
    expect(off.stderr).toMatch(/warning: LF_INPUTS has 1 replica/);
    expect(off.stdout).toMatch(/LF_INPUTS\s+stream\s+R1\s+leader \S+/);
  }, 60_000);
});
