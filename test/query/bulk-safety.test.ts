/**
 * Bulk actions never touch a run outside the filter (issue 39, docs/operations.md
 * "Bulk actions"): a store of mixed runs (several workflows, every status),
 * each bulk action with a filter through the library's `bulk`, then every
 * run's history read back: only the runs the filter matched (and the action
 * could change) have new events, each recorded with who did it; a repeat
 * changes nothing (counted as already); a dry run and a filter that matches
 * nothing change nothing; an unknown filter field is refused naming it.
 */
import { describe, expect, it } from 'vitest';
import { bulk } from '../../src/runs/index.js';
import { NonRetryableError, QueryError } from '../../src/index.js';
import type { Engine } from '../../src/local/index.js';
import type { Handlers } from '../../src/runtime/index.js';
import { def, engine } from '../helpers/engine.js';

const hold = (id: string) =>
  def(
    `workflow:\n  id: ${id}\n  version: 1\n  tasks:\n    - { id: review, type: HUMAN }\n    - { id: sign, type: HUMAN }\n`,
  );
const failing = def('workflow:\n  id: billing\n  version: 1\n  tasks:\n    - { id: charge, type: SIMPLE }\n');
const done = def(
  'workflow:\n  id: reports\n  version: 1\n  tasks:\n    - { id: sum, type: SET, values: { total: 1 } }\n',
);
const handlers: Handlers = {
  charge: async () => {
    throw new NonRetryableError('card declined');
  },
};

/** Every workflow, every status: orders and intake WAITING / PAUSED / CANCELLED, billing FAILED and CANCELLED, reports COMPLETED. */
async function mixedStore(e: Engine): Promise<Record<string, string[]>> {
  const runs: Record<string, string[]> = {};
  const add = (k: string, id: string) => {
    (runs[k] ??= []).push(id);
  };
  for (const wf of ['orders', 'intake']) {
    for (let i = 0; i < 3; i++)
      add(`${wf}:WAITING`, (await e.run(hold(wf), {}, { handlers: {}, maxTimerWaitMs: 0 })).runId);
    const p = (await e.run(hold(wf), {}, { handlers: {}, maxTimerWaitMs: 0 })).runId;
    await e.pause(p, { by: 'setup' });
    add(`${wf}:PAUSED`, p);
    const c = (await e.run(hold(wf), {}, { handlers: {}, maxTimerWaitMs: 0 })).runId;
    await e.cancel(c, { by: 'setup' });
    add(`${wf}:CANCELLED`, c);
  }
  for (let i = 0; i < 3; i++) add('billing:FAILED', (await e.run(failing, {}, { handlers, maxTimerWaitMs: 0 })).runId);
  const bc = (await e.run(hold('billing'), {}, { handlers: {}, maxTimerWaitMs: 0 })).runId;
  await e.cancel(bc, { by: 'setup' });
  add('billing:CANCELLED', bc);
  for (let i = 0; i < 2; i++)
    add('reports:COMPLETED', (await e.run(done, {}, { handlers: {}, maxTimerWaitMs: 0 })).runId);
  return runs;
}

/** Every run's history length, by id. */
async function lengths(e: Engine): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const s of await e.store.listRuns()) out.set(s.runId, (await e.events(s.runId)).length);
  return out;
}

/** The runs whose history grew, and the runs that are new, since `before`. */
async function changedSince(e: Engine, before: Map<string, number>): Promise<{ changed: string[]; added: string[] }> {
  const now = await lengths(e);
  const changed = [...now]
    .filter(([id, n]) => before.has(id) && before.get(id) !== n)
    .map(([id]) => id)
    .sort();
  const added = [...now.keys()].filter((id) => !before.has(id)).sort();
  return { changed, added };
}

