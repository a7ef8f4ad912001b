/**
 * A step recorded, then its run unable to go on. A person's signal: the WAIT it ends is followed by a task whose input reads a
 * field of a large payload (docs/language.md "Large payloads") whose body was changed in LF_BLOBS, which the engine
 * reads as it works out that task's attempt, after the signal's commit. docs/troubleshooting.md (LF_BLOB_ALTERED): the
 * signal stands (its event in the log), `ledgerflow signal` exits 1 saying it was recorded, that the run cannot go on
 * and why (the code, the object, the fix); the engines try the run again with a growing delay, so it goes on by
 * itself once the body is back. Past the bound of deliveries, `ledgerflow start <workflow> --id <runId>` takes the run
 * up. Before, the person was told "nothing was recorded" and the run stayed IN_PROGRESS for good. A timed WAIT's end
 * the same way (its timer was given up at once, the run left for good). Real nats-server;
 * the CLI as a user runs it. Nothing recorded before the read: altered-blob-signal-nats.test.ts.
 */
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { noNats, useCluster, type Cluster } from '../helpers/cluster.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';
import { BLOB_BUCKET } from '../../src/store/index.js';
import { alterExport } from './altered-export.js';

const flow = def(`
workflow:
  id: altered_next_input
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
      depends_on: [ready]
      handler: publish
      input: { status: "\${export_rows.output.summary.status}" }
`);

/** The same export, then a timed WAIT: the timer's firing is what is recorded before the read. */
const timed = def(`
workflow:
  id: altered_after_timer
  version: 1
  payloads:
    inline_limit: 64KiB
  tasks:
    - id: export_rows
      type: SIMPLE
      handler: exportRows
    - id: cool_off
      type: WAIT
      depends_on: [export_rows]
      duration: 2s
    - id: publish
      type: SIMPLE
      depends_on: [cool_off]
      handler: publish
      input: { status: "\${export_rows.output.summary.status}" }
`);

const handlers = {
  // About 200 KB of rows (over the 64 KiB inline limit) and a summary; the nonce makes the body this run's own.
  exportRows: async (input: Record<string, unknown>) => {
    const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
    return { summary: { status: 'complete', rows: rows.length, nonce: input.nonce }, rows };
  },
  publish: async (input: Record<string, unknown>) => ({ published: input.status }),
};

/** The run once its WAIT `task` waits. */
const waitingAt = (c: Cluster, runId: string, task: string) =>
  waitFor(
    `the run to wait at ${task}`,
    async () => {
      const s = await c.runs.status(runId);
      return s?.tasks[task]?.status === 'WAITING' && s;
    },
    { timeout: 60_000 },
  );

/** A run waiting at `ready` whose export's summary status then had one byte flipped in LF_BLOBS; the original kept. */
async function alteredWhileWaiting(c: Cluster) {
  const lf = (...args: string[]) => cli(['--nats', c.as('alice'), ...args], { cwd: tempDir('lf-altered-next-') });
  // Started by alice, who signals it, as a person does: a start of hers under the same id later takes the run up.
  const nonce = randomUUID();
  const started = await lf('start', 'altered_next_input', '--nonce', nonce, '--json');
  expect(started.code, started.stdout + started.stderr).toBe(0);
  const { runId } = JSON.parse(started.stdout) as { runId: string };
  const view = await waitingAt(c, runId, 'ready');
  const { hex, putBack } = await alterExport(c, view.tasks.export_rows!.output);
  return { runId, nonce, hex, putBack, lf };
}

