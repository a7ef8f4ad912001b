/**
 * A person's signal or approval whose processing in the engine reads a large payload whose body was changed in
 * LF_BLOBS: the WAIT it ends (or the HUMAN task it decides) is followed by a DECISION on a field of that payload
 * (docs/language.md "Large payloads"), which the engine folds as it records the input. Retrying cannot mend a changed
 * body, so the engine gives up on the first failure: one dead letter naming LF_BLOB_ALTERED, no retries, nothing
 * appended, and the person's `ledgerflow signal` or `ledgerflow approve` exits non-zero with the code and the error's
 * fix (the run, the object, the command that puts the original back). Once the original is back, the same signal is
 * recorded and the run completes. Real nats-server; the CLI as a user runs it. The worker's side of the same finding:
 * altered-blob-nats.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';
import { BLOB_BUCKET } from '../../src/store/index.js';
import { alterExport } from './altered-export.js';

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

/** The same export decided by a person: the HUMAN task's approval runs the run on into the DECISION. */
const approvalFlow = def(`
workflow:
  id: altered_approval_nats
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
    - id: sign
      type: HUMAN
      depends_on: [export_rows]
      approvers: [alice]
      wait_forever: true
    - id: check
      type: DECISION
      depends_on: [sign]
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

describe.skipIf(noNats)("a person's input whose DECISION reads a payload changed in LF_BLOBS", () => {
  const c = useCluster({
    engines: 1,
    deploy: [flow, approvalFlow],
    handlers: {
      // About 200 KB of rows (over the 64 KiB inline limit) and a summary; the nonce makes the body this run's own.
      exportRows: async (input) => {
        const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
        return { summary: { status: 'complete', rows: rows.length, nonce: input.nonce }, rows };
      },
      publish: async () => ({ published: true }),
    },
  });

  /**
   * A run of `workflow` started and waiting at `waiting` (a WAIT's status WAITING, a HUMAN task's PENDING_APPROVAL; its
   * export stored in LF_BLOBS), then one byte of the export's summary status flipped under the same object name; the
   * original kept to put back.
   */
  async function alteredWhileWaiting(workflow: string, waiting: string, status: string) {
    const { runId } = await c.client.start(workflow, { nonce: randomUUID() });
    const view = await waitFor(
      `the run to wait at ${waiting}`,
      async () => {
        const s = await c.runs.status(runId);
        return s?.tasks[waiting]?.status === status && s;
      },
      { timeout: 60_000 },
    );
    const before = (await c.client.store.read(runId)).length;
    const { hex, putBack } = await alterExport(c, view.tasks.export_rows!.output);
    return { runId, hex, before, putBack };
  }

  /** What a person reads from a command the engine gave up on: the code, the run, the object and the fix. */
  function namesTheFix(r: { code: number | null; stdout: string; stderr: string }, runId: string, hex: string) {
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('LF_BLOB_ALTERED');
    expect(r.stderr).toContain(`run ${runId}`);
    expect(r.stderr).toContain(`the object ${hex} of the bucket ${BLOB_BUCKET}`);
    expect(r.stderr).toContain(`nats object put ${BLOB_BUCKET} <file> --name ${hex}`);
  }

  /** Given up on at once: one dead letter of the run on lf.dlq.<kind> with the error, no retry, nothing appended. */
  async function givenUpOnce(kind: string, runId: string, before: number, retriesBefore: number) {
    const letters = (await deadLetters(await c.jsm(), kind)).filter((l) => l.runId === runId);
    expect(letters).toHaveLength(1);
    expect(String(letters[0]!.reason)).toContain('LF_BLOB_ALTERED');
    expect(c.engines[0]!.stats.retries).toBe(retriesBefore);
    expect(await c.client.store.read(runId)).toHaveLength(before);
  }

  it('a signal is dead-lettered at once, the CLI exits 1 with LF_BLOB_ALTERED and its fix; put back, the run completes', async () => {
    const { runId, hex, before, putBack } = await alteredWhileWaiting('altered_signal_nats', 'ready', 'WAITING');
    const dir = tempDir('lf-altered-signal-');
    const lf = (...args: string[]) => cli(['--nats', c.as('alice'), ...args], { cwd: dir });
    const retriesBefore = c.engines[0]!.stats.retries;
    const sent = await lf('signal', runId, 'release', '--data', '{"by":"alice"}', '--wait', '30s');
    namesTheFix(sent, runId, hex);
    await givenUpOnce('signals', runId, before, retriesBefore);

    await putBack();
    const again = await lf('signal', runId, 'release', '--data', '{"by":"alice"}', '--wait', '30s');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const done = await lf('wait', runId, '--timeout', '60s');
    expect(done.code, done.stdout + done.stderr).toBe(0);
    const settled = await c.runs.status(runId);
    expect(settled?.status).toBe('COMPLETED');
    expect(settled?.tasks.publish?.status).toBe('COMPLETED');
  }, 120_000);

  it('an approval too: exit 1 with LF_BLOB_ALTERED, no refusal kept against the approver, who approves again once it is put back', async () => {
    const { runId, hex, before, putBack } = await alteredWhileWaiting(
      'altered_approval_nats',
      'sign',
      'PENDING_APPROVAL',
    );
    const dir = tempDir('lf-altered-approval-');
    const lf = (...args: string[]) => cli(['--nats', c.as('alice'), ...args], { cwd: dir });
    const retriesBefore = c.engines[0]!.stats.retries;
    const sent = await lf('approve', runId, 'sign', '--wait', '30s');
    namesTheFix(sent, runId, hex);
    await givenUpOnce('approvals', runId, before, retriesBefore);

    // Nothing was recorded, not even a refusal (one is kept per person and task): the same approval goes through now.
    await putBack();
    const again = await lf('approve', runId, 'sign', '--wait', '30s');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const settled = await c.runs.wait(runId, { timeoutMs: 60_000 });
    expect(settled.status).toBe('COMPLETED');
    expect(settled.tasks.publish?.status).toBe('COMPLETED');
  }, 120_000);
});
