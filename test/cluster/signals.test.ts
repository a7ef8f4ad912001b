/**
 * WAIT on NATS: a signal published through the client as a NATS user (on
 * lf.signals.<user>.<runId>) completes a WAIT on that event, recorded with the
 * user as `by`; a user nats.conf gives no signal permission is refused by the
 * server; a signal no WAIT takes is refused and not recorded; a duration wait
 * fires through the engines' durable timers. Real nats-server.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClusterClient, ClusterEngine } from '../../src/cluster/index.js';
import { SignalRefusedError } from '../../src/errors/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';
import { connect } from 'nats';

const skipReason = inject('natsSkipReason');

const gate = def(`
workflow:
  id: cluster-signal-gate
  name: Signal gate
  version: 1
  tasks:
    - { id: pause, type: WAIT, duration: 200ms }
    - { id: gate, type: WAIT, depends_on: [pause], event: release }
`);

describe.skipIf(!!skipReason)('WAIT over NATS', () => {
  let server: NatsServer;
  let client: ClusterClient;
  let engine: ClusterEngine;
  const as = (user: string) => server.url.replace('nats://', `nats://${user}:${user}-dev-password@`);

  beforeAll(async () => {
    server = await startNatsServer();
    client = new ClusterClient(server.url);
    engine = new ClusterEngine({ nats: server.url });
    await engine.start();
  }, 30_000);
  afterAll(async () => {
    await engine?.stop();
    await client?.close();
    await server?.dispose();
  });

  it('a signal published through the client completes the WAIT (sent early: kept); refusals record nothing', async () => {
    await client.deploy(gate);
    const { runId } = await client.start('cluster-signal-gate', {});
    const alice = new ClusterClient(as('alice'));
    const worker = new ClusterClient(as('worker'));
    try {
      // The worker user may not publish signals: the server refuses the subject, nothing reaches an engine.
      await expect(worker.signal(runId, 'release', { data: { from: 'worker' }, waitMs: 2000 })).rejects.toThrow(/may not send signals.*[Pp]ermission/s);
      // No WAIT of the run waits for "other": the engine refuses it, and records nothing.
      await expect(alice.signal(runId, 'other', { waitMs: 10_000 })).rejects.toThrow(SignalRefusedError);
      // Sent while `gate` is still pending behind the duration wait: kept, and taken when it is reached.
      const verdict = await alice.signal(runId, 'release', { data: { ok: true }, waitMs: 10_000 });
      expect(verdict).toMatchObject({ name: 'release', accepted: true });
      const done = await client.wait(runId, { timeoutMs: 15_000 });
      expect(done.status).toBe('COMPLETED');
      expect(done.tasks.gate).toMatchObject({ status: 'COMPLETED', output: { ok: true } });
      const events = await client.store.read(runId);
      expect(events.filter((e) => e.type === 'signal.received').map((e) => e.data)).toEqual([{ name: 'release', data: { ok: true }, by: 'alice' }]);
      expect(events.filter((e) => e.type === 'timer.fired').map((e) => e.data)).toEqual([{ task: 'pause', timer: 'wait', attempt: 1 }]);
      expect(replayRun(events).divergence).toBeNull();
      // Too late: the run has settled.
      await expect(alice.signal(runId, 'release', { waitMs: 10_000 })).rejects.toThrow(/already COMPLETED/);
      expect(await client.store.read(runId)).toHaveLength(events.length);
    } finally {
      await alice.close();
      await worker.close();
    }
  }, 60_000);

  it('dead-letters a malformed signal (no name, data over 64 KB) with the reason; the client refuses oversized data before publishing', async () => {
    await client.deploy(gate);
    const { runId } = await client.start('cluster-signal-gate', {});
    const alice = new ClusterClient(as('alice'));
    await expect(alice.signal(runId, 'release', { data: 'x'.repeat(70 * 1024) })).rejects.toThrow(/at most 65536/);
    await alice.close();
    const nc = await connect({ servers: server.url.replace('nats://', ''), user: 'alice', pass: 'alice-dev-password', inboxPrefix: '_INBOX_alice' });
    try {
      await nc.jetstream().publish(`lf.signals.alice.${runId}`, new TextEncoder().encode(JSON.stringify({ data: 1 })));
    } finally {
      await nc.close();
    }
    const jsm = await (await client.store.connection()).jetstreamManager();
    const letters = await waitFor('the malformed signal in lf.dlq.signals', async () => {
      const all = await deadLetters(jsm, 'signals');
      return all.length > 0 ? all : null;
    });
    expect(letters[0]).toMatchObject({ reason: expect.stringMatching(new RegExp(`malformed signal on lf\\.signals\\.alice\\.${runId}: name: `)) });
    expect((await client.store.read(runId)).some((e) => e.type === 'signal.received')).toBe(false);
  }, 60_000);
});
