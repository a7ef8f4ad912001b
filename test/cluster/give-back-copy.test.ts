/**
 * A worker stopped cleanly gives its running attempts back (task.released, src/cluster/worker/give-back.ts), and first
 * settles that run of each in the attempt ledger as no longer wanted (`aborted`, by the worker, before the release
 * goes). With several engines the one that offered the run given back may not be the one that records the release: no
 * longer hearing of it, it queues a copy of that run (marked `redispatch`), and the worker given the copy must not run
 * it beside the restart. Here the copy is queued as that engine queues it (the offer's body, signed as the engines
 * sign), once the restart ran, to a worker that claims at once (its NATS user may not use lf.asks: a nats.conf from
 * before asks): it reads the mark, drops the copy unrun and tells the engine, which finds the loss stale.
 *
 * Without the worker's mark: a run never claimed was settled only by the recording engine's own abort of it (best
 * effort: none if that engine dies between its commit and its effects, and then the copy ran a second time), and a run
 * its worker had claimed was left claimed and unfinished, its copy held until the claim went stale, then reported lost.
 *
 * The mark must also outlast the heartbeat: a handler deaf to its abort keeps the attempt in hand for the stop's last
 * wait (give-back.ts ABORTED_END_MS, 2 s), and its beats go on meanwhile (the deliveries held, its engine told); a beat
 * that rewrote the claim then would undo the mark, and the copy would be held, then reported lost, as without it.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headers } from '@nats-io/nats-core';
import { jetstream } from '@nats-io/jetstream';
import { KvWatchInclude, Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { subjects, type TaskMessage } from '../../src/cluster/index.js';
import { AttemptTokens } from '../../src/cluster/transport/attempt-tokens.js';
import { ATTEMPT_SIG_HEADER } from '../../src/cluster/transport/attempt-keys.js';
import { ATTEMPTS_BUCKET, AttemptLedger, type AttemptRecord } from '../../src/cluster/transport/attempts.js';
import { replayRun } from '../../src/runtime/index.js';
import { ROOT } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';
import { ledgerKeyOf } from '../helpers/attempts.js';
import { noNats, skipNote, useCluster } from '../helpers/cluster.js';
import { gate, waitFor } from '../helpers/wait.js';

const held = def(`
workflow:
  id: give-back-copy
  version: 1
  tasks:
    - { id: hold, type: SIMPLE }
`);

/** nats.conf with one more worker user, `legacy`, of queue default, that may not use lf.asks (it claims at once). */
function withLegacyWorker(): string {
  const conf = readFileSync(join(ROOT, 'nats.conf'), 'utf8');
  const start = conf.indexOf('      {\n        user: worker,');
  const end = conf.indexOf('      {\n        user: vault,');
  if (start < 0 || end < start) throw new Error("nats.conf's worker user block not found");
  const legacy = conf.slice(start, end).replaceAll('worker', 'legacy').replaceAll('"lf.asks.default", ', '');
  if (legacy.includes('lf.asks') || !legacy.includes('user: legacy,')) throw new Error('the legacy user not made');
  const file = join(mkdtempSync(join(tmpdir(), 'lf-give-back-conf-')), 'nats.conf');
  writeFileSync(file, `${conf.slice(0, end)}${legacy}${conf.slice(end)}`);
  return file;
}

