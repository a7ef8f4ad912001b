/**
 * docs/retention.md, what a crash does, on NATS: a `restore` ends by deleting the run's `in.<period>.<runId>` marker
 * (what `archive list` counts) and then its entry. Killed between the two, the next call's recovery leaves the run
 * archived, so `archive list` must count it again; killed after both, the run is live and counted nowhere. Found by
 * the chaos test (nats-chaos.test.ts: 118 of 120 runs counted after a restore killed there).
 */
import { Bucket } from '@nats-io/kv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { noNats, uniqueId, useCluster } from '../helpers/cluster.js';
import { INVOICE_YAML } from './docs-scenario.js';
import { natsFullPass } from './full-pass.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe.skipIf(noNats)('a restore killed as it ends (NATS)', () => {
  const c = useCluster();
  const { definition } = parseDefinition(INVOICE_YAML, 'invoice.yaml');

  it('between deleting the marker and the entry: still archived and counted; done: live and counted nowhere', async () => {
    const names = { stream: uniqueId('LF_RESTORE_'), subjectPrefix: `restore.${uniqueId('r')}` };
    const open = () => new JetStreamEventStore({ servers: c.url, ...names });
    const store = open();
    c.defer(() => store.close());
    const engine = new Engine({ store });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await engine.run(definition!, { amount: i }, { handlers: {} })).runId);
    const before = new Map(await Promise.all(ids.map(async (id) => [id, await store.read(id)] as const)));
    const moved = await store.archive().archive(await store.listRuns(), new Date());
    expect(moved.map((r) => r.runId).sort()).toEqual([...ids].sort());
    const counted = async (s: JetStreamEventStore) => (await s.archive().periods()).reduce((n, p) => n + p.runs, 0);
    expect(await counted(store)).toBe(2);

    // The process dies as it deletes the entry, its marker already gone.
    const real = Bucket.prototype.delete;
    vi.spyOn(Bucket.prototype, 'delete').mockImplementation(function (this: Bucket, key, opts) {
      if (key === `run.${ids[0]}`) return Promise.reject(new Error('killed'));
      return real.call(this, key, opts);
    });
    const dying = open();
    await expect(dying.archive().restore(ids[0]!)).rejects.toThrow('killed');
    await dying.close();
    vi.restoreAllMocks();

    const next = open();
    c.defer(() => next.close());
    await next.archive().recover();
    expect(await next.archive().find(ids[0]!)).not.toBeNull();
    expect(await next.read(ids[0]!)).toEqual(before.get(ids[0]!));
    expect((await next.listRuns()).map((r) => r.runId)).toEqual([]);
    expect(await next.archive().periods()).toEqual(await natsFullPass(await next.connection()));
    expect(await counted(next)).toBe(2);

    // Restored whole this time: live, and counted nowhere.
    await next.archive().restore(ids[0]!);
    expect((await next.listRuns()).map((r) => r.runId)).toEqual([ids[0]]);
    expect(await next.read(ids[0]!)).toEqual(before.get(ids[0]!));
    expect(await counted(next)).toBe(1);
    expect(await next.archive().periods()).toEqual(await natsFullPass(await next.connection()));
  }, 60_000);
});
