/**
 * Signals on NATS, what only NATS has: a user nats.conf gives no signal
 * permission is refused by the server, and a malformed signal is
 * dead-lettered. What a signal does to a WAIT (kept when early, recorded with
 * the user as `by`, refused when no WAIT takes it) is the executor contract's
 * (test/executor/contract.ts), on both executors. Real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

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

  it('the worker user may not publish signals: the server refuses the subject, nothing reaches an engine', async () => {
    await c.client.deploy(gate);
    const { runId } = await c.client.start('cluster-signal-gate', {});
    await expect(
      c.clientAs('worker').signal(runId, 'release', { data: { from: 'worker' }, waitMs: 2000 }),
    ).rejects.toThrow(/may not send signals.*[Pp]ermission/s);
    expect((await c.client.store.read(runId)).some((e) => e.type === 'signal.received')).toBe(false);
  }, 60_000);

  it('dead-letters a malformed signal (no name, data over 64 KB) with the reason; the client refuses oversized data before publishing', async () => {
    await c.client.deploy(gate);
    const { runId } = await c.client.start('cluster-signal-gate', {});
    await expect(c.clientAs('alice').signal(runId, 'release', { data: 'x'.repeat(70 * 1024) })).rejects.toThrow(
      /at most 65536/,
    );
    const nc = await c.connect('alice');
    await jetstream(nc).publish(`lf.signals.alice.${runId}`, new TextEncoder().encode(JSON.stringify({ data: 1 })));
    const jsm = await jetstreamManager(await c.client.store.connection());
    const letters = await waitFor('the malformed signal in lf.dlq.signals', async () => {
      const all = await deadLetters(jsm, 'signals');
      return all.length > 0 ? all : null;
    });
    expect(letters[0]).toMatchObject({
      reason: expect.stringMatching(new RegExp(`malformed signal on lf\\.signals\\.alice\\.${runId}: name: `)),
    });
    expect((await c.client.store.read(runId)).some((e) => e.type === 'signal.received')).toBe(false);
  }, 60_000);
});
