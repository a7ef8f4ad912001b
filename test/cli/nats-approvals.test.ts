/**
 * Approvals over NATS from the CLI, whether or not an engine has run yet: as a
 * NATS user on a server with users (queued, then recorded by the next engine),
 * and with --as on a server without users (recorded at once, marked
 * unauthenticated). Real nats-servers, real CLI processes.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli } from '../helpers/cli.js';

const APPROVAL = join(ROOT, 'test', 'fixtures', 'approval.yaml');

describe.skipIf(noNats)('approve and reject over NATS before any engine has run', () => {
  const withUsers = useCluster();
  const withoutUsers = useCluster({ users: false });

  it('as a NATS user: accepted with no engine running, and recorded by the first engine that starts', async () => {
    const url = withUsers.url;
    const run = await cli(['--nats', url, 'run', APPROVAL, '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    // No engine has ever run on this server: the decision is still taken, and waits in LF_APPROVALS.
    // No engine answers, and the CLI says so (exit 3: queued, not yet recorded).
    const alice = url.replace('nats://', 'nats://alice:alice-dev-password@');
    // An approver sees what they approve (nats.conf: the log's message gets, and the account's and the stream's info
    // the store asks first), with no engine yet; a worker may not read the log, which is said as a message.
    const seen = await cli(['--nats', alice, 'status', runId]);
    expect(seen.code, seen.stderr).toBe(0);
    expect(seen.stdout).toMatch(/sign_off\s+PENDING_APPROVAL/);
    const asWorker = await cli([
      '--nats',
      url.replace('nats://', 'nats://worker:worker-dev-password@'),
      'status',
      runId,
    ]);
    // A permission refused is a refusal (kind permission, docs/troubleshooting.md): exit 2, nothing written.
    expect(asWorker.code).toBe(2);
    expect(asWorker.stderr).toMatch(
      /^error: cannot use NATS JetStream at \S+: permissions violation: .*Permissions Violation for Publish to "\$JS\.API\.STREAM\.INFO\.LF_EVENTS"/,
    );
    expect(asWorker.stderr).not.toMatch(/\n\s+at /);
    const published = await cli([
      '--nats',
      alice,
      'approve',
      runId,
      'sign_off',
      '--comment',
      'fine',
      '--wait',
      '500ms',
      '--json',
    ]);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(3);
    expect(JSON.parse(published.stdout)).toEqual({
      runId,
      task: 'sign_off',
      decision: 'approved',
      by: 'alice',
      unauthenticated: false,
      recorded: false,
      queued: true,
      changed: true,
      seq: null,
      status: null,
    });
    const told = await cli(['--nats', alice, 'approve', runId, 'sign_off', '--wait', '300ms']);
    expect(told.stdout).toMatch(
      /published approval of sign_off for run \S+ as alice, but no engine answered within 300 ms: it waits in LF_APPROVALS for the next engine, or `ledgerflow resume/,
    );

    // Connected as a NATS user, that user decides: --as may only repeat it.
    const other = await cli(['--nats', alice, 'approve', runId, 'sign_off', '--as', 'bob']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /as bob does not match the NATS user alice: on a NATS server with users you act as the user you connect as/,
    );

    const engine = spawnCli(['--nats', url, 'engine', '--handlers', join(ROOT, 'test', 'fixtures', 'handlers.mjs')]);
    try {
      const waited = await cli(['--nats', url, 'wait', runId, '--timeout', '20s', '--json']);
      expect(waited.code).toBe(0);
      expect(JSON.parse(waited.stdout).tasks.sign_off).toMatchObject({
        status: 'COMPLETED',
        output: { by: 'alice', comment: 'fine' },
      });
      // With an engine running, the CLI waits for its verdict: a refusal exits 2 with the engine's reason.
      const bob = url.replace('nats://', 'nats://bob:bob-dev-password@');
      const late = await cli(['--nats', bob, 'approve', runId, 'sign_off']);
      expect(late.code).toBe(2);
      expect(late.stderr).toMatch(
        /cannot record approval of sign_off: the run is already settled; nothing was recorded/,
      );
    } finally {
      engine.kill('SIGTERM');
      await new Promise((r) => engine.on('close', r));
    }
    const history = JSON.parse((await cli(['--nats', url, 'history', runId, '--json'])).stdout);
    const decision = history.find((e: { type: string }) => e.type === 'approval.recorded');
    expect(decision.data).toEqual({ task: 'sign_off', decision: 'approved', by: 'alice', comment: 'fine' });
  }, 60_000);

  it('on a server without users: --as is recorded at once as an unauthenticated name, refusals are recorded, and resume acts on it', async () => {
    const url = withoutUsers.url;
    const run = await cli(['--nats', url, 'run', APPROVAL, '--json']);
    expect(run.code).toBe(3);
    const { runId } = JSON.parse(run.stdout);

    // Without --as the name is $USER, as on the embedded store and for every run input: not an approver here.
    const nobody = await cli(['--nats', url, 'approve', runId, 'sign_off'], { env: { USER: 'nobody' } });
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/nobody may not decide task sign_off/);

    const stranger = await cli(['--nats', url, 'approve', runId, 'sign_off', '--as', 'mallory']);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toMatch(/mallory may not decide task sign_off; its approvers are alice, bob/);

    const bob = await cli(['--nats', url, 'approve', runId, 'sign_off', '--as', 'bob']);
    expect(bob.code).toBe(0);
    expect(bob.stdout).toMatch(/approved sign_off for run \S+ as bob \(an unauthenticated name\) \(event \d+\)/);

    const resumed = await cli([
      '--nats',
      url,
      'resume',
      runId,
      '--handlers',
      join(ROOT, 'test', 'fixtures', 'handlers.mjs'),
      '--json',
    ]);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).status).toBe('COMPLETED');

    const history = JSON.parse((await cli(['--nats', url, 'history', runId, '--json'])).stdout);
    expect(
      history
        .filter((e: { type: string }) => e.type.startsWith('approval.'))
        .map((e: { type: string; data: object }) => [e.type, e.data]),
    ).toEqual([
      [
        'approval.refused',
        expect.objectContaining({
          by: 'nobody',
          unauthenticated: true,
          reason: expect.stringMatching(/may not decide/),
        }),
      ],
      [
        'approval.refused',
        expect.objectContaining({
          by: 'mallory',
          unauthenticated: true,
          reason: expect.stringMatching(/may not decide/),
        }),
      ],
      ['approval.recorded', { task: 'sign_off', decision: 'approved', by: 'bob', unauthenticated: true }],
    ]);
    const text = await cli(['--nats', url, 'history', runId]);
    expect(text.stdout).toMatch(/sign_off approved by bob \(unauthenticated name\)/);
    expect((await cli(['--nats', url, 'replay', runId])).code).toBe(0);
  }, 60_000);
});

describe.skipIf(noNats)('approve over NATS with an engine listening, on a server without users', () => {
  const c = useCluster({ users: false, engines: 1 });

  it('the engine records the decision as the given name, marked unauthenticated, as the embedded store does', async () => {
    const run = await cli(['--nats', c.url, 'run', APPROVAL, '--json']);
    expect(run.code).toBe(3);
    const runId = JSON.parse(run.stdout).runId as string;
    const decided = await cli(['--nats', c.url, 'approve', runId, 'sign_off', '--as', 'bob', '--json']);
    expect(decided.stderr).toBe('');
    expect(JSON.parse(decided.stdout)).toMatchObject({
      runId,
      by: 'bob',
      unauthenticated: true,
      recorded: true,
      queued: false,
    });
    const history = JSON.parse((await cli(['--nats', c.url, 'history', runId, '--json'])).stdout);
    expect(history.find((e: { type: string }) => e.type === 'approval.recorded').data).toEqual({
      task: 'sign_off',
      decision: 'approved',
      by: 'bob',
      unauthenticated: true,
    });
  }, 60_000);
});
