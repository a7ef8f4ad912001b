/**
 * A worker stopped (SIGTERM: Worker.stop) while an attempt it was offered
 * outlives the grace says what it left behind: the attempt, not "0
 * deliveries" (an offered attempt has no delivery to hand back; its engine
 * queues it once the worker stops saying it runs it).
 */
import { describe, expect, it } from 'vitest';
import { twoSteps } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { gate } from '../helpers/wait.js';

const two = twoSteps('stop-offered');

describe.skipIf(noNats)('a worker stopping with an offered attempt past the grace', () => {
  const c = useCluster({ engines: 1, deploy: [two] });

  it('logs the offered attempt it leaves to its engine, and no handed-back deliveries it did not have', async () => {
    const lines: string[] = [];
    const started = gate();
    const release = gate();
    const worker = await c.addWorker({
      directOffers: true,
      stopGraceMs: 200,
      log: (l) => lines.push(l),
      handlers: {
        first: async () => {
          started.open();
          await release.opened;
          return {};
        },
      },
    });
    const { runId } = await c.client.start('stop-offered', {});
    await started.opened;
    await c.stopWorker(worker);
    release.open();
    expect(lines.join('\n')).toMatch(
      /stopping: 1 offered attempt\(s\) not finished within the grace: their engine queues them/,
    );
    expect(lines.join('\n')).not.toMatch(/stopping: 0 attempt deliveries/);
    // The attempt was given back (task.released) and queued again at once: run to its end here, not left on the queue
    // for the next test's worker to pull beside its own (it then had two in hand, and said so).
    const after = await c.addWorker({ handlers: { first: async () => ({}), second: async () => ({}) } });
    expect((await c.runs.wait(runId, { timeoutMs: 20_000 })).status).toBe('COMPLETED');
    await c.stopWorker(after);
  }, 30_000);

  it('stop({ graceMs: 0 }) hands back at once what its default grace (10 s) would wait for, as docs/nats.md says', async () => {
    const lines: string[] = [];
    const started = gate();
    const release = gate();
    const worker = await c.addWorker({
      directOffers: true,
      log: (l) => lines.push(l),
      handlers: {
        first: async () => {
          started.open();
          await release.opened;
          return {};
        },
      },
    });
    await c.client.start('stop-offered', {});
    await started.opened;
    const began = Date.now();
    await c.stopWorker(worker, { graceMs: 0 });
    const took = Date.now() - began;
    release.open();
    // Nowhere near the worker's own 10 s grace: nothing was waited for.
    expect(took).toBeLessThan(5_000);
    expect(lines.join('\n')).toMatch(/stopping: 1 offered attempt\(s\) not finished within the grace/);
  }, 30_000);
});
