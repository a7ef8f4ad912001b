/**
 * The JetStream store against a real nats-server: the shared contract suite
 * (each test on its own stream and subject prefix, deleted afterwards), then
 * what only JetStream has: two connections racing, dedup after a stale
 * expectation, a SIGKILLed server, per-run subjects, lazy connection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, skipNote, testCluster, uniqueId, useCluster } from '../helpers/cluster.js';
import { randomBytes } from 'node:crypto';
import { AppendConflictError, StoreError } from '../../src/errors/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import {
  JetStreamEventStore,
  openJetStreamStore,
  openStore,
  FileEventStore,
  jetstream,
  jetstreamManager,
  type JetStreamStoreOptions,
} from '../../src/store/index.js';
import { parseServers } from '../../src/store/jetstream/options.js';
import { freePort, startGatedProxy } from '../helpers/nats.js';
import { runStoreContract } from './contract.js';
import { waitFor } from '../helpers/wait.js';
import { ev, evs, outcome } from './helpers.js';

// The test run's server: every test keeps to a stream of its own (fresh()).
const shared = useCluster({ server: 'shared' });

/** A stream and subject prefix no other test uses (streams may not share subjects). */
function fresh(): { stream: string; subjectPrefix: string } {
  const id = uniqueId();
  return { stream: `LFT_${id}`, subjectPrefix: `lft.${id}` };
}

async function dropStream(stream: string): Promise<void> {
  const jsm = await shared.jsm();
  await jsm.streams.delete(stream).catch(() => undefined);
}

const uid = (p: string) => `${p}-${randomBytes(5).toString('hex')}`;

