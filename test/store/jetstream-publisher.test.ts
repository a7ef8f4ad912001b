/**
 * The store's JetStream publisher against a real nats-server: every answer a
 * publish can get must come back exactly as the client's `js.publish` gives it
 * (same PubAck, the same error classes, codes and API errors), since the
 * store's error handling was written against the latter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { ClosedConnectionError, TimeoutError, headers, type NatsConnection } from '@nats-io/nats-core';
import { isNoResponders, describe as describeError } from '../../src/store/jetstream/codec.js';
import { JetStreamPublisher, ReplyLostError, encodedHeaders } from '../../src/store/jetstream/publisher.js';
import { JetStreamApiError, JetStreamError, jetstream, jetstreamManager } from '@nats-io/jetstream';

// The test run's nats-server, on a stream of this file's own.
const nats = useCluster({ server: 'shared' });
const body = new TextEncoder().encode('{"x":1}');

if (noNats) {
  describe.skip(`JetStream publisher${skipNote}`, () => {
    it('needs nats-server', () => {});
  });
} else {
  describe('JetStreamPublisher', () => {
    let nc: NatsConnection;
    const id = uniqueId();
    const stream = `LFP_${id}`;
    const prefix = `lfp.${id}`;
    beforeAll(async () => {
      nc = await nats.connect();
      await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${prefix}.>`] });
      nats.defer(async () => {
        await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
      });
    });

    /** The same publish through both clients, each on its own subject; the outcome with stream sequences left out. */
    const both = async (
      lastSubjectSequence: (subject: string) => Promise<number>,
      msgID: string,
      prepare?: (subject: string) => Promise<void>,
    ) => {
      const pub = new JetStreamPublisher(nc);
      const js = jetstream(nc);
      const settle = async (p: Promise<{ stream: string; seq: number; duplicate: boolean }>) =>
        p.then(
          (a) => ({ ok: { stream: a.stream, duplicate: a.duplicate } }),
          // The server names the subject's actual sequence in its description: a stream sequence, which differs between the two subjects.
          (e: Error) =>
            JSON.parse(
              JSON.stringify({
                err: {
                  name: e.name,
                  message: e.message,
                  ...(e instanceof JetStreamApiError ? { code: e.code, api: e.apiError() } : {}),
                },
              }).replace(/: \d+"/g, ': N"'),
            ),
        );
      const sa = `${prefix}.a.${randomBytes(3).toString('hex')}`;
      const sb = `${prefix}.b.${randomBytes(3).toString('hex')}`;
      await prepare?.(sa);
      await prepare?.(sb);
      const ours = await settle(
        pub.publish(sa, body, {
          msgID: `${sa}/${msgID}`,
          lastSubjectSequence: await lastSubjectSequence(sa),
          headers: [],
          timeoutMs: 2000,
        }),
      );
      const theirs = await settle(
        js.publish(sb, body, {
          msgID: `${sb}/${msgID}`,
          expect: { lastSubjectSequence: await lastSubjectSequence(sb) },
          timeout: 2000,
        }),
      );
      return { ours, theirs };
    };

    it('answers a first publish, a wrong expectation and a duplicate as js.publish does', async () => {
      const first = await both(async () => 0, 'm1');
      expect(first.ours).toEqual({ ok: { stream, duplicate: false } });
      expect(first.ours).toEqual(first.theirs);

      const seeded = async (subject: string) => {
        await jetstream(nc).publish(subject, body, { msgID: `${subject}/m1` });
      };
      const wrong = await both(async () => 999, 'm2', seeded);
      expect(wrong.ours).toMatchObject({
        err: { name: 'JetStreamApiError', code: 10071, api: { code: 400, err_code: 10071 } },
      });
      expect(wrong.ours).toEqual(wrong.theirs);

      const duplicate = await both(async () => 999, 'm1', seeded);
      expect(duplicate.ours).toEqual({ ok: { stream, duplicate: true } });
      expect(duplicate.ours).toEqual(duplicate.theirs);
    });

    it('publishes a message that expects nothing (a kick on LF_INPUTS) as js.publish does: stored after others on its subject, a second with its id a duplicate', async () => {
      const pub = new JetStreamPublisher(nc);
      const js = jetstream(nc);
      const outcome = (a: { stream: string; duplicate: boolean }) => ({ stream: a.stream, duplicate: a.duplicate });
      const sa = `${prefix}.kick.a`;
      const sb = `${prefix}.kick.b`;
      await js.publish(sa, body);
      await js.publish(sb, body);
      const ours = await pub.publish(sa, body, { msgID: `${sa}/k`, headers: [], timeoutMs: 2000 });
      const theirs = await js.publish(sb, body, { msgID: `${sb}/k`, timeout: 2000 });
      expect(outcome(ours)).toEqual({ stream, duplicate: false });
      expect(outcome(ours)).toEqual(outcome(theirs));
      const again = await pub.publish(sa, body, { msgID: `${sa}/k`, headers: [], timeoutMs: 2000 });
      expect(again).toMatchObject({ seq: ours.seq, duplicate: true });
      expect(outcome(again)).toEqual(outcome(await js.publish(sb, body, { msgID: `${sb}/k`, timeout: 2000 })));
      const stored = (await (await jetstreamManager(nc)).streams.getMessage(stream, { last_by_subj: sa }))!;
      expect(stored.seq).toBe(ours.seq);
      expect(stored.header.get('Nats-Expected-Last-Subject-Sequence')).toBe('');
    });

    it('encodes headers byte for byte as the client MsgHdrs does, refuses CR and LF as it does, and they are stored', async () => {
      const fields = [
        ['Lf-Run-Id', 'r1'],
        ['Lf-First-Seq', '1'],
        ['Lf-Last-Seq', ' 3 '],
      ] as const;
      const more = [
        ['Nats-Msg-Id', 'r1/d'],
        ['Nats-Expected-Last-Subject-Sequence', '0'],
      ] as const;
      const h = headers();
      for (const [k, v] of [...fields, ...more]) h.set(k, v);
      expect(Buffer.from(encodedHeaders(fields, more).encode()).toString()).toBe(
        Buffer.from((h as unknown as { encode(): Uint8Array }).encode()).toString(),
      );
      const refused = (v: string) => {
        try {
          encodedHeaders([['X', v]]);
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      };
      const theirs = (v: string) => {
        try {
          headers().set('X', v);
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      };
      expect(refused('a\rb')).toBe(theirs('a\rb'));
      expect(refused('a\nb')).toBe(theirs('a\nb'));
      expect(refused('a\nb')).not.toBeNull();
      const pub = new JetStreamPublisher(nc);
      const subject = `${prefix}.hdr.x`;
      await pub.publish(subject, body, { msgID: 'h1', lastSubjectSequence: 0, headers: fields, timeoutMs: 2000 });
      const stored = (await (await jetstreamManager(nc)).streams.getMessage(stream, { last_by_subj: subject }))!;
      expect(['Lf-Run-Id', 'Lf-First-Seq', 'Lf-Last-Seq', 'Nats-Msg-Id'].map((k) => stored.header.get(k))).toEqual([
        'r1',
        '1',
        '3',
        'h1',
      ]);
    });

    it('resolves with the stream sequence the message was stored at', async () => {
      const pub = new JetStreamPublisher(nc);
      const subject = `${prefix}.seq.x`;
      const a = await pub.publish(subject, body, { msgID: 's1', lastSubjectSequence: 0, headers: [], timeoutMs: 2000 });
      const b = await pub.publish(subject, body, {
        msgID: 's2',
        lastSubjectSequence: a.seq,
        headers: [],
        timeoutMs: 2000,
      });
      const stored = (await (await jetstreamManager(nc)).streams.getMessage(stream, { last_by_subj: subject }))!;
      expect(b.seq).toBe(stored.seq);
      expect(stored.header.get('Nats-Msg-Id')).toBe('s2');
    });

    it('answers many publishes in flight at once, each with its own ack', async () => {
      const pub = new JetStreamPublisher(nc);
      const acks = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          pub.publish(`${prefix}.many.r${i}`, body, {
            msgID: `many-${i}`,
            lastSubjectSequence: 0,
            headers: [],
            timeoutMs: 5000,
          }),
        ),
      );
      expect(new Set(acks.map((a) => a.seq)).size).toBe(200);
    });

    it('fails with no responders when no stream takes the subject, as js.publish does', async () => {
      const pub = new JetStreamPublisher(nc);
      const ours = await pub
        .publish(`nostream.${id}`, body, { msgID: 'x', lastSubjectSequence: 0, headers: [], timeoutMs: 2000 })
        .catch((e: unknown) => e);
      const theirs = await jetstream(nc)
        .publish(`nostream.${id}`, body, { msgID: 'x', timeout: 2000 })
        .catch((e: unknown) => e);
      expect(isNoResponders(ours)).toBe(true);
      expect(isNoResponders(theirs)).toBe(true);
      expect((ours as Error).name).toBe((theirs as Error).name);
      expect(describeError(ours)).toBe(describeError(theirs));
    });

    it('refuses an answer that is not a PubAck it can rely on (no stream, no integer sequence)', async () => {
      const answers = ['{"stream":"S"}', '{"stream":"S","seq":"7"}', '{"seq":7}', 'not json', '{"stream":"S","seq":0}'];
      const responder = nc.subscribe(`fake.${id}.>`, {
        callback: (_e, m) => void m.respond(new TextEncoder().encode(answers[Number(m.subject.split('.').at(-1))]!)),
      });
      try {
        const pub = new JetStreamPublisher(nc);
        for (let i = 0; i < answers.length; i++) {
          const err = await pub
            .publish(`fake.${id}.${i}`, body, { msgID: `f${i}`, lastSubjectSequence: 0, headers: [], timeoutMs: 2000 })
            .catch((e: unknown) => e);
          expect(err, answers[i]).toBeInstanceOf(JetStreamError);
          expect((err as Error).message, answers[i]).toMatch(
            i === 3 ? /^bad JSON in the reply/ : /^invalid ack response$/,
          );
        }
        const ok = new TextEncoder().encode('{"stream":"S","seq":7,"duplicate":true}');
        const good = nc.subscribe(`fake2.${id}`, { callback: (_e, m) => void m.respond(ok) });
        expect(
          await pub.publish(`fake2.${id}`, body, { msgID: 'g', lastSubjectSequence: 0, headers: [], timeoutMs: 2000 }),
        ).toMatchObject({ stream: 'S', seq: 7, duplicate: true });
        good.unsubscribe();
      } finally {
        responder.unsubscribe();
      }
    });

    it('times out with a TimeoutError when a subscriber takes the message but nothing answers', async () => {
      const silent = nc.subscribe(`silent.${id}`);
      try {
        const pub = new JetStreamPublisher(nc);
        const t0 = Date.now();
        const err = await pub
          .publish(`silent.${id}`, body, { msgID: 'x', lastSubjectSequence: 0, headers: [], timeoutMs: 300 })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TimeoutError);
        expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
      } finally {
        silent.unsubscribe();
      }
    });

    it('fails what is pending with ReplyLostError when abandoned (the connection came back: no reply will come)', async () => {
      const silent = nc.subscribe(`silent3.${id}`);
      try {
        const pub = new JetStreamPublisher(nc);
        const pending = pub
          .publish(`silent3.${id}`, body, { msgID: 'x', lastSubjectSequence: 0, headers: [], timeoutMs: 30_000 })
          .catch((e: unknown) => e);
        pub.abandon();
        expect(await pending).toBeInstanceOf(ReplyLostError);
        // Still usable afterwards.
        const ack = await pub.publish(`${prefix}.after.abandon`, body, {
          msgID: 'after-abandon',
          lastSubjectSequence: 0,
          headers: [],
          timeoutMs: 2000,
        });
        expect(ack.duplicate).toBe(false);
      } finally {
        silent.unsubscribe();
      }
    });

    it('fails what is pending when the connection closes, and refuses to publish after', async () => {
      const own = await connect({ servers: nats.url });
      own.subscribe(`silent2.${id}`); // takes the message, never answers
      const pub = new JetStreamPublisher(own);
      const pending = pub
        .publish(`silent2.${id}`, body, { msgID: 'x', lastSubjectSequence: 0, headers: [], timeoutMs: 30_000 })
        .catch((e: unknown) => e);
      await own.flush();
      await own.close();
      expect(await pending).toBeInstanceOf(ClosedConnectionError);
      const after = await pub
        .publish(`silent2.${id}`, body, { msgID: 'y', lastSubjectSequence: 0, headers: [], timeoutMs: 1000 })
        .catch((e: unknown) => e);
      expect(after).toBeInstanceOf(ClosedConnectionError);
    });
  });
}
