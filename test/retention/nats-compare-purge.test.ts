/**
 * The archive's purge on NATS as a compare-and-purge (store/jetstream/compare-purge.ts), on a real nats-server: a commit
 * another process appends after the move read the run keeps the run live and whole, never half purged; a move killed
 * after its marker, before or after it deleted the run's messages, is finished by recovery; a writer that comes after
 * the marker is told it lost and then reads the archived run; every reader passes the marker by; the commits of other
 * runs that the run index's consumer had not taken yet stay for it (a purge or rollup of the subject moved it past them
 * on nats-server 2.9); LF_EVENTS allows rollups, made new or made before.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { AppendConflictError, RunArchivedError } from '../../src/errors/index.js';
import { Engine } from '../../src/local/index.js';
import { openRunIndex, startRunIndexProjection } from '../../src/query/index.js';
import { RUNS_INDEX_CONSUMER } from '../../src/query/jetstream-bucket.js';
import { replayRun } from '../../src/runtime/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { RunPurger } from '../../src/store/jetstream/compare-purge.js';
import { isArchiveMarker, runSubject } from '../../src/store/jetstream/codec.js';
import { noNats, uniqueId, useCluster } from '../helpers/cluster.js';
import { INVOICE_YAML } from './docs-scenario.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The next event of a settled run as a late writer would append it (a task restarted: the run is RUNNING again). */
function lateEvent(last: EventEnvelope): EventEnvelope {
  return {
    runId: last.runId,
    workflowId: last.workflowId,
    version: last.version,
    seq: last.seq + 1,
    time: new Date(Date.parse(last.time) + 1000).toISOString(),
    state: { status: 'RUNNING', hash: 'late' },
    type: 'task.started',
    data: { task: 'late', attempt: 1 },
  } as EventEnvelope;
}

