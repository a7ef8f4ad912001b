/**
 * `from:` on a WAIT (docs/language.md#wait-timers-and-signals): only the
 * senders it names may send its signal, and an early signal (sent before the
 * WAIT is reached) is kept only from one of them, so nobody else can take the
 * place of the real sender. The same YAML on the embedded store (`ledgerflow
 * signal --as`) and on NATS (each person as their nats.conf user).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { noNats, useCluster } from '../helpers/cluster.js';
import { def } from '../helpers/engine.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const FLOW = join(ROOT, 'test', 'fixtures', 'wait-from.yaml');

describe('WAIT from: on the embedded store', () => {
  it("an early signal from a sender it does not name is refused and nothing recorded; legal's is kept and taken once the WAIT is reached", async () => {
    const store = tempDir();
    const lf = (...args: string[]) => cli(['--store', store, ...args]);
    const run = await lf('run', FLOW, '--json');
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const events = async () =>
      JSON.parse((await lf('history', runId, '--json')).stdout) as { type: string; data: Record<string, unknown> }[];
    const before = (await events()).length;

    const bob = await lf('signal', runId, 'contract_signed', '--data', '{"signed_by":"bob"}', '--as', 'bob');
    expect(bob.code).toBe(2);
    expect(bob.stderr).toContain(
      'bob may not send signal "contract_signed": WAIT sign_off_received takes it only from legal, cfo',
    );
    expect((await events()).length).toBe(before);

    const legal = await lf('signal', runId, 'contract_signed', '--data', '{"signed_by":"legal"}', '--as', 'legal');
    expect(legal.code, legal.stderr).toBe(0);
    // A second early one, even from a named sender, is refused: the WAIT keeps one.
    expect((await lf('signal', runId, 'contract_signed', '--as', 'cfo')).code).toBe(2);

    const approved = await lf('approve', runId, 'review', '--as', 'commander');
    expect(approved.code, approved.stderr).toBe(0);
    const done = JSON.parse((await lf('status', runId, '--json')).stdout);
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.sign_off_received.output).toEqual({ signed_by: 'legal' });
    expect((await events()).filter((e) => e.type === 'signal.received').map((e) => e.data.by)).toEqual(['legal']);
  }, 60_000);
});

describe.skipIf(noNats)('WAIT from: on NATS', () => {
  const c = useCluster({ engines: 1, deploy: [def(readFileSync(FLOW, 'utf8'))] });

  it("alice's early signal is refused by the engine (nothing recorded); cfo's is kept and taken once commander approves", async () => {
    const { runId } = await c.client.start('contract_flow', {});
    await waitFor('the run to wait for the review', async () => (await c.runs.status(runId))?.status === 'WAITING', {
      timeout: 20_000,
    });
    await expect(
      c.clientAs('alice').signal(runId, 'contract_signed', { data: { signed_by: 'alice' }, waitMs: 20_000 }),
    ).rejects.toThrow(
      /alice may not send signal "contract_signed": WAIT sign_off_received takes it only from legal, cfo/,
    );
    expect((await c.client.store.read(runId)).some((e) => e.type === 'signal.received')).toBe(false);

    await c.clientAs('cfo').signal(runId, 'contract_signed', { data: { signed_by: 'cfo' }, waitMs: 20_000 });
    await c.clientAs('commander').decide(runId, 'review', 'approved', 'commander', undefined, { waitMs: 20_000 });
    await waitFor('the run to complete', async () => (await c.runs.status(runId))?.status === 'COMPLETED', {
      timeout: 20_000,
    });
    expect((await c.runs.status(runId))?.tasks.sign_off_received?.output).toEqual({ signed_by: 'cfo' });
  }, 60_000);
});
