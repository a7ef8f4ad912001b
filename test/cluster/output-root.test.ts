/** On a worker, output_to is confined to the worker's output root as it is in-process. */
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { def } from '../helpers/engine.js';
import { tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const reports = def(`
workflow:
  id: cluster-reports
  name: Reports
  version: 1
  input: { required: [name] }
  tasks:
    - id: report
      type: SIMPLE
      output_to: "reports/\${workflow.input.name}.yaml"
`);

describe.skipIf(noNats)('output_to on a worker over NATS', () => {
  const scratch = tempDir('lf-out-nats-');
  const root = join(scratch, 'a', 'b', 'root');
  mkdirSync(root, { recursive: true });
  // The restricted `worker` NATS user of nats.conf, as a remote worker connects.
  const c = useCluster({
    engines: 1,
    handlers: { report: async () => ({ total: 42 }) },
    worker: { outputRoot: root },
    deploy: [reports],
  });

  it("writes a relative path under the worker's output root", async () => {
    const { runId } = await c.client.start('cluster-reports', { name: 'march' });
    const done = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('COMPLETED');
    expect(readFileSync(join(root, 'reports', 'march.yaml'), 'utf8')).toBe('total: 42\n');
  });

  it('fails the task when ../ in an input leads out of the root, and writes nothing there', async () => {
    const { runId } = await c.client.start('cluster-reports', { name: '../../../x' });
    const done = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('FAILED');
    expect(done.tasks.report!.error).toMatchObject({ code: 'LF_OUTPUT_OUTSIDE_ROOT', retryable: false });
    const failed = (await c.client.store.read(runId)).find((e) => e.type === 'task.failed');
    expect(failed?.data).toMatchObject({ error: { code: 'LF_OUTPUT_OUTSIDE_ROOT' } });
    expect(existsSync(join(scratch, 'a', 'x.yaml'))).toBe(false);
  });

  it('fails the task, not retried, when the path turns out to be a directory (a raw EISDIR before)', async () => {
    mkdirSync(join(root, 'reports', 'april.yaml'), { recursive: true });
    const { runId } = await c.client.start('cluster-reports', { name: 'april' });
    const done = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('FAILED');
    expect(done.tasks.report).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: { code: 'LF_OUTPUT_TO_DIRECTORY', retryable: false },
    });
    expect(done.tasks.report!.error!.message).toBe(
      `output_to "reports/april.yaml" resolves to ${realpathSync(join(root, 'reports', 'april.yaml'))}, a directory, not a file the output can be written to; name a file (e.g. out/<task>.yaml)`,
    );
  });
});
