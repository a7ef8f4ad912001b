/**
 * Pause and resume over NATS, what only NATS has: run control on
 * lf.control.<user>.<runId>, which nats.conf lets the people users publish
 * under their own name and workers not at all; malformed control is
 * dead-lettered; on a server without users `--as` names the sender. What a
 * pause does to a run (the running attempt recorded, nothing new started,
 * refusals, resume) is the executor contract's (test/executor/contract.ts),
 * on both executors. Real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { noNats, testCluster, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const pausable = def(`
workflow:
  id: cluster-pausable
  name: Pausable over NATS
  version: 1
  tasks:
    - { id: first, type: SIMPLE }
    - { id: left, type: SIMPLE, depends_on: [first] }
    - { id: right, type: SIMPLE, depends_on: [first] }
`);

describe.skipIf(noNats)('pause and resume over NATS', () => {
  // No worker: `first` stays queued, the run active.
  const c = useCluster({ engines: 2 });

  it('a worker cannot pause: the server refuses lf.control to it, and a pause on lf.inputs (where it may publish) is dead-lettered, nothing recorded', async () => {
    await c.client.deploy(pausable);
    const { runId } = await c.client.start('cluster-pausable', {});
    await expect(c.clientAs('worker').pause(runId, { waitMs: 2000 })).rejects.toThrow(
      /NATS user worker may not pause runs.*[Pp]ermission/s,
    );
    // What the old client sent, and every worker may publish: a pause input. Refused, with the reason.
    const nc = await c.connect('worker');
    await jetstream(nc).publish(
      `lf.inputs.worker.default.${runId}`,
      new TextEncoder().encode(JSON.stringify({ type: 'pause', runId, reason: 'hostile' })),
    );
    const jsm = await jetstreamManager(await c.client.store.connection());
    const letter = await waitFor(
      'the pause input in lf.dlq.inputs',
      async () => (await deadLetters(jsm, 'inputs')).find((l) => l.runId === runId) ?? null,
    );
    expect(letter).toMatchObject({
      by: 'worker',
      reason: expect.stringMatching(
        /^malformed input on lf\.inputs\.worker\.default\.\S+: pause is not an input: a run is paused or resumed on lf\.control\.<sender>\.<runId>.*nothing was recorded$/,
      ),
    });
    const log = await c.client.store.read(runId);
    expect(log.some((e) => e.type === 'run.paused')).toBe(false);
    expect(log.at(-1)!.state.status).not.toBe('PAUSED');
  }, 60_000);

  it('dead-letters malformed run control (an unknown action, a `by` in the body, a reason over 2000 characters) and records nothing', async () => {
    await c.client.deploy(pausable);
    const { runId } = await c.client.start('cluster-pausable', {});
    const nc = await c.connect('commander');
    for (const body of [
      { action: 'restart' },
      { action: 'pause', by: 'cfo' },
      { action: 'pause', reason: 'x'.repeat(2001) },
    ]) {
      await jetstream(nc).publish(`lf.control.commander.${runId}`, new TextEncoder().encode(JSON.stringify(body)));
    }
    const jsm = await jetstreamManager(await c.client.store.connection());
    const letters = await waitFor('three dead letters in lf.dlq.control', async () => {
      const all = (await deadLetters(jsm, 'control')).filter((l) => String(l.reason).includes(runId));
      return all.length === 3 ? all : null;
    });
    const reasons = letters.map((l) => String(l.reason));
    expect(reasons.every((r) => r.startsWith(`malformed run control on lf.control.commander.${runId}: `))).toBe(true);
    // Engines take them concurrently: in any order.
    expect(reasons.filter((r) => /: action: /.test(r))).toHaveLength(1);
    expect(reasons.filter((r) => /"by"/.test(r))).toHaveLength(1);
    expect(reasons.filter((r) => /: reason: /.test(r))).toHaveLength(1);
    expect((await c.client.store.read(runId)).some((e) => e.type === 'run.paused')).toBe(false);
  }, 60_000);

  it('on a server without users, --as names who pauses, resumes and cancels: recorded as unauthenticated', async () => {
    const open = await testCluster({ users: false, engines: 1 });
    const client = open.client;
    await client.deploy(pausable);
    const { runId } = await client.start('cluster-pausable', {}); // no worker here: `first` stays queued
    expect(await client.pause(runId, { as: 'ops', reason: 'night' })).toMatchObject({
      recorded: true,
      status: 'PAUSED',
    });
    expect(await client.resume(runId, { as: 'ops' })).toMatchObject({ changed: true, recorded: true });
    const log = await client.store.read(runId);
    expect(log.find((ev) => ev.type === 'run.paused')!.data).toEqual({
      by: 'ops',
      reason: 'night',
      unauthenticated: true,
    });
    expect(log.find((ev) => ev.type === 'run.resumed')!.data).toEqual({ by: 'ops', unauthenticated: true });
    expect(await client.cancel(runId, { as: 'ops', reason: 'done with it' })).toMatchObject({
      recorded: true,
      status: 'CANCELLED',
    });
    expect((await client.store.read(runId)).find((ev) => ev.type === 'run.cancelled')!.data).toEqual({
      by: 'ops',
      reason: 'done with it',
      unauthenticated: true,
    });
  }, 60_000);
});
