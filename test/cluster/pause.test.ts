/**
 * Pause and resume over NATS: run control on lf.control.<user>.<runId>, which
 * nats.conf lets the people users publish under their own name and workers
 * not at all; any engine takes it, records the user as `by` or refuses it with
 * a verdict (nothing recorded); nothing starts while paused. Real nats-server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { PauseRefusedError } from '../../src/errors/index.js';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, testCluster, useCluster } from '../helpers/cluster.js';
import { gate, waitFor } from '../helpers/wait.js';
import { deadLetters } from '../helpers/dead-letters.js';

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
  const calls: string[] = [];
  const held = gate();
  const c = useCluster({
    engines: 2,
    handlers: {
      first: async () => { calls.push('first'); await held.opened; return { ok: true }; },
      left: async () => { calls.push('left'); return {}; },
      right: async () => { calls.push('right'); return {}; },
    },
  });
  // A held handler must not hold up the fixture's stop.
  afterAll(() => held.open());

  it('commander pauses an engine-owned run (recorded as by commander): the running attempt is recorded, nothing new starts; refusals come back as verdicts; resume completes it', async () => {
    await c.client.deploy(pausable);
    const { runId } = await c.client.start('cluster-pausable', {});
    await waitFor('the first attempt to run on the worker', () => calls.includes('first'));

    const paused = await c.clientAs('commander').pause(runId, { reason: 'maintenance' });
    expect(paused).toMatchObject({ recorded: true, status: 'PAUSED' });
    // Paused already: the engine refuses it (a verdict, not a timeout), records nothing.
    const before = (await c.client.store.read(runId)).length;
    await expect(c.clientAs('commander').pause(runId, { waitMs: 20_000 })).rejects.toThrow(PauseRefusedError);
    await expect(c.clientAs('commander').pause(runId, { waitMs: 20_000 })).rejects.toThrow(/already paused; nothing was recorded/);

    held.open();
    // The completion and any start it leads to are one commit: once it is in the log, nothing else was started.
    const events = await waitFor('first to be recorded as completed', async () => {
      const evs = await c.client.store.read(runId);
      return evs.some((e) => e.type === 'task.completed' && e.data.task === 'first') ? evs : null;
    });
    expect(events).toHaveLength(before + 1);
    expect(events.filter((e) => e.type === 'task.started').map((e) => e.data.task)).toEqual(['first']);
    expect(events.at(-1)!.state.status).toBe('PAUSED');
    const view = await c.client.status(runId);
    expect(view!.tasks.left!.status).toBe('SCHEDULED');

    const resumed = await c.clientAs('commander').resume(runId);
    expect(resumed).toMatchObject({ changed: true, recorded: true });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(calls.sort()).toEqual(['first', 'left', 'right']);
    expect(await c.clientAs('commander').resume(runId, { waitMs: 20_000 })).toMatchObject({ changed: false, status: 'COMPLETED', reason: expect.stringMatching(/already COMPLETED/) });
    const settled = (await c.client.store.read(runId)).length;
    await expect(c.clientAs('commander').pause(runId, { waitMs: 20_000 })).rejects.toThrow(/cannot pause run \S+: the run is already COMPLETED; nothing was recorded/);
    expect(await c.client.store.read(runId)).toHaveLength(settled);

    const log = await c.client.store.read(runId);
    expect(log.find((e) => e.type === 'run.paused')!.data).toEqual({ by: 'commander', reason: 'maintenance' });
    expect(log.find((e) => e.type === 'run.resumed')!.data).toEqual({ by: 'commander' });
    const types = log.map((e) => (e.type === 'task.started' ? `started ${e.data.task}` : e.type));
    const at = types.indexOf('run.resumed');
    expect(types.slice(at, at + 3)).toEqual(['run.resumed', 'started left', 'started right']);
    expect(replayRun(log).divergence).toBeNull();
  }, 60_000);

  it('a worker cannot pause: the server refuses lf.control to it, and a pause on lf.inputs (where it may publish) is dead-lettered, nothing recorded', async () => {
    await c.client.deploy(pausable);
    const { runId } = await c.client.start('cluster-pausable', {});
    await expect(c.clientAs('worker').pause(runId, { waitMs: 2000 })).rejects.toThrow(/NATS user worker may not pause runs.*[Pp]ermission/s);
    // What the old client sent, and every worker may publish: a pause input. Refused, with the reason.
    const nc = await c.connect('worker');
    await nc.jetstream().publish(`lf.inputs.worker.default.${runId}`, new TextEncoder().encode(JSON.stringify({ type: 'pause', runId, reason: 'hostile' })));
    const jsm = await (await c.client.store.connection()).jetstreamManager();
    const letter = await waitFor('the pause input in lf.dlq.inputs', async () => (await deadLetters(jsm, 'inputs')).find((l) => l.runId === runId) ?? null);
    expect(letter).toMatchObject({ by: 'worker', reason: expect.stringMatching(/^malformed input on lf\.inputs\.worker\.default\.\S+: pause is not an input: a run is paused or resumed on lf\.control\.<sender>\.<runId>.*nothing was recorded$/) });
    const log = await c.client.store.read(runId);
    expect(log.some((e) => e.type === 'run.paused')).toBe(false);
    expect(log.at(-1)!.state.status).not.toBe('PAUSED');
  }, 60_000);

  it('dead-letters malformed run control (an unknown action, a `by` in the body, a reason over 2000 characters) and records nothing', async () => {
    await c.client.deploy(pausable);
    const { runId } = await c.client.start('cluster-pausable', {});
    const nc = await c.connect('commander');
    for (const body of [{ action: 'restart' }, { action: 'pause', by: 'cfo' }, { action: 'pause', reason: 'x'.repeat(2001) }]) {
      await nc.jetstream().publish(`lf.control.commander.${runId}`, new TextEncoder().encode(JSON.stringify(body)));
    }
    const jsm = await (await c.client.store.connection()).jetstreamManager();
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
    expect(await client.pause(runId, { as: 'ops', reason: 'night' })).toMatchObject({ recorded: true, status: 'PAUSED' });
    expect(await client.resume(runId, { as: 'ops' })).toMatchObject({ changed: true, recorded: true });
    const log = await client.store.read(runId);
    expect(log.find((ev) => ev.type === 'run.paused')!.data).toEqual({ by: 'ops', reason: 'night', unauthenticated: true });
    expect(log.find((ev) => ev.type === 'run.resumed')!.data).toEqual({ by: 'ops', unauthenticated: true });
    expect(await client.cancel(runId, { as: 'ops', reason: 'done with it' })).toMatchObject({ recorded: true, status: 'CANCELLED' });
    expect((await client.store.read(runId)).find((ev) => ev.type === 'run.cancelled')!.data).toEqual({ by: 'ops', reason: 'done with it', unauthenticated: true });
  }, 60_000);
});
