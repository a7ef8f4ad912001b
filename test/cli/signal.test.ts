/**
 * `ledgerflow signal` on the embedded store: a signal no WAIT would take is
 * refused with the reason and nothing is recorded; one a WAIT takes is
 * recorded and `resume` carries the run on with its data as the WAIT's output.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, expectEveryRunReplays, ROOT, tempDir } from '../helpers/cli.js';

const WAIT = join(ROOT, 'test', 'fixtures', 'wait-signal.yaml');
/** A WAIT whose id (sign_off) is not the signal it takes (audit_signed_off). */
const AUDIT = join(ROOT, 'test', 'fixtures', 'wait-audit.yaml');
// The test run's nats-server.
const nats = useCluster({ server: 'shared' });

describe('ledgerflow signal (embedded store)', () => {
  it('refuses a signal for an unknown run or a name no WAIT waits for, recording nothing; an accepted one moves the run on', async () => {
    const store = tempDir();
    const run = await cli(['--store', store, 'run', WAIT, '--json']);
    expect(run.code).toBe(3);
    const view = JSON.parse(run.stdout);
    expect(view.status).toBe('WAITING');
    expect(view.tasks.go_ahead.status).toBe('WAITING');
    const historyLength = async () =>
      JSON.parse((await cli(['--store', store, 'history', view.runId, '--json'])).stdout).length;
    const before = await historyLength();

    const unknown = await cli(['--store', store, 'signal', 'no-such-run', 'go_ahead']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/cannot signal "go_ahead" to run no-such-run: run no-such-run does not exist/);

    const wrong = await cli(['--store', store, 'signal', view.runId, 'stop_now']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /the run has no WAIT for signal "stop_now"; it waits for "go_ahead"; nothing was recorded/,
    );

    const badData = await cli(['--store', store, 'signal', view.runId, 'go_ahead', '--data', '{nope']);
    expect(badData.code).toBe(2);
    expect(badData.stderr).toMatch(/--data is not JSON/);
    expect(await historyLength()).toBe(before);

    const sent = await cli([
      '--store',
      store,
      'signal',
      view.runId,
      'go_ahead',
      '--data',
      '{"ticket": 42}',
      '--as',
      'ops',
    ]);
    expect(sent.code).toBe(0);
    // Recorded, and the run moved on in the same command (nothing else held it): no resume needed.
    expect(sent.stdout).toMatch(/signal go_ahead recorded for run \S+ as ops \(event \d+\)/);
    expect(sent.stdout).toMatch(/✓ last/);

    const done = JSON.parse((await cli(['--store', store, 'status', view.runId, '--json'])).stdout);
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.go_ahead).toMatchObject({ status: 'COMPLETED', output: { ticket: 42 } });
    const history = JSON.parse((await cli(['--store', store, 'history', view.runId, '--json'])).stdout);
    expect(history.find((e: { type: string }) => e.type === 'signal.received').data).toEqual({
      name: 'go_ahead',
      data: { ticket: 42 },
      by: 'ops',
    });

    const late = await cli(['--store', store, 'signal', view.runId, 'go_ahead']);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/the run is already COMPLETED/);
    expect(await expectEveryRunReplays()).toBeGreaterThan(0);
  }, 60_000);
});

describe('what a WAIT waits for, named in every hint', () => {
  it("run's progress line and closing hint, status and list name the signal of its event: (audit_signed_off), and the hinted command works", async () => {
    const store = tempDir();
    const run = await cli(['--store', store, 'run', AUDIT]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/⌛ sign_off waiting for signal audit_signed_off \(until /);
    const runId = /run (\S+) started/.exec(run.stdout)![1]!;
    const hint = `sign_off waits for signal audit_signed_off: ledgerflow signal ${runId} audit_signed_off --data '<json>'`;
    expect(run.stdout).toContain(hint);
    expect(run.stdout).not.toContain('<event>');

    const status = await cli(['--store', store, 'status', runId]);
    expect(status.stdout).toMatch(
      new RegExp(
        `sign_off\\s+WAITING\\s+attempts 1  waits for signal audit_signed_off: ledgerflow signal ${runId} audit_signed_off`,
      ),
    );
    const json = JSON.parse((await cli(['--store', store, 'status', runId, '--json'])).stdout);
    expect(json.tasks.sign_off).toMatchObject({ status: 'WAITING', signal: 'audit_signed_off' });
    // The run index's record: what list and the dashboard's /api/runs show.
    const [record] = JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout);
    expect(record.result).toBe('sign_off waits for signal audit_signed_off');

    const sent = await cli(['--store', store, 'signal', runId, 'audit_signed_off']);
    expect(sent.code, sent.stderr).toBe(0);
    expect((await cli(['--store', store, 'resume', runId])).code).toBe(0);
  }, 60_000);

  it.skipIf(noNats)(
    'run with --nats: the closing hint names the signal too',
    async () => {
      const run = await cli(['--nats', nats.url, 'run', AUDIT], { cwd: tempDir() });
      expect(run.code).toBe(3);
      const runId = /run (\S+) started/.exec(run.stdout)![1]!;
      expect(run.stdout).toContain(
        `sign_off waits for signal audit_signed_off: ledgerflow signal ${runId} audit_signed_off --data '<json>' --nats <url>`,
      );
      const status = await cli(['--nats', nats.url, 'status', runId]);
      expect(status.stdout).toContain(`waits for signal audit_signed_off: ledgerflow signal ${runId} audit_signed_off`);
    },
    60_000,
  );
});