// On one server, and on three with the log replicated (where nats-server checks an expectation before replicating).
describe.skipIf(noNats).each([
  { server: 'own', replicas: 1 },
  { server: 'three-nodes', replicas: 3 },
] as const)(
  'the archive purges a run only while it ends where the move read it (NATS, $server)',
  ({ server, replicas }) => {
    const c = useCluster({ server });
    const { definition } = parseDefinition(INVOICE_YAML, 'invoice.yaml');
    /** What one server shows as well as three. */
    const oneServer = it.skipIf(replicas > 1);

    /** A fresh stream per test (own name and subjects), a settled run on it, and its history. */
    async function settledRun() {
      const names = { stream: uniqueId('LF_PURGE_'), subjectPrefix: `purge.${uniqueId('p')}`, replicas };
      const open = () => new JetStreamEventStore({ servers: c.url, ...names });
      const store = open();
      const { runId } = await new Engine({ store }).run(definition!, { amount: 1 }, { handlers: {} });
      const history = await store.read(runId);
      const subject = runSubject(names.subjectPrefix, history[0]!.workflowId, runId);
      c.defer(() => store.close());
      return { names, open, store, runId, history, subject };
    }

    /**
     * The store's listing once it holds the run. (A listing's consumer may be placed on a replica a moment behind: on
     * three loaded nodes it once listed none.)
     */
    const listingHolding = (store: JetStreamEventStore, runId: string) =>
      vi.waitFor(
        async () => {
          const runs = await store.listRuns();
          expect(runs.map((r) => r.runId)).toContain(runId);
          return runs;
        },
        { timeout: 10_000 },
      );

    /** The messages on a subject now: how many, and whether the last is a marker. */
    async function onSubject(stream: string, subject: string): Promise<{ count: number; lastIsMarker: boolean }> {
      const jsm = await c.jsm();
      const info = await jsm.streams.info(stream, { subjects_filter: subject });
      const count = info.state.subjects?.[subject] ?? 0;
      if (count === 0) return { count, lastIsMarker: false };
      const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
      return { count, lastIsMarker: isArchiveMarker(last!.data) };
    }

    // The race made deterministic at two moments: as soon as the move has read the run (before anything is written), and
    // the last one, just before the purge's request is sent (a check made before it could not see this commit).
    for (const when of ['after the move read the run', 'just before the purge request'] as const) {
      it(`a commit another process appends ${when} keeps the run live and whole: no archive entry, nothing purged`, async () => {
        const { store, open, runId, history, names, subject } = await settledRun();
        const writer = open(); // another process
        c.defer(() => writer.close());
        const messages = (await onSubject(names.stream, subject)).count;
        const late = lateEvent(history.at(-1)!);
        const appendLate = () => writer.append({ runId, expectedSeq: history.length, dedupId: 'late', events: [late] });
        if (when === 'just before the purge request') {
          const mark = RunPurger.prototype.mark;
          vi.spyOn(RunPurger.prototype, 'mark').mockImplementationOnce(async function (this: RunPurger, ...args) {
            await appendLate();
            return mark.apply(this, args);
          });
        }
        const moved = await store.archive().archive(await store.listRuns(), new Date(), {
          attachments: async (_id, events) => {
            expect(events).toEqual(history);
            if (when === 'after the move read the run') await appendLate();
            return undefined;
          },
        });
        expect(moved).toEqual([]);
        const reader = open();
        c.defer(() => reader.close());
        expect(await reader.archive().find(runId)).toBeNull();
        expect(await reader.read(runId)).toEqual([...history, late]);
        expect(await reader.listRuns()).toEqual([
          expect.objectContaining({ runId, status: 'RUNNING', lastSeq: history.length + 1 }),
        ]);
        expect(await onSubject(names.stream, subject)).toEqual({ count: messages + 1, lastIsMarker: false });
        // The next round, with the run settled again, moves it whole.
        const done = { ...lateEvent(late), state: { status: 'COMPLETED', hash: 'done' } } as EventEnvelope;
        await writer.append({ runId, expectedSeq: late.seq, dedupId: 'done', events: [done] });
        // (A listing's consumer may be placed on a replica a moment behind: the listing that shows the run settled is
        // the one archived; a second listing, on another replica, once showed it RUNNING still and moved nothing.)
        const settled = await vi.waitFor(
          async () => {
            const runs = await reader.listRuns();
            expect(runs[0]?.status).toBe('COMPLETED');
            return runs;
          },
          { timeout: 10_000 },
        );
        const again = await reader.archive().archive(settled, new Date());
        expect(again.map((r) => r.runId)).toEqual([runId]);
        expect(await reader.read(runId)).toEqual([...history, late, done]);
        expect(await onSubject(names.stream, subject)).toEqual({ count: 0, lastIsMarker: false });
      });
    }

    it('a move killed after it deleted the run messages, before the marker: readers pass the marker by, recovery finishes the move', async () => {
      const { store, open, runId, history, names, subject } = await settledRun();
      const drop = vi.spyOn(RunPurger.prototype, 'dropMarker').mockRejectedValueOnce(new Error('killed'));
      const listed = await listingHolding(store, runId);
      await expect(store.archive().archive(listed, new Date())).rejects.toThrow('killed');
      expect(drop).toHaveBeenCalledTimes(1);
      // The run's messages were replaced by the marker, which is still there.
      expect(await onSubject(names.stream, subject)).toEqual({ count: 1, lastIsMarker: true });

      const reader = open(); // a process that comes after the kill, before any recovery
      c.defer(() => reader.close());
      expect(await reader.read(runId)).toEqual(history); // from the archive
      expect(replayRun(await reader.read(runId)).divergence).toBeNull(); // the marker is no event: replay as ever
      expect(await reader.lastSeq(runId)).toBe(0);
      expect(await reader.listRuns()).toEqual([]);
      const all: string[] = [];
      for await (const r of reader.readAll()) all.push(r.runId);
      expect(all).toEqual([]);
      // A writer with the run's old end (the mover's store has it cached; a new one looks it up): the server refuses the
      // first, the second finds nothing live; both are told the run was archived (not a conflict to retry on: the commit
      // loop passes it through at once), and what they read again is the archived run.
      const late = lateEvent(history.at(-1)!);
      for (const writer of [store, reader]) {
        const lost = await writer
          .append({ runId, expectedSeq: history.length, dedupId: 'late', events: [late] })
          .catch((e: unknown) => e);
        expect(lost).toBeInstanceOf(RunArchivedError);
        expect(lost).not.toBeInstanceOf(AppendConflictError);
        expect(lost).toMatchObject({ code: 'LF_RUN_ARCHIVED', meta: { runId, expectedSeq: history.length } });
        expect(await writer.read(runId)).toEqual(history);
      }
      expect(await onSubject(names.stream, subject)).toEqual({ count: 1, lastIsMarker: true });
      expect(await reader.archive().find(runId)).toMatchObject({ runId, lastSeq: history.length });

      // Recovery, first thing of the next call: the marker goes, the run stays archived and reads as before.
      await open().archive().recover();
      expect(await onSubject(names.stream, subject)).toEqual({ count: 0, lastIsMarker: false });
      expect(await reader.archive().find(runId)).toMatchObject({ runId });
      expect(await reader.read(runId)).toEqual(history);
      // And it comes back whole.
      await reader.archive().restore(runId);
      expect(await reader.read(runId)).toEqual(history);
      expect(await reader.listRuns()).toEqual([expect.objectContaining({ runId, lastSeq: history.length })]);
    });

    it('a move killed after its marker, before it deleted the run messages: the run reads archived, recovery finishes the move', async () => {
      const { store, open, runId, history, names, subject } = await settledRun();
      const messages = (await onSubject(names.stream, subject)).count;
      const clear = vi
        .spyOn(RunPurger.prototype as unknown as { clearUpTo(): Promise<void> }, 'clearUpTo')
        .mockRejectedValueOnce(new Error('killed'));
      const listed = await listingHolding(store, runId);
      await expect(store.archive().archive(listed, new Date())).rejects.toThrow('killed');
      expect(clear).toHaveBeenCalledTimes(1);
      // Every message of the run is still there, the marker after them.
      expect(await onSubject(names.stream, subject)).toEqual({ count: messages + 1, lastIsMarker: true });
      const reader = open();
      c.defer(() => reader.close());
      expect(await reader.read(runId)).toEqual(history); // from the archive: nothing of the run is live
      expect(await reader.lastSeq(runId)).toBe(0);
      expect(await reader.listRuns()).toEqual([]);
      const all: string[] = [];
      for await (const r of reader.readAll()) all.push(r.runId);
      expect(all).toEqual([]);
      await open().archive().recover();
      expect(await onSubject(names.stream, subject)).toEqual({ count: 0, lastIsMarker: false });
      expect(await reader.read(runId)).toEqual(history);
      expect(await reader.archive().find(runId)).toMatchObject({ runId, lastSeq: history.length });
    });

    it('a move killed half way through deleting the run messages: what is left reads archived, recovery finishes the move', async () => {
      const { store, open, runId, history: first, names, subject } = await settledRun();
      // Three commits: the run, a task started again, settled again.
      const late = lateEvent(first.at(-1)!);
      const done = { ...lateEvent(late), state: { status: 'COMPLETED', hash: 'done' } } as EventEnvelope;
      await store.append({ runId, expectedSeq: first.length, dedupId: 'late', events: [late] });
      await store.append({ runId, expectedSeq: late.seq, dedupId: 'done', events: [done] });
      const history = [...first, late, done];
      const messages = (await onSubject(names.stream, subject)).count;
      expect(messages).toBe(3);
      type Dropping = { dropMessage(...args: unknown[]): Promise<void> };
      const proto = RunPurger.prototype as unknown as Dropping;
      const real = proto.dropMessage;
      vi.spyOn(proto, 'dropMessage')
        .mockImplementationOnce(function (this: Dropping, ...args) {
          return real.apply(this, args);
        })
        .mockRejectedValueOnce(new Error('killed'));
      const listed = await vi.waitFor(
        async () => {
          const runs = await store.listRuns();
          expect(runs[0]).toMatchObject({ runId, status: 'COMPLETED', lastSeq: done.seq });
          return runs;
        },
        { timeout: 10_000 },
      );
      await expect(store.archive().archive(listed, new Date())).rejects.toThrow('killed');
      // The run's first message is gone, the rest and the marker are there: a log that starts at a gap.
      expect(await onSubject(names.stream, subject)).toEqual({ count: messages, lastIsMarker: true });
      const reader = open();
      c.defer(() => reader.close());
      expect(await reader.read(runId)).toEqual(history); // from the archive, never the live log's gap
      expect(await reader.listRuns()).toEqual([]);
      await open().archive().recover();
      expect(await onSubject(names.stream, subject)).toEqual({ count: 0, lastIsMarker: false });
      expect(await reader.read(runId)).toEqual(history);
    });

    oneServer(
      "the run index's consumer keeps the commits of other runs it had not taken: they are indexed once an engine pulls",
      async () => {
        const { store, open, runId } = await settledRun();
        // The index's consumer made (an engine ran once), then runs stored while no engine pulls it.
        await startRunIndexProjection({ store }).then((p) => p.stop());
        const others: string[] = [];
        for (let i = 0; i < 3; i++)
          others.push((await new Engine({ store }).run(definition!, { amount: i }, { handlers: {} })).runId);
        const consumer = async () => (await c.jsm()).consumers.info(store.stream, RUNS_INDEX_CONSUMER);
        const pending = (await consumer()).num_pending;
        expect(pending).toBeGreaterThan(0);
        const moved = await store.archive().archive(
          (await store.listRuns()).filter((r) => r.runId === runId),
          new Date(),
        );
        expect(moved.map((r) => r.runId)).toEqual([runId]);
        // Only the moved run's messages left what the consumer has to take: none of the others' commits was skipped.
        expect((await consumer()).num_pending).toBeGreaterThanOrEqual(pending - (await store.read(runId)).length);
        // (Stopped before the next test: the role of keeping the index is one a server, and its projection would stand by.)
        const projection = await startRunIndexProjection({ store: open() });
        try {
          await vi.waitFor(
            async () => {
              const ci = await consumer();
              expect(ci.num_pending + ci.num_ack_pending).toBe(0);
            },
            { timeout: 10_000 },
          );
        } finally {
          await projection.stop();
        }
        const listed = (await openRunIndex({ store }).query({})).runs.map((r) => r.runId);
        expect(listed.sort()).toEqual([...others].sort());
      },
    );

    oneServer(
      "the engines' run index takes no marker for a commit: the run is never corrupt, and leaves the index once archived",
      async () => {
        const { store, open, runId } = await settledRun();
        const projection = await startRunIndexProjection({ store });
        c.defer(() => projection.stop());
        const corrupt: string[] = [];
        // Its own run's (the index's bucket is the server's: runs of other tests' streams are in it too).
        const listed = async () =>
          (await openRunIndex({ store, onCorrupt: (r) => corrupt.push(r.runId) }).query({})).runs
            .map((r) => r.runId)
            .filter((id) => id === runId);
        const caughtUp = async () => {
          const ci = await (await c.jsm()).consumers.info(store.stream, RUNS_INDEX_CONSUMER);
          return ci.num_pending === 0 && ci.num_ack_pending === 0;
        };
        await vi.waitFor(async () => expect(await caughtUp()).toBe(true), { timeout: 10_000 });
        expect(await listed()).toEqual([runId]);
        vi.spyOn(RunPurger.prototype, 'dropMarker').mockRejectedValueOnce(new Error('killed'));
        await expect(store.archive().archive(await store.listRuns(), new Date())).rejects.toThrow('killed');
        await vi.waitFor(async () => expect(await caughtUp()).toBe(true), { timeout: 10_000 });
        expect(projection.stats.corrupt).toBe(0);
        await open().archive().recover();
        expect(await listed()).toEqual([]);
        expect(corrupt).toEqual([]);
      },
    );

    oneServer('a follower of the run is handed no marker', async () => {
      const { store, runId, history } = await settledRun();
      const seen: number[] = [];
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      c.defer(() => process.off('warning', onWarning));
      const sub = store.follow(runId, 0, (events) => seen.push(...events.map((e) => e.seq)));
      c.defer(() => sub.close());
      await vi.waitFor(() => expect(seen).toHaveLength(history.length), { timeout: 10_000 });
      await store.archive().archive(await store.listRuns(), new Date());
      await store.archive().restore(runId);
      const late = lateEvent(history.at(-1)!);
      await store.append({ runId, expectedSeq: history.length, dedupId: 'late', events: [late] });
      await vi.waitFor(() => expect(seen.at(-1)).toBe(late.seq), { timeout: 10_000 });
      expect(seen).toEqual([...history.map((e) => e.seq), late.seq]);
      expect(warnings.filter((w) => w.includes(runId))).toEqual([]);
    });

    oneServer(
      'a stream that refuses deletes (deny_delete) is said before a move writes anything: the run stays live only',
      async () => {
        const stream = uniqueId('LF_DENY_');
        const subjectPrefix = `deny.${uniqueId('p')}`;
        await (await c.jsm()).streams.add({ name: stream, subjects: [`${subjectPrefix}.>`], deny_delete: true });
        const store = new JetStreamEventStore({ servers: c.url, stream, subjectPrefix });
        c.defer(() => store.close());
        const { runId } = await new Engine({ store }).run(definition!, { amount: 1 }, { handlers: {} });
        await expect(store.archive().archive(await store.listRuns(), new Date())).rejects.toThrow(
          `archive: stream ${stream} refuses to delete messages (deny_delete, an operator's setting)`,
        );
        expect(await store.archive().find(runId)).toBeNull();
        expect((await store.listRuns()).map((r) => r.runId)).toEqual([runId]);
      },
    );

    oneServer('LF_EVENTS takes rollups: made so, and a stream made before gains it when a store connects', async () => {
      const jsm = await c.jsm();
      const fresh = await settledRun();
      expect((await jsm.streams.info(fresh.names.stream)).config.allow_rollup_hdrs).toBe(true);

      const stream = uniqueId('LF_OLD_');
      const subjectPrefix = `old.${uniqueId('p')}`;
      await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`], allow_rollup_hdrs: false, max_age: 0 });
      const store = new JetStreamEventStore({ servers: c.url, stream, subjectPrefix });
      c.defer(() => store.close());
      await store.connect();
      const { config } = await jsm.streams.info(stream);
      expect(config.allow_rollup_hdrs).toBe(true);
      expect(config.subjects).toEqual([`${subjectPrefix}.>`]);
    });
  },
);
