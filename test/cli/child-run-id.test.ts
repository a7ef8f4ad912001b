/**
 * A SUB_WORKFLOW's child run id is derived (`<parent>-<task>-<attempt>`), so
 * a caller may pick that id first. Their run must not be taken for the child
 * (another user's run of another workflow became the child's output), nor
 * fail the parent: the child starts under its spare id `<child>--0`, which no
 * start can take, the parent completes with its real child's output, and the
 * caller's run is left as it was. test/cli/child-id-squat.test.ts attacks it
 * as it was found, with users.
 */
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';

const FIX = join(ROOT, 'test', 'fixtures', 'child-id');

describe("a run under a SUB_WORKFLOW child's id, started by someone else first", () => {
  it("is not adopted: the child starts under <child>--0 and the parent completes with its output; the squatter's run is untouched", async () => {
    const store = tempDir();
    const squatter = await cli(['--store', store, 'run', join(FIX, 'other.yaml'), '--id', 'p1-reconcile-1', '--json']);
    expect(squatter.code, squatter.stderr).toBe(0);
    const before = await cli(['--store', store, 'history', 'p1-reconcile-1', '--json']);

    const parent = await cli(['--store', store, 'run', join(FIX, 'close-month.yaml'), '--id', 'p1', '--json']);
    expect(parent.code, parent.stderr).toBe(0);
    expect(JSON.parse(parent.stdout)).toMatchObject({
      status: 'COMPLETED',
      output: { total: 42 },
      tasks: { reconcile: { status: 'COMPLETED', child: 'p1-reconcile-1--0' } },
    });
    // The squatter's output ({ total: 666 }) is nowhere in the parent's (a time may hold 666: .666Z).
    expect(parent.stdout).not.toMatch(/"total":\s*666\b/);
    expect(JSON.parse((await cli(['--store', store, 'status', 'p1-reconcile-1--0', '--json'])).stdout)).toMatchObject({
      workflowId: 'reconcile-ledgers',
      status: 'COMPLETED',
      parent: { runId: 'p1', task: 'reconcile' },
    });
    // The squatter's run is untouched, its log as it was.
    expect(JSON.parse((await cli(['--store', store, 'status', 'p1-reconcile-1', '--json'])).stdout)).toMatchObject({
      workflowId: 'someone-else',
      status: 'COMPLETED',
      output: { total: 666 },
    });
    expect((await cli(['--store', store, 'history', 'p1-reconcile-1', '--json'])).stdout).toBe(before.stdout);
    expect((await cli(['--store', store, 'history', 'p1'])).stdout).toContain('→ child run p1-reconcile-1--0');

    const fine = await cli(['--store', store, 'run', join(FIX, 'close-month.yaml'), '--id', 'p2', '--json']);
    expect(fine.code, fine.stderr).toBe(0);
    expect(JSON.parse(fine.stdout)).toMatchObject({
      status: 'COMPLETED',
      output: { total: 42 },
      tasks: { reconcile: { child: 'p2-reconcile-1' } },
    });
  });

  it('no caller can take the spare id first: an id ending in --<digits> is refused', async () => {
    const store = tempDir();
    const r = await cli(['--store', store, 'run', join(FIX, 'other.yaml'), '--id', 'p1-reconcile-1--0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('does not end in --<digits>');
  });
});

describe('caller-chosen run ids in the shapes ledgerflow derives', () => {
  it("are refused (exit 2, the shape named), nothing written: an event's run, a schedule slot's, a failure workflow's", async () => {
    const store = tempDir();
    for (const id of ['ev-0123456789abcdef0123', 'nightly-s0-20260101T090010Z', 'p1-failure']) {
      const r = await cli(['--store', store, 'run', join(FIX, 'other.yaml'), '--id', id]);
      expect(r.code, id).toBe(2);
      expect(r.stderr).toContain(`invalid --id "${id}": it has the shape of a run id ledgerflow derives`);
    }
    expect(JSON.parse((await cli(['--store', store, 'list', '--json'])).stdout)).toEqual([]);
  });
});

describe.skipIf(noNats)('the same on NATS (engine process)', () => {
  const c = useCluster();
  const procs: ChildProcess[] = [];
  afterEach(() => killLeftovers(procs));

  it("the parent completes with its child under <child>--0, not the run that took the child's id", async () => {
    expect(
      (
        await cli([
          '--nats',
          c.url,
          'deploy',
          join(FIX, 'close-month.yaml'),
          join(FIX, 'reconcile-ledgers.yaml'),
          join(FIX, 'other.yaml'),
        ])
      ).code,
    ).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(FIX, 'h.mjs')]));
    const refused = await cli(['--nats', c.url, 'start', 'someone-else', '--id', 'ev-0123456789abcdef0123']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has the shape of a run id ledgerflow derives');
    const squatter = await cli(['--nats', c.url, 'start', 'someone-else', '--id', 'p1-reconcile-1', '--json']);
    expect(squatter.code, squatter.stderr).toBe(0);
    expect((await cli(['--nats', c.url, 'wait', 'p1-reconcile-1', '--timeout', '30s'])).code).toBe(0);
    expect((await cli(['--nats', c.url, 'start', 'someone-else', '--id', 'p1-reconcile-1--0'])).code).toBe(2);
    expect((await cli(['--nats', c.url, 'start', 'close-month', '--id', 'p1'])).code).toBe(0);
    const waited = await cli(['--nats', c.url, 'wait', 'p1', '--timeout', '30s', '--json']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'COMPLETED', output: { total: 42 } });
    expect(waited.stdout).not.toMatch(/"total":\s*666\b/);
    const status = await cli(['--nats', c.url, 'status', 'p1', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ tasks: { reconcile: { child: 'p1-reconcile-1--0' } } });
    expect(JSON.parse((await cli(['--nats', c.url, 'status', 'p1-reconcile-1', '--json'])).stdout)).toMatchObject({
      workflowId: 'someone-else',
      status: 'COMPLETED',
      output: { total: 666 },
    });
  }, 60_000);
});
