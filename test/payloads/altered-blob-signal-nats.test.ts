/**
 * A person's signal whose processing in the engine reads a large payload whose body was changed in LF_BLOBS: the
 * WAIT it ends is followed by a DECISION on a field of that payload (docs/language.md "Large payloads"), which the
 * engine folds as it records the signal. Retrying cannot mend a changed body, so the engine gives up on the first
 * failure: one dead letter naming LF_BLOB_ALTERED, no retries, nothing appended, and the person's `ledgerflow signal`
 * exits non-zero with the code and the error's fix (the run, the object, the command that puts the original back).
 * Once the original is back, the same signal is recorded and the run completes. Real nats-server; the CLI as a user
 * runs it. The worker's side of the same finding: altered-blob-nats.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';
import { forgetLoadedPayloads } from '../../src/executor/index.js';
import { BLOB_BUCKET } from '../../src/store/index.js';

const flow = def(`
workflow:
  id: altered_signal_nats
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
    - id: check
      type: DECISION
      depends_on: [ready]
      decision_param: "\${export_rows.output.summary.status}"
      decision_cases:
        complete: { next: publish }
        default: { next: flag }
    - id: publish
      type: SIMPLE
      handler: publish
    - id: flag
      type: SIMPLE
      handler: publish
`);

type Ref = { 'lf:blob': { digest: string; size: number } };

describe.skipIf(noNats)('a signal whose DECISION reads a payload changed in LF_BLOBS', () => {
  const c = useCluster({
    engines: 1,
    deploy: [flow],
    handlers: {
      // About 200 KB of rows (over the 64 KiB inline limit) and a summary; the nonce makes the body this run's own.
      exportRows: async (input) => {
        const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
        return { summary: { status: 'complete', rows: rows.length, nonce: input.nonce }, rows };
      },
      publish: async () => ({ published: true }),
    },
  });

  it('is dead-lettered at once, the CLI exits 1 with LF_BLOB_ALTERED and its fix; put back, the run completes', async () => {
    const run = await c.client.start('altered_signal_nats', { nonce: randomUUID() });
    const waiting = await waitFor(
      'the run to wait for its signal',
      async () => {
        const s = await c.runs.status(run.runId);
        return s?.tasks.ready?.status === 'WAITING' && s;
      },
      { timeout: 60_000 },
    );
    const { digest } = (waiting.tasks.export_rows!.output as Ref)['lf:blob'];
    const hex = digest.slice('sha256:'.length);
    const before = (await c.client.store.read(run.runId)).length;

    // One byte of the summary's status flipped, under the same object name; the original kept to put back.
    const os = await new Objm(jetstream(await c.admin())).open(BLOB_BUCKET);
    const original = (await os.getBlob(hex))!;
    const altered = Uint8Array.from(original);
    const at = Buffer.from(altered).indexOf('"status":"complete"') + '"status":"comp'.length;
    expect(at).toBeGreaterThan(0);
    altered[at]! ^= 1;
    await os.putBlob({ name: hex }, altered);
    // The engine and the worker share this process: what they loaded is forgotten, as another process never had it.
    forgetLoadedPayloads();

    const dir = tempDir('lf-altered-signal-');
    const lf = (...args: string[]) => cli(['--nats', c.as('alice'), ...args], { cwd: dir });
    const retriesBefore = c.engines[0]!.stats.retries;
    const sent = await lf('signal', run.runId, 'release', '--data', '{"by":"alice"}', '--wait', '30s');
    expect(sent.code, sent.stdout + sent.stderr).toBe(1);
    expect(sent.stderr).toContain('LF_BLOB_ALTERED');
    expect(sent.stderr).toContain(`run ${run.runId}`);
    expect(sent.stderr).toContain(`the object ${hex} of the bucket ${BLOB_BUCKET}`);
    expect(sent.stderr).toContain(`nats object put ${BLOB_BUCKET} <file> --name ${hex}`);

    // Given up on at once: one dead letter with the error, no retry, nothing appended to the run.
    const letters = (await deadLetters(await c.jsm(), 'signals')).filter((l) => l.runId === run.runId);
    expect(letters).toHaveLength(1);
    expect(String(letters[0]!.reason)).toContain('LF_BLOB_ALTERED');
    expect(c.engines[0]!.stats.retries).toBe(retriesBefore);
    expect(await c.client.store.read(run.runId)).toHaveLength(before);

    // The hinted fix: the original body back under its name, as `nats object put LF_BLOBS <file> --name <hex>` puts it.
    await os.putBlob({ name: hex }, original);
    forgetLoadedPayloads();
    const again = await lf('signal', run.runId, 'release', '--data', '{"by":"alice"}', '--wait', '30s');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const done = await lf('wait', run.runId, '--timeout', '60s');
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const settled = await c.runs.status(run.runId);
    expect(settled?.status).toBe('COMPLETED');
    expect(settled?.tasks.publish?.status).toBe('COMPLETED');
  }, 120_000);
});