if (noNats) {
  describe.skip(`JetStream store${skipNote}`, () => {
    it('needs nats-server', () => {});
  });
} else {
  runStoreContract('jetstream', async () => {
    const names = fresh();
    return {
      store: new JetStreamEventStore({ servers: shared.url, ...names }),
      cleanup: () => dropStream(names.stream),
    };
  });

  describe('JetStreamEventStore', () => {
    const opened: JetStreamEventStore[] = [];
    const streams: string[] = [];
    const make = (extra: Partial<JetStreamStoreOptions> = {}, names = fresh()) => {
      streams.push(names.stream);
      const s = new JetStreamEventStore({ servers: shared.url, ...names, ...extra });
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await Promise.all(streams.splice(0).map(dropStream));
    });

    it('creates the stream on first use (file storage, dedup window, no discarding of history) and writes one message per commit', async () => {
      const names = fresh();
      const store = make({}, names);
      await store.append({
        runId: 'r1',
        expectedSeq: 0,
        dedupId: 'a',
        events: evs('r1', 1, 3, { workflowId: 'orders' }),
      });
      await store.append({
        runId: 'r1',
        expectedSeq: 3,
        dedupId: 'b',
        events: [ev('r1', 4, { workflowId: 'orders' })],
      });
      const jsm = await jetstreamManager(await shared.admin());
      const si = await jsm.streams.info(names.stream, { subjects_filter: '>' });
      expect(si.config).toMatchObject({
        subjects: [`${names.subjectPrefix}.>`],
        storage: 'file',
        discard: 'new',
        duplicate_window: 120_000_000_000,
        num_replicas: 1,
      });
      expect(si.state.messages).toBe(2);
      expect(si.state.subjects).toEqual({ [`${names.subjectPrefix}.orders.r1`]: 2 });
      const m = (await jsm.streams.getMessage(names.stream, { seq: 1 }))!;
      expect(m.json()).toEqual({ dedupId: 'a', events: evs('r1', 1, 3, { workflowId: 'orders' }) });
      expect(m.header.get('Nats-Msg-Id')).toBe('r1/a');
      expect([m.header.get('Lf-Run-Id'), m.header.get('Lf-First-Seq'), m.header.get('Lf-Last-Seq')]).toEqual([
        'r1',
        '1',
        '3',
      ]);
    });

    it('leaves an existing stream as it is, and refuses one that does not take its subjects', async () => {
      const names = fresh();
      streams.push(names.stream);
      const jsm = await jetstreamManager(await shared.admin());
      await jsm.streams.add({
        name: names.stream,
        subjects: [`${names.subjectPrefix}.>`],
        max_age: 3_600_000_000_000,
        duplicate_window: 60_000_000_000,
      });
      await make({ duplicateWindowMs: 5000 }, names).connect();
      expect((await jsm.streams.info(names.stream)).config).toMatchObject({
        max_age: 3_600_000_000_000,
        duplicate_window: 60_000_000_000,
      });

      const other = fresh();
      streams.push(other.stream);
      await jsm.streams.add({ name: other.stream, subjects: [`${other.subjectPrefix}.elsewhere.>`] });
      const err = await make({}, other)
        .append({ runId: 'r', expectedSeq: 0, dedupId: 'd', events: [ev('r', 1)] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toMatch(/does not take subjects/);
    });

    it('keeps one history when two connections race on one run: one winner per seq, losers reload and succeed', async () => {
      const names = fresh();
      const [a, b] = [make({}, names), make({}, names)];
      const run = uid('race');
      await a.append({ runId: run, expectedSeq: 0, dedupId: uid('d'), events: [ev(run, 1)] });
      const conflicts = { a: 0, b: 0 };
      const writer = async (store: JetStreamEventStore, name: 'a' | 'b', count: number) => {
        let expected = await store.lastSeq(run);
        for (let i = 0; i < count; ) {
          const dedupId = `${name}-${i}`;
          try {
            await store.append({
              runId: run,
              expectedSeq: expected,
              dedupId,
              events: [ev(run, expected + 1, { output: dedupId })],
            });
            expected += 1;
            i++;
          } catch (err) {
            expect(err).toBeInstanceOf(AppendConflictError);
            conflicts[name]++;
            expected = (await store.read(run)).length; // reload, then retry on top of the winner
          }
        }
      };
      await Promise.all([writer(a, 'a', 40), writer(b, 'b', 40)]);
      const events = await make({}, names).read(run);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 81 }, (_, i) => i + 1));
      const outputs = events.slice(1).map((e) => (e.type === 'task.completed' ? e.data.output : null));
      expect(new Set(outputs).size).toBe(80); // each append exactly once, none lost, none twice
      expect(conflicts.a + conflicts.b).toBeGreaterThan(0);

      // Same expectedSeq from both connections at once, 20 rounds: exactly one wins each round.
      for (let round = 0; round < 20; round++) {
        const seq = 82 + round;
        const results = await Promise.allSettled(
          [a, b].map((s, i) =>
            s.append({ runId: run, expectedSeq: seq - 1, dedupId: uid(`r${round}-${i}`), events: [ev(run, seq)] }),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const lost = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
        expect(lost.reason).toBeInstanceOf(AppendConflictError);
        expect((lost.reason as AppendConflictError).meta).toMatchObject({ expectedSeq: seq - 1, actualSeq: seq });
      }
      expect(await b.lastSeq(run)).toBe(101);
    });

    it('answers a retry with the same dedupId after its expectation went stale with the original seqs, from any instance', async () => {
      const names = fresh();
      const [a, b] = [make({}, names), make({}, names)];
      const run = uid('dup');
      const first = { runId: run, expectedSeq: 0, dedupId: 'step-1', events: evs(run, 1, 2) };
      expect(outcome(await a.append(first))).toEqual({ firstSeq: 1, lastSeq: 2, duplicate: false });
      // Another instance moves the run on; a's cache still says 2.
      await b.append({ runId: run, expectedSeq: 2, dedupId: 'step-2', events: [ev(run, 3)] });
      await b.append({ runId: run, expectedSeq: 3, dedupId: 'step-3', events: [ev(run, 4)] });
      expect(outcome(await a.append(first))).toEqual({ firstSeq: 1, lastSeq: 2, duplicate: true });
      expect(outcome(await b.append(first))).toEqual({ firstSeq: 1, lastSeq: 2, duplicate: true });
      expect(
        outcome(await make({}, names).append({ runId: run, expectedSeq: 2, dedupId: 'step-2', events: [ev(run, 3)] })),
      ).toEqual({ firstSeq: 3, lastSeq: 3, duplicate: true });
      // a's cache is stale (it saw seq 2) but the caller is right: a plain append on top succeeds.
      expect(outcome(await a.append({ runId: run, expectedSeq: 4, dedupId: 'step-4', events: [ev(run, 5)] }))).toEqual({
        firstSeq: 5,
        lastSeq: 5,
        duplicate: false,
      });
      // Dedup ids are per run, as in the other stores: the same id on another run is a new append.
      const other = uid('dup');
      expect(
        outcome(await a.append({ runId: other, expectedSeq: 0, dedupId: 'step-1', events: [ev(other, 1)] })),
      ).toEqual({ firstSeq: 1, lastSeq: 1, duplicate: false });
      expect((await a.read(run)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    });

    it('reads a run from its own subject only: 50 runs in the stream, one read receives only its messages', async () => {
      const store = make();
      const runs = Array.from({ length: 50 }, (_, i) => `run-${i}`);
      await Promise.all(
        runs.map(async (run, i) => {
          for (let s = 1; s <= 4; s++)
            await store.append({
              runId: run,
              expectedSeq: s - 1,
              dedupId: `d${s}`,
              events: [ev(run, s, { workflowId: `wf${i % 3}` })],
            });
        }),
      );
      // A fresh instance: it does not know the run's workflow, so it reads `<prefix>.*.run-17`.
      for (const reader of [make({}, { stream: store.stream, subjectPrefix: store.subjectPrefix }), store]) {
        const nc = await reader.connection();
        const before = nc.stats().inMsgs;
        const events = await reader.read('run-17');
        const received = nc.stats().inMsgs - before;
        expect(events).toEqual(evs('run-17', 1, 4, { workflowId: 'wf2' }));
        // 4 commits plus the consumer-creation reply (and maybe the deletion's): not the 200 in the stream.
        expect(received).toBeGreaterThanOrEqual(4);
        expect(received).toBeLessThanOrEqual(7);
      }
    });

    it("reads a run it has not seen that is one commit (an engine's first look at a run a client started) with one request, not a walk from the stream's first message", async () => {
      const store = make();
      for (let i = 0; i < 20; i++)
        await store.append({ runId: `other-${i}`, expectedSeq: 0, dedupId: 'a', events: evs(`other-${i}`, 1, 2) });
      const started = uid('started');
      await store.append({
        runId: started,
        expectedSeq: 0,
        dedupId: 'a',
        events: evs(started, 1, 3, { workflowId: 'orders' }),
      });
      const reader = make({}, { stream: store.stream, subjectPrefix: store.subjectPrefix });
      const nc = await reader.connection();
      const requests = async <T>(fn: () => Promise<T>) => {
        const before = nc.stats().outMsgs;
        const value = await fn();
        return { value, requests: nc.stats().outMsgs - before };
      };
      // The walk from the first message took two (the commit, then "no message after it"); on nats-server 2.9
      // each looks at every block of the stream from the first, so an engine's cost per run grew with the stream.
      expect(await requests(() => reader.read(started))).toEqual({
        value: evs(started, 1, 3, { workflowId: 'orders' }),
        requests: 1,
      });
      expect(await requests(() => reader.read(started, { fromSeq: 2, toSeq: 2 }))).toEqual({
        value: evs(started, 2, 2, { workflowId: 'orders' }),
        requests: 1,
      });
      // A run of more commits, and one that is not there, read as before.
      await store.append({
        runId: started,
        expectedSeq: 3,
        dedupId: 'b',
        events: [ev(started, 4, { workflowId: 'orders' })],
      });
      const other = make({}, { stream: store.stream, subjectPrefix: store.subjectPrefix });
      expect(await other.read(started)).toEqual(evs(started, 1, 4, { workflowId: 'orders' }));
      expect(await other.read(uid('nothing'))).toEqual([]);
    });

    it('reads a run of a few commits without making a consumer (a node down on a cluster cannot stall it), and a long run whole from any position', async () => {
      const store = make();
      const created: string[] = [];
      const nc = await shared.admin();
      const advisories = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${store.stream}.>`, {
        callback: (_e, m) => void created.push(m.subject),
      });
      await nc.flush();
      const short = uid('short');
      for (let s = 1; s <= 6; s++)
        await store.append({ runId: short, expectedSeq: s - 1, dedupId: `d${s}`, events: [ev(short, s)] });
      const reader = make({}, { stream: store.stream, subjectPrefix: store.subjectPrefix });
      expect(await reader.read(short)).toEqual(evs(short, 1, 6));
      expect(await store.read(short, { fromSeq: 3 })).toEqual(evs(short, 3, 6));
      await nc.flush();
      expect(created).toEqual([]);

      // Longer than a read walks by requests: the rest comes from one consumer, each commit once.
      const long = uid('long');
      const positions: number[] = [];
      for (let s = 1; s <= 80; s += 2)
        positions.push(
          (await store.append({ runId: long, expectedSeq: s - 1, dedupId: `d${s}`, events: evs(long, s, s + 1) }))
            .position!,
        );
      for (const r of [reader, store]) expect(await r.read(long)).toEqual(evs(long, 1, 80));
      for (const [fromSeq, toSeq, position] of [
        [3, 80, positions[1]],
        [41, 44, positions[20]],
        [79, 80, positions[39]],
        [1, 60, undefined],
        [30, 33, undefined],
      ] as const) {
        expect(
          await reader.read(long, { fromSeq, toSeq, ...(position !== undefined ? { fromPosition: position } : {}) }),
        ).toEqual(evs(long, fromSeq, toSeq));
      }
      advisories.unsubscribe();
    });

    it('reads a long run on from the event after the last it read (the run page asking again) from where its read ended, making no consumer', async () => {
      const writer = make();
      const reader = make({}, { stream: writer.stream, subjectPrefix: writer.subjectPrefix });
      const nc = await shared.admin();
      const created: string[] = [];
      const advisories = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${writer.stream}.>`, {
        callback: (_e, m) => void created.push(m.subject),
      });
      const long = uid('long-on');
      for (let s = 1; s <= 80; s += 2)
        await writer.append({ runId: long, expectedSeq: s - 1, dedupId: `d${s}`, events: evs(long, s, s + 1) });
      // Read whole once: 40 commits, more than a read walks by requests, so one consumer.
      expect(await reader.read(long)).toEqual(evs(long, 1, 80));
      await nc.flush();
      const whole = created.length;
      expect(whole).toBe(1);
      for (let s = 81; s <= 90; s += 2) {
        await writer.append({ runId: long, expectedSeq: s - 1, dedupId: `d${s}`, events: evs(long, s, s + 1) });
        // Read on from what it has: the new commit alone, by requests from the commit that held its last event.
        expect(await reader.read(long, { fromSeq: s })).toEqual(evs(long, s, s + 1));
      }
      expect(await reader.read(long, { fromSeq: 91 })).toEqual([]);
      // Any other read is as before: from the run's first (a consumer), the same events.
      expect(await reader.read(long, { fromSeq: 41 })).toEqual(evs(long, 41, 90));
      await nc.flush();
      expect(created.length).toBe(whole + 1);
      advisories.unsubscribe();
    });

    it('retries a publish whose reply was lost with the same message id: written once, reported as written by this call', async () => {
      const names = fresh();
      streams.push(names.stream);
      const proxy = await startGatedProxy(Number(new URL(shared.url).port));
      const store = new JetStreamEventStore({ servers: proxy.url, ...names, requestTimeoutMs: 400 });
      try {
        const run = uid('lost');
        await store.append({ runId: run, expectedSeq: 0, dedupId: 'd1', events: [ev(run, 1)] });
        const nc = await store.connection();
        const sentBefore = nc.stats().outMsgs;
        proxy.hold();
        const pending = store.append({ runId: run, expectedSeq: 1, dedupId: 'd2', events: [ev(run, 2)] });
        const jsm = await jetstreamManager(await shared.admin());
        await waitFor(
          'the held append to reach the server',
          async () => (await jsm.streams.info(names.stream)).state.messages >= 2,
        );
        // Its reply is held: the attempt times out (400 ms) and the store sends it again, same message id.
        await waitFor('the append to be sent again', () => nc.stats().outMsgs - sentBefore >= 2);
        proxy.release();
        expect(outcome(await pending)).toEqual({ firstSeq: 2, lastSeq: 2, duplicate: false });
        expect(nc.stats().outMsgs - sentBefore).toBeGreaterThanOrEqual(2);
        expect((await jsm.streams.info(names.stream)).state.messages).toBe(2);
        expect(await store.read(run)).toEqual(evs(run, 1, 2));
      } finally {
        await store.close();
        await proxy.close();
      }
    });

    it('survives a SIGKILLed nats-server: acknowledged appends are kept, an append made while it is down lands once after the restart', async () => {
      const server = (await testCluster()).server!;
      const names = fresh();
      const store = new JetStreamEventStore({ servers: server.url, ...names, operationTimeoutMs: 20_000 });
      try {
        const run = uid('crash');
        for (let s = 1; s <= 20; s++)
          await store.append({ runId: run, expectedSeq: s - 1, dedupId: `d${s}`, events: [ev(run, s)] });
        const followed: number[] = [];
        const sub = store.follow(run, 20, (batch) => followed.push(...batch.map((e) => e.seq)));

        const impatient = new JetStreamEventStore({ servers: server.url, ...names, operationTimeoutMs: 800 });
        await impatient.connect();

        await server.stop();
        const whileDown = store.append({ runId: run, expectedSeq: 20, dedupId: 'd21', events: [ev(run, 21)] });
        // A store whose bounded wait ends before the server is back fails with a StoreError, not a hang.
        const t0 = Date.now();
        const gaveUp = await impatient
          .append({ runId: run, expectedSeq: 20, dedupId: 'other', events: [ev(run, 21)] })
          .catch((e: unknown) => e);
        expect(gaveUp).toBeInstanceOf(StoreError);
        expect(Date.now() - t0).toBeLessThan(3000);
        await impatient.close();
        await server.restart();
        expect(outcome(await whileDown)).toEqual({ firstSeq: 21, lastSeq: 21, duplicate: false });
        expect(
          await store.append({ runId: run, expectedSeq: 21, dedupId: 'd22', events: [ev(run, 22)] }),
        ).toMatchObject({ lastSeq: 22, duplicate: false });

        const again = new JetStreamEventStore({ servers: server.url, ...names });
        try {
          expect(await again.read(run)).toEqual(evs(run, 1, 22));
        } finally {
          await again.close();
        }
        await waitFor('follow to deliver seqs 21..22 across the restart', () => followed.length >= 2, {
          timeout: 15_000,
        });
        sub.close();
        expect(followed).toEqual([21, 22]);
      } finally {
        await store.close();
      }
    }, 60_000);

    it('fails with a StoreError (cause: the client error) when no server answers, within the bounded wait', async () => {
      const port = await freePort();
      const store = new JetStreamEventStore({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 1000 });
      const t0 = Date.now();
      const err = await store.read('r1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toContain(`127.0.0.1:${port}`);
      expect((err as StoreError).cause).toBeDefined();
      expect(Date.now() - t0).toBeLessThan(5000);
      await store.close();
    });

    it('applies a max message size override, and refuses a larger commit with a StoreError', async () => {
      const store = make({ maxMsgSize: 2048 });
      await store.append({ runId: 'r1', expectedSeq: 0, dedupId: 'a', events: [ev('r1', 1)] });
      const err = await store
        .append({ runId: 'r1', expectedSeq: 1, dedupId: 'b', events: [ev('r1', 2, { output: 'x'.repeat(4096) })] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).cause).toBeDefined();
      expect(await store.read('r1')).toEqual([ev('r1', 1)]);
      expect(await store.append({ runId: 'r1', expectedSeq: 1, dedupId: 'b', events: [ev('r1', 2)] })).toMatchObject({
        lastSeq: 2,
      });
    });

    it('reports a corrupt message on the run subject as a StoreError naming the stream sequence', async () => {
      const store = make();
      await store.append({ runId: 'r1', expectedSeq: 0, dedupId: 'a', events: [ev('r1', 1)] });
      const js = jetstream(await shared.admin());
      await js.publish(`${store.subjectPrefix}.wf.r1`, new TextEncoder().encode('{"not":"a commit"}'));
      const err = await store.read('r1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).message).toMatch(/message 2 .*corrupt commit/);
    });

    it('reads the first commit in stream order at a seq as the history: a later one that took the same seqs (a lost race on a cluster) is skipped by read, readAll and follow; a gap is still corrupt', async () => {
      const store = make();
      const run = uid('raced');
      await store.append({ runId: run, expectedSeq: 0, dedupId: 'a', events: [ev(run, 1)] });
      await store.append({ runId: run, expectedSeq: 1, dedupId: 'b', events: evs(run, 2, 3) });
      // What nats-server 2.9 can store on a replicated stream: a second commit at seqs 2-3 (expectation checked before replication only).
      const js = jetstream(await shared.admin());
      const subject = `${store.subjectPrefix}.wf.${run}`;
      await js.publish(
        subject,
        new TextEncoder().encode(JSON.stringify({ dedupId: 'loser', events: evs(run, 2, 3, { output: 'loser' }) })),
      );
      await store.append({ runId: run, expectedSeq: 3, dedupId: 'c', events: [ev(run, 4)] });
      const reader = make({}, { stream: store.stream, subjectPrefix: store.subjectPrefix });
      expect(await reader.read(run)).toEqual(evs(run, 1, 4));
      const all: EventEnvelope[][] = [];
      for await (const r of reader.readAll()) all.push(r.events);
      expect(all).toEqual([evs(run, 1, 4)]);
      const followed: EventEnvelope[] = [];
      const sub = reader.follow(run, 0, (e) => followed.push(...e));
      await waitFor('the follower to reach seq 4', () => followed.length >= 4);
      sub.close();
      expect(followed).toEqual(evs(run, 1, 4));
      await js.publish(subject, new TextEncoder().encode(JSON.stringify({ dedupId: 'gap', events: [ev(run, 6)] })));
      await expect(reader.read(run)).rejects.toThrow(/event has seq 6, expected 5/);
    });

    it('lists and reads every other run when a run holds a corrupt message, reporting that run with the message and reason', async () => {
      const store = make();
      for (const id of ['r1', 'r2'])
        await store.append({ runId: id, expectedSeq: 0, dedupId: `${id}a`, events: [ev(id, 1)] });
      const js = jetstream(await shared.admin());
      const bad = await js.publish(`${store.subjectPrefix}.wf.r2`, new TextEncoder().encode('{"not":"a commit"}'));
      const listed: { runId: string; file: string; reason: string }[] = [];
      expect((await store.listRuns({ onCorrupt: (c) => listed.push(c) })).map((r) => r.runId)).toEqual(['r1']);
      expect(listed).toEqual([
        {
          runId: 'r2',
          file: `${store.stream} message ${bad.seq}`,
          reason: expect.stringMatching(/not a valid commit/),
        },
      ]);
      await expect(store.listRuns()).rejects.toThrow(/corrupt commit/);
      const corrupt: string[] = [];
      const read: string[] = [];
      for await (const run of store.readAll({ onCorrupt: (c) => corrupt.push(c.runId) })) read.push(run.runId);
      expect(read).toEqual(['r1']);
      expect(corrupt).toEqual(['r2']);
    });

    it('connects lazily: openStore({ nats }) and $LEDGERFLOW_NATS_URL select it synchronously; openJetStreamStore connects up front', async () => {
      const names = fresh();
      streams.push(names.stream);
      const lazy = openStore({ nats: { servers: shared.url, ...names } });
      expect(lazy).toBeInstanceOf(JetStreamEventStore);
      const jsm = await jetstreamManager(await shared.admin());
      await expect(jsm.streams.info(names.stream)).rejects.toThrow(); // nothing happened yet
      await lazy.append({ runId: 'r1', expectedSeq: 0, dedupId: 'a', events: [ev('r1', 1)] });
      expect((await jsm.streams.info(names.stream)).state.messages).toBe(1);
      await lazy.close();

      const prev = process.env.LEDGERFLOW_NATS_URL;
      process.env.LEDGERFLOW_NATS_URL = shared.url;
      try {
        expect(openStore({ dir: '/tmp/unused' })).toBeInstanceOf(JetStreamEventStore);
        expect(openStore({ dir: '/tmp/unused', nats: false })).toBeInstanceOf(FileEventStore);
      } finally {
        if (prev === undefined) delete process.env.LEDGERFLOW_NATS_URL;
        else process.env.LEDGERFLOW_NATS_URL = prev;
      }
      const eager = await openJetStreamStore({ servers: shared.url, ...names });
      opened.push(eager);
      expect(await eager.read('r1')).toEqual([ev('r1', 1)]);
      const bad = await openJetStreamStore({
        servers: `nats://127.0.0.1:${await freePort()}`,
        connectTimeoutMs: 500,
      }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(StoreError);
    });

    it('takes credentials from the URL', () => {
      expect(parseServers('nats://alice:s%40cret@h1:4222,nats://h2:4223')).toEqual({
        servers: ['nats://h1:4222', 'nats://h2:4223'],
        user: 'alice',
        pass: 's@cret',
      });
      expect(parseServers('tok@127.0.0.1:4222')).toEqual({ servers: ['nats://127.0.0.1:4222'], token: 'tok' });
      expect(() => parseServers('')).toThrow(StoreError);
    });

    it('follows a run it has not seen yet, under any workflow, and stops on close', async () => {
      const store = make();
      const writer = make({}, { stream: store.stream, subjectPrefix: store.subjectPrefix });
      const got: EventEnvelope[] = [];
      const sub = store.follow('later', 0, (b) => got.push(...b));
      await writer.append({
        runId: 'later',
        expectedSeq: 0,
        dedupId: 'a',
        events: evs('later', 1, 2, { workflowId: 'billing' }),
      });
      await waitFor('follow to deliver', () => got.length >= 2);
      // A follower left open is the witness: once it has seq 3, the closed one would have had it too.
      const witnessed: number[] = [];
      const witness = store.follow('later', 2, (b) => witnessed.push(...b.map((e) => e.seq)));
      sub.close();
      await writer.append({
        runId: 'later',
        expectedSeq: 2,
        dedupId: 'b',
        events: [ev('later', 3, { workflowId: 'billing' })],
      });
      await waitFor('the open follower to get seq 3', () => witnessed.includes(3));
      witness.close();
      expect(got).toEqual(evs('later', 1, 2, { workflowId: 'billing' }));
    });
  });
}
