/**
 * `ledgerflow wait` on the embedded store, as over NATS (one run API for both:
 * src/runs/reads.ts): a run waiting for a person, with --or-waiting and with a
 * --timeout that ends the wait first, then the wait that ends when an approval
 * settles the run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, tempDir } from '../helpers/cli.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(0);
});

describe('wait on the embedded store', () => {
  it('returns when the run waits (--or-waiting, exit 3), says when --timeout ends it, and returns COMPLETED once approved', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const file = join(dir, 'review.yaml');
    writeFileSync(file, 'workflow:\n  id: review\n  tasks:\n    - { id: check, type: HUMAN, approvers: [ops] }\n');
    const run = await cli(['--store', store, 'run', file]);
    expect(run.code).toBe(3);
    const runId = /run (\S+) started/.exec(run.stdout)![1]!;

    const waiting = await cli(['--store', store, 'wait', runId, '--or-waiting', '--json']);
    expect(waiting.code).toBe(3);
    expect(JSON.parse(waiting.stdout) as { status: string; runId: string }).toMatchObject({ runId, status: 'WAITING' });

    const timedOut = await cli(['--store', store, 'wait', runId, '--timeout', '300ms']);
    expect(timedOut.code).toBe(3);
    expect(timedOut.stderr).toContain(`--timeout 300ms reached: run ${runId} is still WAITING`);
    expect(timedOut.stdout).toContain('WAITING');

    const settled = cli(['--store', store, 'wait', runId, '--timeout', '60s']);
    expect((await cli(['--store', store, 'approve', runId, 'check', '--as', 'ops'])).code).toBe(0);
    const done = await settled;
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('COMPLETED');
  }, 120_000);
});
