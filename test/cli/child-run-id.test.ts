/**
 * A SUB_WORKFLOW's child run id is derived (`<parent>-<task>-<attempt>`), so
 * a caller who picks that id first must not have their run taken for the
 * child (another user's run of another workflow became the child's
 * output). The parent's attempt fails loudly with LF_RUN_ID_TAKEN instead;
 * the same parent under another id completes with its real child's output.
 */
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { killLeftovers } from '../helpers/processes.js';

const FIX = join(ROOT, 'test', 'fixtures', 'child-id');

describe('a run under a SUB_WORKFLOW child\'s id, started by someone else first', () => {
  it('is not adopted: the parent\'s attempt fails LF_RUN_ID_TAKEN naming it, and nothing of its output is taken', async () => {
    const store = tempDir();
    const squatter = await cli(['--store', store, 'run', join(FIX, 'other.yaml'), '--id', 'p1-reconcile-1', '--json']);
    expect(squatter.code, squatter.stderr).toBe(0);

    const parent = await cli(['--store', store, 'run', join(FIX, 'close-month.yaml'), '--id', 'p1', '--json']);
    expect(parent.code).toBe(1);
    const view = JSON.parse(parent.stdout) as { status: string; output: unknown; tasks: Record<string, { status: string; error: { code: string; message: string } }> };
    expect(view.status).toBe('FAILED');
    expect(view.tasks.reconcile).toMatchObject({ status: 'FAILED', error: { code: 'LF_RUN_ID_TAKEN' } });
    expect(view.tasks.reconcile!.error.message).toContain('run id p1-reconcile-1, the id of this attempt\'s child run, is taken by a run of workflow someone-else that no parent started');
    expect(JSON.stringify(view)).not.toContain('666');
    // The squatter's run is untouched.
    expect(JSON.parse((await cli(['--store', store, 'status', 'p1-reconcile-1', '--json'])).stdout)).toMatchObject({ workflowId: 'someone-else', status: 'COMPLETED', output: { total: 666 } });

    const fine = await cli(['--store', store, 'run', join(FIX, 'close-month.yaml'), '--id', 'p2', '--json']);
    expect(fine.code, fine.stderr).toBe(0);
    expect(JSON.parse(fine.stdout)).toMatchObject({ status: 'COMPLETED', output: { total: 42 } });
  });
});

describe('caller-chosen run ids in the shapes ledgerflow derives', () => {
  it('are refused (exit 2, the shape named), nothing written: an event\'s run, a schedule slot\'s, a failure workflow\'s', async () => {
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

  it('the parent fails LF_RUN_ID_TAKEN instead of waiting for ever on a run that is not its child', async () => {
    expect((await cli(['--nats', c.url, 'deploy', join(FIX, 'close-month.yaml'), join(FIX, 'reconcile-ledgers.yaml'), join(FIX, 'other.yaml')])).code).toBe(0);
    procs.push(spawnCli(['--nats', c.url, 'engine', '--handlers', join(FIX, 'h.mjs')]));
    const refused = await cli(['--nats', c.url, 'start', 'someone-else', '--id', 'ev-0123456789abcdef0123']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has the shape of a run id ledgerflow derives');
    const squatter = await cli(['--nats', c.url, 'start', 'someone-else', '--id', 'p1-reconcile-1', '--json']);
    expect(squatter.code, squatter.stderr).toBe(0);
    expect((await cli(['--nats', c.url, 'start', 'close-month', '--id', 'p1'])).code).toBe(0);
    const waited = await cli(['--nats', c.url, 'wait', 'p1', '--timeout', '30s', '--json']);
    expect(waited.code, waited.stderr).toBe(1);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'FAILED', tasks: { reconcile: { status: 'FAILED', error: { code: 'LF_RUN_ID_TAKEN' } } } });
    expect(waited.stdout).not.toContain('666');
  }, 60_000);
});
