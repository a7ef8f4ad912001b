/**
 * WAIT on NATS: a signal published through the client as a NATS user (on
 * lf.signals.<user>.<runId>) completes a WAIT on that event, recorded with the
 * user as `by`; a user nats.conf gives no signal permission is refused by the
 * server; a signal no WAIT takes is refused and not recorded; a duration wait
 * fires through the engines' durable timers. Real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { SignalRefusedError } from '../../src/errors/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const gate = def(`
workflow:
  id: cluster-signal-gate
  name: Signal gate
  version: 1
  tasks:
    - { id: pause, type: WAIT, duration: 200ms }
    - { id: gate, type: WAIT, depends_on: [pause], event: release }
`);

describe.skipIf(noNats)('WAIT over NATS', () => {
  const c = useCluster({ engines: 1 });

  it('a signal published through the client completes the WAIT (sent early: kept); refusals record nothing', async () => {
    await c.client.deploy(gate);
    const { runId } = await c.client.start('cluster-signal-gate', {});
    const alice = c.clientAs('alice');
    const worker = c.clientAs('worker');
    // The worker user may not publish signals: the server refuses the subject, nothing reaches an engine.
    await expect(worker.signal(runId, 'release', { data: { from: 'worker' }, waitMs: 2000 })).rejects.toThrow(/may not send signals.*[Pp]ermission/s);
    // No WAIT of the run waits for "other": the engine refuses it, and records nothing.
    await expect(alice.signal(runId, 'other', { waitMs: 10_000 })).rejects.toThrow(SignalRefusedError);
    // Sent while `gate` is still pending behind the duration wait: kept, and taken when it is reached.
    const verdict = await alice.signal(runId, 'release', { data: { ok: true }, waitMs: 10_000 });
    expect(verdict).toMatchObject({ name: 'release', accepted: true });
    const done = await c.client.wait(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.gate).toMatchObject({ status: 'COMPLETED', output: { ok: true } });
    const events = await c.client.store.read(runId);
    expect(events.filter((e) => e.type === 'signal.received').map((e) => e.data)).toEqual([{ name: 'release', data: { ok: true }, by: 'alice' }]);
    expect(events.filter((e) => e.type === 'timer.fired').map((e) => e.data)).toEqual([{ task: 'pause', timer: 'wait', attempt: 1 }]);
    expect(replayRun(events).divergence).toBeNull();
    // Too late: the run has settled.
    await expect(alice.signal(runId, 'release', { waitMs: 10_000 })).rejects.toThrow(/already COMPLETED/);
    expect(await c.client.store.read(runId)).toHaveLength(events.length);
  }, 60_000);

  it('dead-letters a malformed signal (no name, data over 64 KB) with the reason; the client refuses oversized data before publishing', async () => {
    await c.client.deploy(gate);
    const { runId } = await c.client.start('cluster-signal-gate', {});
    await expect(c.clientAs('alice').signal(runId, 'release', { data: 'x'.repeat(70 * 1024) })).rejects.toThrow(/at most 65536/);
    const nc = await c.connect('alice');
    await nc.jetstream().publish(`lf.signals.alice.${runId}`, new TextEncoder().encode(JSON.stringify({ data: 1 })));
    const jsm = await (await c.client.store.connection()).jetstreamManager();
    const letters = await waitFor('the malformed signal in lf.dlq.signals', async () => {
      const all = await deadLetters(jsm, 'signals');
      return all.length > 0 ? all : null;
    });
    expect(letters[0]).toMatchObject({ reason: expect.stringMatching(new RegExp(`malformed signal on lf\\.signals\\.alice\\.${runId}: name: `)) });
    expect((await c.client.store.read(runId)).some((e) => e.type === 'signal.received')).toBe(false);
  }, 60_000);
});
