/**
 * An output no report could carry (over half the server's max_payload) fails
 * the attempt at once with LF_OUTPUT_TOO_LARGE, not retried, on a worker
 * process (it used to leave the run RUNNING through redeliveries that ran the
 * handler again). A smaller output is reported as before. Real nats-server.
 */
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const flow = def(`
workflow:
  id: big-output
  version: 1
  input:
    required: [mb]
  tasks:
    - id: export
      type: SIMPLE
      handler: export
      input: { mb: "\${workflow.input.mb}" }
      retry_policy: { max_attempts: 3, initial_delay: 1s }
`);

describe.skipIf(noNats)('an output over what a report may carry', () => {
  let starts = 0;
  const c = useCluster({
    engines: 1,
    deploy: [flow],
    handlers: {
      export: async (input) => {
        starts++;
        return { data: 'x'.repeat(Number(input.mb) * 1024 * 1024) };
      },
    },
  });

  it('fails the attempt at once with LF_OUTPUT_TOO_LARGE, not retried; 1 MB goes through', async () => {
    const big = await c.client.start('big-output', { mb: 9 });
    const failed = await waitFor(
      'the run to fail',
      async () => {
        const s = await c.runs.status(big.runId);
        return s?.status === 'FAILED' && s;
      },
      { timeout: 30_000 },
    );
    expect(failed.tasks.export).toMatchObject({ status: 'FAILED', attempts: 1 });
    const events = await c.client.store.read(big.runId);
    const failure = events.find((e) => e.type === 'task.failed')!.data as {
      error: { code: string; retryable: boolean; message: string };
    };
    expect(failure.error).toMatchObject({ code: 'LF_OUTPUT_TOO_LARGE', retryable: false });
    expect(failure.error.message).toMatch(
      /^the output of task export is 9,437,1\d\d bytes as JSON, over the 4,194,304 an outcome may carry/,
    );
    expect(starts).toBe(1);

    const small = await c.client.start('big-output', { mb: 1 });
    await waitFor('the 1 MB run to complete', async () => (await c.runs.status(small.runId))?.status === 'COMPLETED', {
      timeout: 30_000,
    });
  }, 60_000);
});