describe('bulk actions touch only the runs the filter matches', () => {
  it('cancel, pause, resume, approve and retry on a store of mixed runs: every history read back', async () => {
    const { engine: e } = engine();
    const runs = await mixedStore(e);
    const sorted = (...keys: string[]) => keys.flatMap((k) => runs[k] ?? []).sort();

    // pause: the WAITING runs of orders only (not intake's, not the paused or cancelled ones).
    let before = await lengths(e);
    const paused = await bulk(
      e,
      'pause',
      { workflow: 'orders', status: 'WAITING' },
      { by: 'ops-lead', reason: 'maintenance' },
    );
    expect(paused).toMatchObject({ action: 'pause', matched: 3, already: [], refused: [] });
    expect((paused.paused as string[]).sort()).toEqual(sorted('orders:WAITING'));
    expect(await changedSince(e, before)).toEqual({ changed: sorted('orders:WAITING'), added: [] });
    for (const id of runs['orders:WAITING']!) {
      const last = (await e.events(id)).at(-1)!;
      expect([last.type, (last.data as { by?: string }).by]).toEqual(['run.paused', 'ops-lead']);
    }

    // resume: every PAUSED run of orders (the three just paused and the one paused before); intake's paused run stays.
    before = await lengths(e);
    const resumed = await bulk(e, 'resume', { workflow: 'orders' }, { by: 'ops-lead' });
    expect(resumed).toMatchObject({ action: 'resume', matched: 5, refused: [] });
    expect((resumed.resumed as string[]).sort()).toEqual(sorted('orders:WAITING', 'orders:PAUSED'));
    expect(resumed.already as string[]).toEqual(runs['orders:CANCELLED']);
    expect(await changedSince(e, before)).toEqual({ changed: sorted('orders:WAITING', 'orders:PAUSED'), added: [] });

    // approve one task: orders' waiting runs, task review only; sign still waits.
    before = await lengths(e);
    const dry = await bulk(e, 'approve', { workflow: 'orders', status: 'WAITING' }, { task: 'review', dryRun: true });
    expect(dry).toMatchObject({ action: 'approve', matched: 4, already: [] });
    expect(Object.values(dry.tasks as Record<string, string[]>)).toEqual([
      ['review'],
      ['review'],
      ['review'],
      ['review'],
    ]);
    expect(await changedSince(e, before)).toEqual({ changed: [], added: [] }); // a dry run changes nothing
    const approved = await bulk(
      e,
      'approve',
      { workflow: 'orders', status: 'WAITING' },
      { task: 'review', by: 'alice', reason: 'batch ok' },
    );
    expect((approved.approved as string[]).sort()).toEqual(sorted('orders:WAITING', 'orders:PAUSED'));
    expect(await changedSince(e, before)).toEqual({ changed: sorted('orders:WAITING', 'orders:PAUSED'), added: [] });
    for (const id of runs['orders:WAITING']!) {
      const decided = (await e.events(id)).find((ev) => ev.type === 'approval.recorded');
      expect(decided?.data).toMatchObject({ task: 'review', by: 'alice' });
      expect((await e.status(id)).tasks.review!.status).toBe('COMPLETED');
      expect((await e.status(id)).tasks.sign!.status).toBe('PENDING_APPROVAL');
    }
    // Again: review is decided, so nothing waits on it: all counted as already, nothing recorded.
    before = await lengths(e);
    expect(
      await bulk(e, 'approve', { workflow: 'orders', status: 'WAITING' }, { task: 'review', by: 'alice' }),
    ).toMatchObject({ approved: [], refused: [] });
    expect(await changedSince(e, before)).toEqual({ changed: [], added: [] });

    // retry: billing's FAILED runs only (not its CANCELLED run, not orders' or intake's cancelled runs).
    before = await lengths(e);
    const retried = await bulk(e, 'retry', { workflow: 'billing', status: 'FAILED' }, { by: 'ops-lead' });
    expect((retried.retried as string[]).sort()).toEqual(sorted('billing:FAILED'));
    const started = retried.started as Array<{ runId: string; retryOf: string }>;
    expect(started.map((s) => s.runId).sort()).toEqual(sorted('billing:FAILED').map((id) => `${id}-retry`));
    expect(await changedSince(e, before)).toEqual({ changed: [], added: started.map((s) => s.runId).sort() });
    for (const s of started) {
      const first = (await e.events(s.runId))[0]!;
      expect((first.data as { source?: { retryOf?: { runId: string }; by?: string } }).source).toMatchObject({
        retryOf: { runId: s.retryOf },
        by: 'ops-lead',
      });
    }
    // Idempotent: each FAILED run has its retry run now: counted as already, nothing started.
    before = await lengths(e);
    const again = await bulk(e, 'retry', { workflow: 'billing', status: 'FAILED' }, { by: 'ops-lead' });
    expect(again).toMatchObject({ retried: [], started: [], refused: [] });
    expect((again.already as string[]).sort()).toEqual(sorted('billing:FAILED'));
    expect(await changedSince(e, before)).toEqual({ changed: [], added: [] });

    // cancel: intake's runs only; its cancelled run counted as already.
    before = await lengths(e);
    const cancelled = await bulk(e, 'cancel', { workflow: 'intake' }, { by: 'ops-lead', reason: 'wrong batch' });
    expect((cancelled.cancelled as string[]).sort()).toEqual(sorted('intake:WAITING', 'intake:PAUSED'));
    expect(cancelled.already).toEqual(runs['intake:CANCELLED']);
    expect(await changedSince(e, before)).toEqual({ changed: sorted('intake:WAITING', 'intake:PAUSED'), added: [] });
  }, 60_000);

  it('two bulk retries at once start each retry run once (<id>-retry)', async () => {
    const { engine: e } = engine();
    const runs = await mixedStore(e);
    const before = await lengths(e);
    await Promise.all([
      bulk(e, 'retry', { workflow: 'billing' }, { by: 'a' }),
      bulk(e, 'retry', { workflow: 'billing' }, { by: 'b' }),
    ]);
    const { changed, added } = await changedSince(e, before);
    expect(changed).toEqual([]);
    expect(added).toEqual(
      [...runs['billing:FAILED']!, ...runs['billing:CANCELLED']!].map((id) => `${id}-retry`).sort(),
    );
  }, 60_000);

  it('a filter that matches nothing answers count 0; an unknown field or a bad value is refused naming it', async () => {
    const { engine: e } = engine();
    await mixedStore(e);
    const before = await lengths(e);
    expect(await bulk(e, 'cancel', { workflow: 'nowhere' }, { by: 'x' })).toEqual({
      action: 'cancel',
      matched: 0,
      cancelled: [],
      already: [],
      refused: [],
    });
    expect(await bulk(e, 'retry', { workflow: 'nowhere' }, { dryRun: true })).toEqual({
      action: 'retry',
      matched: 0,
      would: [],
      already: [],
    });
    await expect(bulk(e, 'cancel', { bogus: 'x' } as never)).rejects.toThrow(QueryError);
    await expect(bulk(e, 'cancel', { bogus: 'x' } as never)).rejects.toThrow(/bogus/);
    await expect(bulk(e, 'cancel', { status: 'SLEEPING' })).rejects.toThrow(/status/);
    expect(await changedSince(e, before)).toEqual({ changed: [], added: [] });
  }, 60_000);

  it('a level that may not control runs is refused before any run is touched; an approval is judged per task', async () => {
    const { engine: e } = engine();
    const runs = await mixedStore(e);
    const before = await lengths(e);
    await expect(bulk(e, 'cancel', { workflow: 'orders' }, { by: 'viewer', level: 'L3' })).rejects.toThrow(/L1/);
    expect(await changedSince(e, before)).toEqual({ changed: [], added: [] });
    // An L0 person may approve a task of agent_level L0 (the default): taken.
    const ok = await bulk(
      e,
      'approve',
      { workflow: 'intake', status: 'WAITING' },
      { by: 'clerk', level: 'L0', task: 'review' },
    );
    expect((ok.approved as string[]).sort(), JSON.stringify(ok)).toEqual([...runs['intake:WAITING']!].sort());
  }, 60_000);
});
