/**
 * Requests on one reply subscription (src/store/jetstream/replies.ts), the way
 * the engines offer attempts and workers hand outcomes over, against a real
 * nats-server on the production nats.conf: each failure must be the one
 * `nc.request` gives, since the callers tell them apart (no worker listening:
 * queue the attempt; no answer in time: a worker may have it; a user not let
 * publish there: stop trying).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import { SharedReplies, TimeoutError, isNoResponders } from '../../src/store/index.js';
import { permissionDenied } from '../../src/errors/index.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';

const text = (s: string) => new TextEncoder().encode(s);

describe.skipIf(noNats)(`requests on one reply subscription${skipNote}`, () => {
  const c = useCluster({ production: true });

  it('each request gets its own reply, as the worker user (replies under its own inbox, the only one it may read)', async () => {
    const engine: NatsConnection = await c.connect();
    const worker: NatsConnection = await c.connect('worker');
    const subject = `lf.reports.worker.default.${uniqueId()}`;
    engine.subscribe(subject, {
      callback: (_err, m) => {
        m.respond(text(`re:${m.string()}`));
      },
    });
    await engine.flush();
    const replies = new SharedReplies(worker);
    const answers = await Promise.all(
      ['a', 'b', 'c'].map((x) => replies.request(subject, text(x), { timeoutMs: 2000 }).then((m) => m.string())),
    );
    expect(answers).toEqual(['re:a', 're:b', 're:c']);
  });

  it('nobody listening is "no responders", at once; a listener that does not answer is a TimeoutError after the timeout', async () => {
    const engine: NatsConnection = await c.connect();
    const replies = new SharedReplies(engine);
    const t0 = Date.now();
    const none = await replies.request(`lf.nobody.${uniqueId()}`, text('x'), { timeoutMs: 5000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isNoResponders(none)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(2000);
    const silent = `lf.silent.${uniqueId()}`;
    engine.subscribe(silent, { callback: () => undefined });
    await engine.flush();
    const timedOut = await replies.request(silent, text('x'), { timeoutMs: 300 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(timedOut).toBeInstanceOf(TimeoutError);
  });

  it("a subject the user may not publish to is refused with the server's permission error naming it, not waited out", async () => {
    const worker: NatsConnection = await c.connect('worker');
    const replies = new SharedReplies(worker);
    const forbidden = `lf.reports.bob.default.${uniqueId()}`;
    const t0 = Date.now();
    const err = await replies.request(forbidden, text('x'), { timeoutMs: 10_000 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(permissionDenied(err)).toBe(forbidden);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
