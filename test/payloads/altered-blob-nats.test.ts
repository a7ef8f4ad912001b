/**
 * A large payload's body changed where NATS keeps it (docs/language.md "Large payloads": the Object Store bucket
 * LF_BLOBS, one object named by the digest's hex): another body put under the same name, one byte flipped and the
 * size kept. The page's export, with a WAIT after it: the later task that is handed the whole value is run by a
 * worker, which reads it back from the bucket: the attempt fails with LF_BLOB_ALTERED (naming the task, the object
 * and the fix) and the handler never sees the changed body; `replay` and `blob get` over NATS report it too. Real
 * nats-server, the production user permissions of a worker. The embedded store's: altered-blob.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';
import { BLOB_BUCKET, ObjectBlobStore } from '../../src/store/index.js';
import { alterExport } from './altered-export.js';

const flow = def(`
workflow:
  id: altered_export_nats
  version: 1
  input:
    required: [nonce]
  payloads:
    inline_limit: 64KiB
  tasks:
    - id: export_rows
      type: SIMPLE
      handler: exportRows
      input: { nonce: "\${workflow.input.nonce}" }
    - id: ready
      type: WAIT
      depends_on: [export_rows]
      event: release
    - id: publish
      type: SIMPLE
      handler: publish
      depends_on: [ready]
      input: { report: "\${export_rows.output}" }
`);

describe.skipIf(noNats)('a large payload changed in the LF_BLOBS bucket', () => {
  const published: unknown[] = [];
  const c = useCluster({
    engines: 1,
    deploy: [flow],
    handlers: {
      // The page's handlers (about 5 MB of rows and a summary), the run's nonce making the body this test's own.
      exportRows: async (input) => {
        const rows = Array.from({ length: 50_000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
        return { summary: { status: 'complete', rows: rows.length, nonce: input.nonce }, rows };
      },
      publish: async (input) => {
        const report = input.report as { summary: { status: string }; rows: unknown[] };
        published.push(report.summary);
        return { status: report.summary.status, received: report.rows.length };
      },
    },
  });

  it('the worker handed it fails the attempt with LF_BLOB_ALTERED; replay and blob get report it', async () => {
    const run = await c.client.start('altered_export_nats', { nonce: randomUUID() });
    const waiting = await waitFor(
      'the run to wait for its signal',
      async () => {
        const s = await c.runs.status(run.runId);
        return s?.tasks.ready?.status === 'WAITING' && s;
      },
      { timeout: 60_000 },
    );
    // Another body under the same object name: the stored one with one byte of the summary's status flipped.
    const { digest, hex, size } = await alterExport(c, waiting.tasks.export_rows!.output);

    await c.client.signal(run.runId, 'release');
    const settled = await waitFor(
      'the run to settle',
      async () => {
        const s = await c.runs.status(run.runId);
        return (s?.status === 'FAILED' || s?.status === 'COMPLETED') && s;
      },
      { timeout: 60_000 },
    );
    expect(published).toEqual([]);
    expect(settled.status).toBe('FAILED');
    const failed = (await c.client.store.read(run.runId)).find(
      (e) => e.type === 'task.failed' && e.data.task === 'publish',
    );
    const error = (failed?.data as { error: { code?: string; message: string } } | undefined)?.error;
    expect(error?.code).toBe('LF_BLOB_ALTERED');
    expect(error?.message).toContain(`the payload ${digest} that the input of task publish`);
    expect(error?.message).toContain(`its bytes in the object ${hex} of the bucket ${BLOB_BUCKET} hash to sha256:`);
    expect(error?.message).toContain(`nats object put ${BLOB_BUCKET} <file> --name ${hex}`);

    // The store's own streamed read: it fails before its last chunk, so no reader holds the whole changed body.
    let got = 0;
    const read = async () => {
      for await (const chunk of (await new ObjectBlobStore(() => c.admin()).open(digest))!) got += chunk.byteLength;
    };
    await expect(read()).rejects.toMatchObject({ code: 'LF_BLOB_ALTERED', meta: { digest } });
    expect(got).toBeLessThan(size);

    const dir = tempDir('lf-altered-nats-');
    const lf = (...args: string[]) => cli(['--nats', c.url, ...args], { cwd: dir });
    const replayed = await lf('replay', run.runId);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(1);
    expect(replayed.stdout).toMatch(
      new RegExp(`✗ LF_BLOB_ALTERED: the payload ${digest} that event \\d+ \\(task\\.completed\\) of run ${run.runId}`),
    );
    const printed = await lf('blob', 'get', digest);
    expect([printed.code, printed.stdout], printed.stderr).toEqual([1, '']);
    expect(printed.stderr).toContain(`the payload ${digest} was changed after it was written`);
  }, 120_000);
});
