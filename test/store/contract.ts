/**
 * The EventStore contract (the same semantics on every store): every adapter — memory, file,
 * JetStream — runs this same suite. It uses only the port, fresh run ids and
 * workflow ids per test, and waits for follow() deliveries instead of
 * assuming their timing, so it holds for stores that poll or stream.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { AppendConflictError, StoreError } from '../../src/errors/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import type { EventStore } from '../../src/store/index.js';
import { waitFor } from '../helpers/wait.js';
import { ev, evs, outcome } from './helpers.js';

export type MakeStore = () => Promise<{ store: EventStore; cleanup: () => Promise<void> }>;

const uid = (p: string) => `${p}-${randomBytes(5).toString('hex')}`;

export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('appends to a new run with expectedSeq 0 and reads it back', async () => {
      const run = uid('run');
      const e1 = ev(run, 1);
      expect(outcome(await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: [e1] }))).toEqual({
        firstSeq: 1,
        lastSeq: 1,
        duplicate: false,
      });
      expect(await store.read(run)).toEqual([e1]);
      expect(await store.lastSeq(run)).toBe(1);
    });

    it('appends consecutive commits', async () => {
      const run = uid('run');
      for (let s = 1; s <= 5; s++) {
        const r = await store.append({ runId: run, expectedSeq: s - 1, dedupId: uid('d'), events: [ev(run, s)] });
        expect(outcome(r)).toEqual({ firstSeq: s, lastSeq: s, duplicate: false });
      }
      expect((await store.read(run)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    });

    it('gives a multi-event commit consecutive seqs', async () => {
      const run = uid('run');
      expect(
        outcome(await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 3) })),
      ).toEqual({ firstSeq: 1, lastSeq: 3, duplicate: false });
      expect(
        outcome(await store.append({ runId: run, expectedSeq: 3, dedupId: uid('d'), events: evs(run, 4, 5) })),
      ).toEqual({ firstSeq: 4, lastSeq: 5, duplicate: false });
      expect(await store.read(run)).toEqual(evs(run, 1, 5));
    });

    it('rejects a wrong expectedSeq with AppendConflictError and writes nothing', async () => {
      const run = uid('run');
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 2) });
      for (const expectedSeq of [0, 1, 5]) {
        const err = await store
          .append({ runId: run, expectedSeq, dedupId: uid('d'), events: [ev(run, expectedSeq + 1)] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AppendConflictError);
        expect((err as AppendConflictError).code).toBe('LF_APPEND_CONFLICT');
        expect((err as AppendConflictError).meta).toEqual({ runId: run, expectedSeq, actualSeq: 2 });
      }
      expect(await store.read(run)).toEqual(evs(run, 1, 2));
      expect(await store.lastSeq(run)).toBe(2);
    });

    it('rejects expectedSeq > 0 on a run that does not exist', async () => {
      const run = uid('run');
      const err = await store
        .append({ runId: run, expectedSeq: 3, dedupId: uid('d'), events: [ev(run, 4)] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppendConflictError);
      expect((err as AppendConflictError).meta).toMatchObject({ expectedSeq: 3, actualSeq: 0 });
      expect(await store.read(run)).toEqual([]);
    });

    it('writes a retried dedupId once and returns the original seqs, even when expectedSeq is stale', async () => {
      const run = uid('run');
      const d1 = uid('d');
      const first = { runId: run, expectedSeq: 0, dedupId: d1, events: evs(run, 1, 2) };
      expect(outcome(await store.append(first))).toEqual({ firstSeq: 1, lastSeq: 2, duplicate: false });
      expect(outcome(await store.append(first))).toEqual({ firstSeq: 1, lastSeq: 2, duplicate: true });
      await store.append({ runId: run, expectedSeq: 2, dedupId: uid('d'), events: [ev(run, 3)] });
      // expectedSeq 0 is stale now: the retry still reports success, not a conflict.
      expect(outcome(await store.append(first))).toEqual({ firstSeq: 1, lastSeq: 2, duplicate: true });
      expect((await store.read(run)).map((e) => e.seq)).toEqual([1, 2, 3]);
    });

    it('gives a duplicate the position of its original, and a read from any position it gave returns what a read from the start does', async () => {
      const run = uid('run');
      const a = await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 2) });
      const req = { runId: run, expectedSeq: 2, dedupId: uid('d'), events: evs(run, 3, 4) };
      const b = await store.append(req);
      expect((await store.append(req)).position).toBe(b.position);
      await store.append({ runId: run, expectedSeq: 4, dedupId: uid('d'), events: [ev(run, 5)] });
      for (const [fromSeq, position] of [
        [1, a.position],
        [3, b.position],
        [4, b.position],
        [5, b.position],
      ] as const) {
        expect(
          await store.read(run, { fromSeq, ...(position !== undefined ? { fromPosition: position } : {}) }),
        ).toEqual(await store.read(run, { fromSeq }));
      }
    });

    it('reads a range with fromSeq / toSeq', async () => {
      const run = uid('run');
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 4) });
      await store.append({ runId: run, expectedSeq: 4, dedupId: uid('d'), events: evs(run, 5, 6) });
      const seqs = async (o: { fromSeq?: number; toSeq?: number }) => (await store.read(run, o)).map((e) => e.seq);
      expect(await seqs({ fromSeq: 3 })).toEqual([3, 4, 5, 6]);
      expect(await seqs({ toSeq: 2 })).toEqual([1, 2]);
      expect(await seqs({ fromSeq: 4, toSeq: 5 })).toEqual([4, 5]);
      expect(await seqs({ fromSeq: 7 })).toEqual([]);
      expect(await seqs({})).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('reads [] and lastSeq 0 for an unknown run', async () => {
      const run = uid('nope');
      expect(await store.read(run)).toEqual([]);
      expect(await store.lastSeq(run)).toBe(0);
    });

    it('hands out copies: changing what read returns does not change the history', async () => {
      const run = uid('run');
      const events = evs(run, 1, 2);
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events });
      events[0]!.time = 'mutated after append';
      const got = await store.read(run);
      got[1]!.state.status = 'FAILED';
      expect(await store.read(run)).toEqual(evs(run, 1, 2));
    });

    it('rejects malformed appends with StoreError and writes nothing', async () => {
      const run = uid('run');
      const other = uid('run');
      const bad: { why: string; req: Parameters<EventStore['append']>[0] }[] = [
        { why: 'seq gap', req: { runId: run, expectedSeq: 0, dedupId: uid('d'), events: [ev(run, 1), ev(run, 3)] } },
        {
          why: 'seq not after expectedSeq',
          req: { runId: run, expectedSeq: 0, dedupId: uid('d'), events: [ev(run, 2)] },
        },
        { why: 'other run', req: { runId: run, expectedSeq: 0, dedupId: uid('d'), events: [ev(other, 1)] } },
        { why: 'no events', req: { runId: run, expectedSeq: 0, dedupId: uid('d'), events: [] } },
        { why: 'empty dedupId', req: { runId: run, expectedSeq: 0, dedupId: '', events: [ev(run, 1)] } },
        {
          why: 'invalid envelope',
          req: {
            runId: run,
            expectedSeq: 0,
            dedupId: uid('d'),
            events: [{ ...ev(run, 1), state: { status: 'NOPE' } } as unknown as EventEnvelope],
          },
        },
        { why: 'unsafe run id', req: { runId: '../x', expectedSeq: 0, dedupId: uid('d'), events: [ev('../x', 1)] } },
      ];
      for (const { why, req } of bad) {
        await expect(store.append(req), why).rejects.toBeInstanceOf(StoreError);
      }
      expect(await store.read(run)).toEqual([]);
      await expect(store.read('a/b')).rejects.toBeInstanceOf(StoreError);
    });

    it('lists runs with status and workflow filters, completedAt and order', async () => {
      const wfA = uid('alpha');
      const wfB = uid('beta');
      const t = (m: number) => new Date(Date.UTC(2026, 2, 1, 10, m)).toISOString();
      const [r1, r2, r3, r4] = ['a', 'b', 'c', 'd'].map((p) => uid(p)) as [string, string, string, string];
      // r1: running; r2: completed; r3: failed, started first; r4 starts with r2 (tie broken by runId).
      await store.append({
        runId: r1,
        expectedSeq: 0,
        dedupId: uid('d'),
        events: [ev(r1, 1, { workflowId: wfA, version: 2, time: t(5) })],
      });
      await store.append({
        runId: r1,
        expectedSeq: 1,
        dedupId: uid('d'),
        events: [ev(r1, 2, { workflowId: wfA, version: 2, time: t(6), status: 'WAITING' })],
      });
      await store.append({
        runId: r2,
        expectedSeq: 0,
        dedupId: uid('d'),
        events: [ev(r2, 1, { workflowId: wfB, time: t(3) })],
      });
      await store.append({
        runId: r2,
        expectedSeq: 1,
        dedupId: uid('d'),
        events: evs(r2, 2, 3, { workflowId: wfB, time: t(9), status: 'COMPLETED' }),
      });
      await store.append({
        runId: r3,
        expectedSeq: 0,
        dedupId: uid('d'),
        events: [
          ev(r3, 1, { workflowId: wfA, time: t(1) }),
          ev(r3, 2, { workflowId: wfA, time: t(2), status: 'FAILED' }),
        ],
      });
      await store.append({
        runId: r4,
        expectedSeq: 0,
        dedupId: uid('d'),
        events: [ev(r4, 1, { workflowId: wfB, time: t(3), status: 'CANCELLED' })],
      });

      const all = await store.listRuns();
      const ours = all.filter((r) => [r1, r2, r3, r4].includes(r.runId));
      const r2r4 = [r2, r4].sort();
      expect(ours.map((r) => r.runId)).toEqual([r3, ...r2r4, r1]);
      expect(ours.find((r) => r.runId === r1)).toEqual({
        runId: r1,
        workflowId: wfA,
        version: 2,
        status: 'WAITING',
        startedAt: t(5),
        completedAt: null,
        lastSeq: 2,
      });
      expect(ours.find((r) => r.runId === r2)).toEqual({
        runId: r2,
        workflowId: wfB,
        version: 1,
        status: 'COMPLETED',
        startedAt: t(3),
        completedAt: t(9),
        lastSeq: 3,
      });
      expect(ours.find((r) => r.runId === r3)).toMatchObject({ status: 'FAILED', completedAt: t(2), lastSeq: 2 });
      expect(ours.find((r) => r.runId === r4)).toMatchObject({ status: 'CANCELLED', completedAt: t(3), lastSeq: 1 });

      expect((await store.listRuns({ workflowId: wfA })).map((r) => r.runId)).toEqual([r3, r1]);
      expect((await store.listRuns({ workflowId: wfB, status: 'COMPLETED' })).map((r) => r.runId)).toEqual([r2]);
      expect(await store.listRuns({ workflowId: wfA, status: 'COMPLETED' })).toEqual([]);
      expect((await store.listRuns({ status: 'FAILED' })).map((r) => r.runId)).toContain(r3);
      expect((await store.listRuns({ status: 'FAILED' })).every((r) => r.status === 'FAILED')).toBe(true);
    });

    it('readAll gives every run once, whole and in order, with a workflow filter, and stops where the caller stops', async () => {
      const wfA = uid('alpha');
      const wfB = uid('beta');
      const runs = ['a', 'b', 'c', 'd', 'e'].map((p) => uid(p));
      // Commits of different runs interleaved, as engines write them.
      for (let round = 0; round < 3; round++) {
        for (const [i, run] of runs.entries()) {
          if (round > i) continue; // runs of 1, 2 and 3 commits
          await store.append({
            runId: run,
            expectedSeq: 2 * round,
            dedupId: uid('d'),
            events: evs(run, 2 * round + 1, 2 * round + 2, { workflowId: i % 2 === 0 ? wfA : wfB }),
          });
        }
      }
      const collect = async (filter?: { workflowId?: string }) => {
        const got = new Map<string, EventEnvelope[]>();
        for await (const r of store.readAll(filter)) {
          expect(got.has(r.runId), `${r.runId} given twice`).toBe(false);
          got.set(r.runId, r.events);
        }
        return got;
      };
      const all = await collect();
      for (const run of runs) expect(all.get(run), run).toEqual(await store.read(run));
      const onlyA = await collect({ workflowId: wfA });
      expect([...onlyA.keys()].sort()).toEqual([runs[0], runs[2], runs[4]].sort());
      expect(onlyA.get(runs[2]!)).toEqual(await store.read(runs[2]!));
      expect((await collect({ workflowId: uid('nobody') })).size).toBe(0);
      expect((await collect({ workflowId: 'not a token' })).size).toBe(0);
      // A caller may stop early; the store stays usable.
      for await (const r of store.readAll({ workflowId: wfB })) {
        expect(r.events.length).toBeGreaterThan(0);
        break;
      }
      expect(await store.read(runs[1]!)).toHaveLength(4);
    });

    it('follow delivers events appended later, not earlier ones, and stops on close', async () => {
      const run = uid('run');
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 2) });
      const got: EventEnvelope[] = [];
      const sub = store.follow(run, 2, (batch) => got.push(...batch));
      await store.append({ runId: run, expectedSeq: 2, dedupId: uid('d'), events: [ev(run, 3)] });
      await store.append({ runId: run, expectedSeq: 3, dedupId: uid('d'), events: evs(run, 4, 5) });
      await waitFor('follow to deliver seqs 3..5', () => got.length >= 3);
      expect(got).toEqual(evs(run, 3, 5));
      // A follower left open is the witness: once it has seq 6, the store has delivered seq 6 to its
      // followers, and the closed one would have had it by then too.
      const witnessed: number[] = [];
      const witness = store.follow(run, 5, (batch) => witnessed.push(...batch.map((e) => e.seq)));
      sub.close();
      await store.append({ runId: run, expectedSeq: 5, dedupId: uid('d'), events: [ev(run, 6)] });
      await waitFor('the open follower to get seq 6', () => witnessed.includes(6));
      witness.close();
      expect(got.map((e) => e.seq)).toEqual([3, 4, 5]);
    });

    it('follow catches up from afterSeq, then delivers each event once and in order', async () => {
      const run = uid('run');
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 3) });
      const got: number[] = [];
      const sub = store.follow(run, 1, (batch) => got.push(...batch.map((e) => e.seq)));
      for (let s = 4; s <= 12; s++)
        await store.append({ runId: run, expectedSeq: s - 1, dedupId: uid('d'), events: [ev(run, s)] });
      await waitFor('follow to deliver seqs 2..12', () => got.length >= 11);
      // Delivery is in order: once seq 13, appended after all the others, has come, a repeat of any of them would have come before it.
      await store.append({ runId: run, expectedSeq: 12, dedupId: uid('d'), events: [ev(run, 13)] });
      await waitFor('follow to deliver seq 13', () => got.includes(13));
      sub.close();
      expect(got).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    });

    it('follow of a run that does not exist yet delivers it once it is created', async () => {
      const run = uid('run');
      const other = uid('run');
      await store.append({ runId: other, expectedSeq: 0, dedupId: uid('d'), events: [ev(other, 1)] });
      const got: number[] = [];
      const sub = store.follow(run, 0, (batch) => got.push(...batch.map((e) => e.seq)));
      // The port does not say when a follower is live. One opened right after it, on a run that exists,
      // delivering shows that followers opened then are: the run is created after this one looked.
      const witnessed: number[] = [];
      const witness = store.follow(other, 0, (batch) => witnessed.push(...batch.map((e) => e.seq)));
      await waitFor('a follower opened with it to be live', () => witnessed.includes(1));
      witness.close();
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: evs(run, 1, 2) });
      await waitFor('follow to deliver seqs 1..2', () => got.length >= 2);
      sub.close();
      expect(got).toEqual([1, 2]);
    });

    it('lets exactly one of 10 racing appends with the same expectedSeq win', async () => {
      const run = uid('run');
      await store.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: [ev(run, 1)] });
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.append({ runId: run, expectedSeq: 1, dedupId: uid(`racer${i}`), events: [ev(run, 2)] }),
        ),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(9);
      for (const l of lost) expect(l.reason).toBeInstanceOf(AppendConflictError);
      expect(await store.lastSeq(run)).toBe(2);
      expect((await store.read(run)).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('keeps runs independent when appending to several at once', async () => {
      const runs = Array.from({ length: 5 }, () => uid('run'));
      await Promise.all(
        runs.map(async (run) => {
          for (let s = 1; s <= 4; s++)
            await store.append({ runId: run, expectedSeq: s - 1, dedupId: uid('d'), events: [ev(run, s)] });
        }),
      );
      for (const run of runs) expect(await store.read(run)).toEqual(evs(run, 1, 4));
    });

    it('updateShared: 20 racing changes of one document each see the one before (none lost); a name that is no token is refused', async () => {
      expect(store.updateShared).toBeTypeOf('function');
      const name = uid('doc');
      const bump = () =>
        store.updateShared!(name, (doc) => {
          const n = ((doc as { n?: number } | null)?.n ?? 0) + 1;
          return { doc: { n }, result: n };
        });
      const results = await Promise.all(Array.from({ length: 20 }, bump));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await store.updateShared!(name, (doc) => ({ doc, result: doc }))).toEqual({ n: 20 });
      await expect(store.updateShared!('../escape', (doc) => ({ doc, result: 0 }))).rejects.toBeInstanceOf(StoreError);
    });

    it('readShared: the document as last changed, without changing it; null when there is none; a name that is no token is refused', async () => {
      expect(store.readShared).toBeTypeOf('function');
      const name = uid('doc');
      expect(await store.readShared!(name)).toBeNull();
      await store.updateShared!(name, () => ({ doc: { limits: [1, 2] }, result: null }));
      expect(await store.readShared!(name)).toEqual({ limits: [1, 2] });
      expect(await store.updateShared!(name, (doc) => ({ doc, result: doc }))).toEqual({ limits: [1, 2] });
      await expect(store.readShared!('../escape')).rejects.toBeInstanceOf(StoreError);
    });
  });
}
