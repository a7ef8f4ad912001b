/**
 * DO_WHILE on NATS: an engine and a remote worker (the restricted `worker`
 * user) run a loop to completion, with a retry over a durable timer inside
 * one iteration; each iteration's attempts are keyed by their instance.
 */
import { describe, expect, it } from 'vitest';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const poll = def(`
workflow:
  id: cluster-poll
  name: Poll until ready over NATS
  version: 1
  tasks:
    - { id: submit, type: SIMPLE }
    - { id: wait_ready, type: DO_WHILE, depends_on: [submit], loop_over: [probe], loop_condition: "probe.output.round < 3", max_iterations: 5 }
    - { id: probe, type: SIMPLE, input: { round: "\${wait_ready.output.iteration}" }, retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 200ms } }
    - { id: publish, type: SIMPLE, depends_on: [probe], input: { rounds: "\${wait_ready.output.iteration}" } }
`);

// What waits for the loop itself reads its body's last iteration, in a task's input, a DECISION and the run's output.
const pollThen = def(`
workflow:
  id: cluster-poll-then
  name: Poll, then read the last iteration after the loop
  version: 1
  output: { last: "\${probe.output.round}" }
  tasks:
    - { id: wait_ready, type: DO_WHILE, loop_over: [probe], loop_condition: "probe.output.round < 3", max_iterations: 5 }
    - { id: probe, type: SIMPLE, handler: round, input: { round: "\${wait_ready.output.iteration}" } }
    - { id: publish, type: SIMPLE, depends_on: [wait_ready], input: { last: "\${probe.output.round}" } }
    - { id: route, type: DECISION, depends_on: [wait_ready], decision_cases: { third: { condition: "probe.output.round == 3", next: [announce] } } }
    - { id: announce, type: SIMPLE, handler: publish, input: { last: "\${probe.output.round}" } }
`);

describe.skipIf(noNats)('DO_WHILE over NATS', () => {
  const calls: string[] = [];
  const c = useCluster({
    engines: 1,
    handlers: {
      submit: async () => ({}),
      probe: async (i: Record<string, unknown>, ctx) => {
        calls.push(`${ctx.idempotencyKey} iteration ${ctx.iteration}`);
        if (ctx.iteration === 2 && ctx.attempt === 1) throw new Error('not yet reachable');
        return { round: Number(i.round) };
      },
      round: async (i: Record<string, unknown>) => ({ round: Number(i.round) }),
      publish: async (i: Record<string, unknown>) => ('last' in i ? { last: i.last } : { rounds: i.rounds }),
    },
  });

  it('runs the body once per iteration on a remote worker, retrying inside the iteration, and completes', async () => {
    await c.client.deploy(poll);
    const { runId } = await c.client.start('cluster-poll', {});
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(calls).toEqual([
      `${runId}/probe#1/1 iteration 1`, `${runId}/probe#2/1 iteration 2`, `${runId}/probe#2/2 iteration 2`, `${runId}/probe#3/1 iteration 3`,
    ]);
    expect(done.tasks.wait_ready).toMatchObject({ status: 'COMPLETED', output: { iteration: 3, iterations: [{ probe: { round: 1 } }, { probe: { round: 2 } }, { probe: { round: 3 } }] } });
    expect(done.tasks.publish!.output).toEqual({ rounds: 3 });
    const events = await c.client.store.read(runId);
    expect(events.filter((e) => e.type === 'timer.fired').map((e) => e.data)).toEqual([{ task: 'probe', timer: 'backoff', attempt: 1, iteration: 2 }]);
    expect(replayRun(events).divergence).toBeNull();
  }, 40_000);

  it('a task and a DECISION that depend on the loop, and the run output, read its body\'s last iteration', async () => {
    await c.client.deploy(pollThen);
    const { runId } = await c.client.start('cluster-poll-then', {});
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish!.output).toEqual({ last: 3 });
    expect(done.tasks.route!.output).toMatchObject({ case: 'third' });
    expect(done.tasks.announce!.output).toEqual({ last: 3 });
    expect(done.output).toEqual({ last: 3 });
  }, 40_000);
});