/** What `ledgerflow signal` says: recorded (its event), the run cannot go on, the code, the object and the fix. */
async function signalledThenStalled(
  c: Cluster,
  lf: (...a: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
  runId: string,
  hex: string,
) {
  const sent = await lf('signal', runId, 'release', '--data', '{"by":"alice"}', '--wait', '30s');
  expect(sent.code, sent.stdout + sent.stderr).toBe(1);
  const events = await c.client.store.read(runId);
  const signal = events.find((e) => e.type === 'signal.received');
  expect(signal).toBeDefined();
  expect(sent.stderr).toContain(`signal "release" to run ${runId}: recorded (event ${signal!.seq})`);
  expect(sent.stderr).toContain('the run cannot go on past it (LF_BLOB_ALTERED)');
  expect(sent.stderr).toContain(`nats object put ${BLOB_BUCKET} <file> --name ${hex}`);
  expect(sent.stderr).not.toContain('nothing was recorded');
  expect((await c.runs.status(runId))?.tasks.ready?.status).toBe('COMPLETED');
}

describe.skipIf(noNats)('a signal recorded, then its run unable to go on for a payload changed in LF_BLOBS', () => {
  const logs: string[] = [];
  const c = useCluster({ engines: 1, deploy: [flow, timed], handlers, engine: { log: (l) => logs.push(l) } });

  it('the CLI says it was recorded and why the run waits; once the body is back the run goes on by itself', async () => {
    const { runId, hex, putBack, lf } = await alteredWhileWaiting(c);
    await signalledThenStalled(c, lf, runId, hex);
    await putBack();
    const done = await c.runs.wait(runId, { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish?.output).toEqual({ published: 'complete' });
    // The signal once, not again on a later delivery; and no later delivery judged it again as one no WAIT takes.
    expect((await c.client.store.read(runId)).filter((e) => e.type === 'signal.received')).toHaveLength(1);
    expect((await deadLetters(await c.jsm(), 'signals')).filter((l) => String(l.reason).includes(runId))).toEqual([]);
  }, 120_000);

  it("a timed WAIT's end too: the timer's firing stands, the engines try again, and the run goes on once the body is back", async () => {
    const { runId } = await c.client.start('altered_after_timer', {});
    const view = await waitingAt(c, runId, 'cool_off');
    const { putBack } = await alterExport(c, view.tasks.export_rows!.output);
    // The timer fires, its event is recorded, and the task after it cannot be handed out: tried again, not given up.
    await waitFor(
      'the engine to try the timer again',
      () => logs.some((l) => l.startsWith('timers') && l.includes('trying again') && l.includes(runId)),
      { timeout: 30_000, detail: () => logs.join('\n') },
    );
    const events = await c.client.store.read(runId);
    expect(events.some((e) => e.type === 'timer.fired')).toBe(true);
    expect((await deadLetters(await c.jsm(), 'timers')).filter((l) => String(l.reason).includes(runId))).toEqual([]);
    await putBack();
    const done = await c.runs.wait(runId, { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish?.output).toEqual({ published: 'complete' });
  }, 120_000);
});

describe.skipIf(noNats)('the same past the bound of deliveries', () => {
  const logs: string[] = [];
  const c = useCluster({
    engines: 1,
    deploy: [flow],
    handlers,
    engine: { settings: { maxDeliver: 3, firstRetryMs: 100, maxRetryMs: 400 }, log: (l) => logs.push(l) },
  });

  it('the message is dead-lettered; `ledgerflow start <workflow> --id <runId>` takes the run up once the body is back', async () => {
    const { runId, nonce, hex, putBack, lf } = await alteredWhileWaiting(c);
    await signalledThenStalled(c, lf, runId, hex);
    const letters = await waitFor(
      'the signal in lf.dlq.signals',
      async () => {
        const l = (await deadLetters(await c.jsm(), 'signals')).filter((x) => String(x.reason).includes(runId));
        return l.length > 0 && l;
      },
      { timeout: 30_000, detail: () => logs.join('\n') },
    );
    // One letter: the bound's; the deliveries before it, judged again on the run that had taken the signal, leave none.
    expect(letters).toHaveLength(1);
    expect(String(letters[0]!.reason)).toMatch(
      /^gave up after 3 deliveries \(the bound is 3\); the last failed with: recorded, then its run could not go on: the payload .* was changed after it was written/,
    );
    expect((await c.runs.status(runId))?.status).toBe('RUNNING');
    await putBack();
    const again = await lf('start', 'altered_next_input', '--id', runId, '--nonce', nonce, '--json');
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const done = await c.runs.wait(runId, { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish?.output).toEqual({ published: 'complete' });
  }, 120_000);
});

describe.skipIf(noNats)('the same with the engine running the handlers (`ledgerflow engine --handlers`)', () => {
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));
  const c = useCluster({ deploy: [flow] });

  it('the CLI says it was recorded and why the run waits; once the body is back the run goes on by itself', async () => {
    const dir = tempDir('lf-altered-engine-');
    writeFileSync(
      join(dir, 'handlers.mjs'),
      `export default {
  async exportRows(input) {
    const rows = Array.from({ length: 2000 }, (_, i) => ({ id: i, note: 'x'.repeat(90) }));
    return { summary: { status: 'complete', rows: rows.length, nonce: input.nonce }, rows };
  },
  async publish(input) { return { published: input.status }; },
};
`,
    );
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(dir, 'handlers.mjs')], { cwd: dir }));
    const { runId, hex, putBack, lf } = await alteredWhileWaiting(c);
    await signalledThenStalled(c, lf, runId, hex);
    await putBack();
    const done = await c.runs.wait(runId, { timeoutMs: 60_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish?.output).toEqual({ published: 'complete' });
  }, 120_000);
});