describe.skipIf(noNats)(`a run of an attempt given back by a stopping worker${skipNote}`, () => {
  const logs: string[] = [];
  // A 30 s task ack wait: a worker's first heartbeat (when it claims an offered attempt) comes 10 s in, unless it is
  // given a shorter one.
  const c = useCluster({
    engines: 1,
    production: true,
    config: withLegacyWorker(),
    deploy: [held],
    engine: { directDispatch: true, settings: { taskAckWaitMs: 30_000 }, log: (l) => logs.push(`ENGINE ${l}`) },
  });
  const show = () => logs.join('\n');

  /** `claimed`: the first worker claims the offered run (a beat every 500 ms) before it is stopped; else it never does. */
  async function givenBackThenCopied(claimed: boolean): Promise<void> {
    logs.length = 0;
    const admin = await c.connect();
    const ran: string[] = [];
    const started = gate();
    // The offers of `hold`, as a worker of the queue sees them (a plain subscriber: it never answers).
    const offers: TaskMessage[] = [];
    const sub = admin.subscribe(subjects.offer('default', 'hold'), {
      callback: (_err, m) => {
        offers.push(JSON.parse(new TextDecoder().decode(m.data)) as TaskMessage);
      },
    });
    c.defer(() => sub.unsubscribe());
    await admin.flush();
    const first = await c.addWorker({
      directOffers: true,
      ...(claimed ? { settings: { taskAckWaitMs: 1500 } } : {}),
      log: (l) => logs.push(`W1 ${l}`),
      handlers: {
        hold: (_input, ctx) => {
          ran.push('W1');
          started.open();
          return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve({ held: true })));
        },
      },
    });
    const { runId } = await c.client.start('give-back-copy', {});
    await started.opened;
    const offered = await waitFor('the offer seen', () => offers.find((o) => o.runId === runId && !o.restart), {
      detail: show,
    });
    const ledger = await AttemptLedger.open(admin);
    const key = await ledgerKeyOf(admin, runId, 'hold', 1);
    if (claimed)
      await waitFor('the first worker to claim it', async () => (await ledger.read(key))?.by?.worker === first.name, {
        detail: show,
      });
    // The worker the restart (and the copy) go to: its user may not use lf.asks, so it claims every attempt at once.
    const second = await c.addWorker({
      nats: c.as('legacy'),
      log: (l) => logs.push(`W2 ${l}`),
      handlers: {
        hold: async () => {
          ran.push('W2');
          return { done: true };
        },
      },
    });
    try {
      await c.stopWorker(first, { graceMs: 0 });
      const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
      expect(view.status, show()).toBe('COMPLETED');
      expect(ran, show()).toEqual(['W1', 'W2']);

      // The run given back (restart 0) is settled as no longer wanted, by the worker that gave it back.
      expect((await ledger.read(key))?.by, show()).toMatchObject({ worker: first.name, finished: 'aborted' });

      // The copy its offering engine would queue once it stops hearing of it: the offer's body, marked, signed.
      const { reportTo: _engine, ...task } = offered;
      const data = new TextEncoder().encode(JSON.stringify({ ...task, redispatch: true }));
      const h = headers();
      h.set(ATTEMPT_SIG_HEADER, (await AttemptTokens.open(jetstream(admin))).sign(data));
      await jetstream(admin).publish(subjects.task('default', 'hold'), data, {
        headers: h,
        msgID: `${runId}/hold/1/copy`,
      });
      // Dropped at once on the mark: not run, and not held for a claim to go stale first.
      const said = await waitFor(
        'the copy to be dropped or run',
        () => (ran.length > 2 ? 'ran' : logs.find((l) => l.startsWith('W2') && l.includes(`${runId}/hold/1`))),
        { timeout: 20_000, detail: show },
      );
      expect(said, show()).toMatch(/settled in the attempt ledger as no longer wanted/);
      // Its loss report comes to the engine, which finds it stale: nothing more is recorded.
      await waitFor(
        'the loss found stale',
        () =>
          logs.some(
            (l) => l.startsWith('ENGINE') && l.includes(runId) && /loss of hold attempt 1 no longer applies/.test(l),
          ),
        { timeout: 20_000, detail: show },
      );
      expect(ran, show()).toEqual(['W1', 'W2']);
      const events = await c.client.store.read(runId);
      expect(events.map((e) => e.type)).toEqual([
        'run.started',
        'task.started',
        'task.released',
        'task.restarted',
        'task.completed',
      ]);
      expect(replayRun(events).divergence).toBeNull();
    } finally {
      await c.stopWorker(second);
    }
  }

  it('never claimed (given back before its first beat): settled as aborted by its worker, and a copy queued afterwards is dropped unrun by a worker that claims at once', async () => {
    await givenBackThenCopied(false);
  }, 60_000);

  it('claimed before the stop: settled as aborted, and a copy is dropped at once, not held until the claim goes stale then reported lost', async () => {
    await givenBackThenCopied(true);
  }, 60_000);

  it('a handler deaf to the abort: the beats that go on while the stop waits for it leave the aborted mark as it is', async () => {
    logs.length = 0;
    const admin = await c.connect();
    const started = gate();
    const release = gate();
    const first = await c.addWorker({
      directOffers: true,
      // A beat every 500 ms (a third of the ack wait, the least there is): several fall in the stop's 2 s last wait.
      settings: { taskAckWaitMs: 1500 },
      log: (l) => logs.push(`W1 ${l}`),
      handlers: {
        // Deaf to ctx.signal: it ends only when the test lets it, after the stop.
        hold: async () => {
          started.open();
          await release.opened;
          return { held: true };
        },
      },
    });
    c.defer(() => release.open());
    const { runId } = await c.client.start('give-back-copy', {});
    await started.opened;
    const ledger = await AttemptLedger.open(admin);
    const key = await ledgerKeyOf(admin, runId, 'hold', 1);
    await waitFor('the first worker to claim it', async () => (await ledger.read(key))?.by?.worker === first.name, {
      detail: show,
    });

    // In the order they come: every write of the attempt's ledger entry, and every beat of its worker (each beat tells
    // the engine that offered it `task.held`, whether or not it rewrites the claim).
    const seen: string[] = [];
    const watch = await (await new Kvm(jetstream(admin)).open(ATTEMPTS_BUCKET)).watch({
      key,
      include: KvWatchInclude.UpdatesOnly,
    });
    c.defer(() => watch.stop());
    void (async () => {
      for await (const e of watch) seen.push(`write ${e.json<AttemptRecord>().finished ?? 'claim'}`);
    })().catch((err: unknown) => seen.push(`the watch failed: ${String(err)}`));
    const beats = admin.subscribe(`${subjects.directReport('worker', 'default', runId)}.>`, {
      callback: (_err, m) => {
        if ((m.json() as { type?: string }).type === 'task.held') seen.push('beat');
      },
    });
    c.defer(() => beats.unsubscribe());
    await admin.flush();
    const afterMark = () => seen.slice(seen.indexOf('write aborted') + 1);
    // The worker the restart goes to, there before the stop as in a rolling deploy (else it is offered to the stopping
    // one and queued only once its engine stops hearing of it, the 30 s ack wait).
    const second = await c.addWorker({ handlers: { hold: async () => ({ done: true }) } });

    await c.stopWorker(first, { graceMs: 0 });
    // Marked first, then beating on through the stop's wait for the handler: two beats at least after the mark (the
    // first may have raced its write), the second more than a heartbeat interval after it.
    await waitFor(
      'beats after the aborted mark',
      () => seen.includes('write aborted') && afterMark().filter((s) => s === 'beat').length >= 2,
      { detail: () => `${seen.join(', ')}\n${show()}` },
    );
    expect((await ledger.read(key))?.by, show()).toMatchObject({ worker: first.name, finished: 'aborted' });

    // The handler ends at last (its beat stops with it), and the restart runs elsewhere: the mark is still there, and
    // nothing was written over it at any point.
    release.open();
    try {
      const view = await c.runs.wait(runId, { timeoutMs: 30_000 });
      expect(view.status, show()).toBe('COMPLETED');
    } finally {
      await c.stopWorker(second);
    }
    expect((await ledger.read(key))?.by, show()).toMatchObject({ worker: first.name, finished: 'aborted' });
    expect(
      afterMark().filter((s) => s !== 'beat'),
      seen.join(', '),
    ).toEqual([]);
  }, 60_000);
});
