/**
 * `ledgerflow dlq list|show|replay|purge` as a user calls them, against a real
 * nats-server and engine: an approval sent before its run existed is
 * dead-lettered, and replayed once the run exists it is recorded; a 7.5 MB
 * event is kept only as an excerpt, so its replay is refused; purge deletes
 * only with --yes. On the production nats.conf: a connection without
 * credentials is refused, and a dead letter a worker forges is never replayed.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { subjects, type DeadLetterEntry } from '../../src/cluster/index.js';
import { loadEventTypes, runIdForEvent } from '../../src/triggers/index.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { deadLetters } from '../helpers/dead-letters.js';
import { waitFor } from '../helpers/wait.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

const WORKFLOW = `
workflow:
  id: dlq-replay
  name: A revenue milestone, signed by alice
  version: 1
  triggers:
    - event: revenue_milestone
      input: {}
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`;
const SAMPLE = {
  month: '2026-10',
  revenue: 1250000,
  target: 1000000,
  currency: 'EUR',
  region: 'EMEA',
  operating_costs: 900000,
};

describe.skipIf(noNats)('ledgerflow dlq', () => {
  const c = useCluster({ engines: 1, engine: { eventTypes: loadEventTypes(join(ROOT, 'events')) } });
  let admin: NatsConnection;
  const lf = (...args: string[]) => cli(['--nats', c.url, ...args]);
  beforeAll(async () => {
    admin = await c.connect();
  });

  it('lists, shows and replays an approval dead-lettered before its run existed: replayed, it is recorded', async () => {
    const file = join(tempDir(), 'dlq-replay.yaml');
    writeFileSync(file, WORKFLOW);
    expect((await lf('deploy', file)).code).toBe(0);
    // The run an event starts has an id known in advance: alice approves before the event is sent.
    const runId = runIdForEvent('milestone-1', 'dlq-replay');
    const early = await cli(['--nats', c.as('alice'), 'approve', runId, 'sign', '--comment', 'ok']);
    expect(early.code, early.stdout + early.stderr).toBe(2);

    // Read-only: side by side.
    const [listed, text] = await Promise.all([lf('dlq', 'list', '--json'), lf('dlq', 'list')]);
    expect(listed.code).toBe(0);
    const [entry] = JSON.parse(listed.stdout);
    expect(entry).toMatchObject({
      kind: 'approvals',
      replayable: true,
      letter: {
        runId,
        taskId: 'sign',
        by: 'alice',
        reason: expect.stringMatching(/does not exist/),
        source: { subject: subjects.approval(runId, 'sign', 'alice') },
      },
    });
    expect(text.stdout).toMatch(new RegExp(`^\\s+${entry.seq}  approvals .* replayable`, 'm'));
    expect(text.stdout).toContain('1 dead letter (1 replayable)');

    const shown = await lf('dlq', 'show', String(entry.seq));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      `from:    LF_APPROVALS message ${entry.letter.source.seq} on ${subjects.approval(runId, 'sign', 'alice')}, delivered 1 time`,
    );
    expect(shown.stdout).toContain('replay:  yes');
    expect(shown.stdout).toContain('{"decision":"approved","comment":"ok"}');

    // Now the run exists, waiting for alice.
    const emitted = await lf('emit', 'revenue_milestone', '--id', 'milestone-1', '--data', JSON.stringify(SAMPLE));
    expect(emitted.code).toBe(0);
    expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');
    const replayed = await lf('dlq', 'replay', String(entry.seq));
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain(
      `replayed dead letter ${entry.seq}: published again on ${subjects.approval(runId, 'sign', 'alice')}`,
    );
    const done = await c.runs.wait(runId, { timeoutMs: 15_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.sign!.output).toMatchObject({ by: 'alice', comment: 'ok' });
    // Replayed means gone from the dead letters; a second replay finds nothing (exit 2).
    const [after, again] = await Promise.all([lf('dlq', 'list', '--json'), lf('dlq', 'replay', String(entry.seq))]);
    expect(JSON.parse(after.stdout)).toEqual([]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/there is no dead letter \d+/);
  }, 60_000);

  it('refuses to replay a dead letter whose body was not kept, and purges only with --yes', async () => {
    const filler = 'she said "no" ';
    const body = JSON.stringify({
      id: 'huge-1',
      type: 'revenue_milestone',
      time: new Date().toISOString(),
      data: { notes: filler.repeat(Math.floor((7.5 * 1024 * 1024) / 16)) },
    });
    await jetstream(admin).publish(subjects.trigger('revenue_milestone'), new TextEncoder().encode(body));
    await waitFor(
      'the event in lf.dlq.triggers',
      async () => (await deadLetters(await jetstreamManager(admin), 'triggers')).length > 0,
      { timeout: 20_000 },
    );
    const entries = JSON.parse((await lf('dlq', 'list', '--kind', 'triggers', '--json')).stdout);
    expect(entries).toHaveLength(1);
    const [big] = entries as { seq: number }[];
    expect(big).toMatchObject({
      kind: 'triggers',
      replayable: false,
      notReplayable: expect.stringMatching(/was not kept/),
    });

    // None of these changes anything (each is refused, or only reads): side by side; the list after them still holds the letter.
    const [shown, refused, all, noYes, badKind] = await Promise.all([
      lf('dlq', 'show', String(big!.seq)),
      lf('dlq', 'replay', String(big!.seq)),
      lf('dlq', 'replay', '--all', '--json'),
      lf('dlq', 'purge'),
      lf('dlq', 'purge', '--kind', 'nonsense', '--yes'),
    ]);
    expect(shown.stdout).toMatch(/body: {4}\d+ bytes, sha256 [0-9a-f]{64}/);
    expect(shown.stdout).toMatch(/body \(first 4096 bytes, truncated\):\n\s*\{"id":"huge-1"/);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /dead letter \d+ cannot be replayed: its body \(\d+ bytes\) was not kept, only an excerpt/,
    );
    expect(all.code).toBe(2);
    expect(JSON.parse(all.stdout)).toMatchObject({ replayed: [], refused: [{ seq: big!.seq }] });

    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/would delete 1 dead letter; nothing deleted: pass --yes/);
    expect(JSON.parse((await lf('dlq', 'list', '--json')).stdout)).toHaveLength(1);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toMatch(
      /--kind nonsense is not a kind of dead letter; use one of inputs, timers, approvals, triggers, tasks/,
    );
    const purged = await lf('dlq', 'purge', '--kind', 'triggers', '--yes', '--json');
    expect(purged.code).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ purged: 1, kind: 'triggers' });
    const [emptied, badSeq] = await Promise.all([lf('dlq', 'list', '--json'), lf('dlq', 'show', 'x')]);
    expect(JSON.parse(emptied.stdout)).toEqual([]);
    expect(badSeq.code).toBe(2);
  }, 60_000);
});

/**
 * Against the production nats.conf (a connection without
 * credentials is refused): a worker may write dead letters only under its own
 * name, and what it writes is never published again with the engine's rights.
 */
describe.skipIf(noNats)('ledgerflow dlq on the production nats.conf', () => {
  const c = useCluster({ production: true, engines: 1 });
  let admin: NatsConnection;
  let worker: NatsConnection;
  const lf = (...args: string[]) => cli(['--nats', c.as('engine'), ...args]);
  beforeAll(async () => {
    admin = await c.connect();
    worker = await c.connect('worker');
  });

  it('a connection without credentials is refused, so it cannot approve as alice', async () => {
    const file = join(tempDir(), 'dlq-anon.yaml');
    writeFileSync(file, WORKFLOW.replace('id: dlq-replay', 'id: dlq-anon'));
    expect((await lf('deploy', file)).code).toBe(0);
    const started = await lf('start', 'dlq-anon', '--json');
    expect(started.code, started.stderr).toBe(0);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');

    await expect(connect({ servers: c.url, maxReconnectAttempts: 0 })).rejects.toThrow(/authorization/i);
    // `approve` without a user, with or without --as, is refused by the server before anything is published, and says what to give, as every command does.
    // Every one of these is refused by the server on connecting: side by side.
    const handlers = join(ROOT, 'test', 'fixtures', 'handlers.mjs');
    const [anonymous, anonymousAs, status, noUser, wrong] = await Promise.all([
      cli(['--nats', c.url, 'approve', runId, 'sign']),
      cli(['--nats', c.url, 'approve', runId, 'sign', '--as', 'alice']),
      cli(['--nats', c.url, 'status', runId]),
      cli(['--nats', c.url, 'worker', '--handlers', handlers]),
      cli(['--nats', c.url.replace('nats://', 'nats://worker:nope@'), 'worker', '--handlers', handlers]),
    ]);
    for (const refused of [anonymous, anonymousAs]) {
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /refuses connections without credentials; put a user in the URL, nats:\/\/<user>:<password>@host:port/,
      );
    }
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(
      /refuses connections without credentials; put a user in the URL, nats:\/\/<user>:<password>@host:port/,
    );
    // The worker too (it connects on its own): the same message, and a wrong password is a message, not a stack trace.
    expect(noUser.code).toBe(1);
    expect(noUser.stderr).toMatch(
      /refuses connections without credentials; put a user in the URL, nats:\/\/<user>:<password>@host:port/,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /cannot use NATS JetStream at \S+: authorization violation \(check user and password\)/,
    );
    for (const r of [noUser, wrong]) expect(r.stderr).not.toMatch(/\n\s+at /);
    expect((await c.runs.status(runId))!.tasks.sign!.status).toBe('PENDING_APPROVAL');
    expect((await c.client.store.read(runId)).filter((e) => e.type.startsWith('approval.'))).toEqual([]);
  }, 60_000);

  it('a letter the worker forges pointing at an approval is listed read-only, and replay (one or --all) refuses it with nothing published', async () => {
    const file = join(tempDir(), 'dlq-forged.yaml');
    writeFileSync(file, WORKFLOW.replace('id: dlq-replay', 'id: dlq-forged'));
    expect((await lf('deploy', file)).code).toBe(0);
    const started = await lf('start', 'dlq-forged', '--json');
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    expect((await c.runs.wait(runId, { orWaiting: true, timeoutMs: 15_000 })).status).toBe('WAITING');

    // A worker may not write an engine's dead letters, nor another worker's, nor plain lf.dlq.tasks.
    for (const subject of [
      'lf.dlq.approvals',
      'lf.dlq.inputs',
      'lf.dlq.control',
      'lf.dlq.tasks',
      'lf.dlq.tasks.alice',
    ]) {
      await expect(
        jetstream(worker).publish(subject, new TextEncoder().encode('{}'), { timeout: 3000 }),
        subject,
      ).rejects.toThrow(/permission/i);
    }
    // What it may write: under its own name. A letter saying alice approved.
    const raw = '{"decision":"approved"}';
    const forged = (stream: string, subject: string) =>
      new TextEncoder().encode(
        JSON.stringify({
          reason: 'forged',
          at: new Date().toISOString(),
          runId,
          taskId: 'sign',
          by: 'alice',
          source: { stream, seq: 1, subject, deliveries: 1 },
          size: raw.length,
          sha256: createHash('sha256').update(raw).digest('hex'),
          raw,
        }),
      );
    const approval = subjects.approval(runId, 'sign', 'alice');
    const byWorker = await jetstream(worker).publish(subjects.workerDlq('worker'), forged('LF_APPROVALS', approval));
    // As stored before workers wrote under their own name (plain lf.dlq.tasks, which workers could write then).
    const legacy = await jetstream(admin).publish('lf.dlq.tasks', forged('LF_APPROVALS', approval));
    // An engine's letter of one kind names a subject of another: never carried across.
    const crossed = await jetstream(admin).publish(subjects.dlq('inputs'), forged('LF_APPROVALS', approval));
    // And one an engine really wrote: alice approving a run that does not exist.
    const early = await cli(['--nats', c.as('alice'), 'approve', 'no-such-run', 'sign']);
    expect(early.code, early.stdout + early.stderr).toBe(2);

    const listed = JSON.parse((await lf('dlq', 'list', '--json')).stdout) as DeadLetterEntry[];
    // The worker's letter is in the workers' own stream, named w<its sequence> there.
    expect(byWorker.stream).toBe('LF_DLQ_WORKERS');
    const workerId = `w${byWorker.seq}`;
    const byId = new Map(listed.map((e) => [e.id, e]));
    expect(byId.get(workerId)).toMatchObject({
      stream: 'LF_DLQ_WORKERS',
      kind: 'tasks',
      subject: 'lf.dlq.tasks.worker',
      writer: { role: 'worker', user: 'worker' },
      replayable: false,
      notReplayable: expect.stringMatching(/written by worker worker .*never replayed/),
    });
    expect(byId.get(String(legacy.seq))).toMatchObject({
      stream: 'LF_DLQ',
      kind: 'tasks',
      writer: { role: 'worker', user: null },
      replayable: false,
      notReplayable: expect.stringMatching(/may be a worker's/),
    });
    expect(byId.get(String(crossed.seq))).toMatchObject({
      kind: 'inputs',
      writer: { role: 'engine' },
      replayable: false,
      notReplayable: expect.stringMatching(/kind inputs is replayed only onto lf\.inputs\.… \(LF_INPUTS\)/),
    });
    const real = listed.find((e) => e.kind === 'approvals')!;
    expect(real).toMatchObject({
      writer: { role: 'engine' },
      replayable: true,
      letter: { by: 'alice', runId: 'no-such-run' },
    });

    const [{ stdout: text }, shown] = await Promise.all([lf('dlq', 'list'), lf('dlq', 'show', workerId)]);
    expect(text).toMatch(
      new RegExp(
        `^\\s+${workerId}  tasks .* read-only .*by worker worker\\n.*\\n\\s+not replayable: it was written by worker worker`,
        'm',
      ),
    );
    expect(text).toContain('4 dead letters (1 replayable)');
    expect(shown.stdout).toContain('written: by worker worker, on lf.dlq.tasks.worker');
    expect(shown.stdout).toMatch(/replay: {2}no, it was written by worker worker/);
    expect(shown.stdout).toContain(raw); // kept readable

    // Everything published on an approval subject from here on.
    const published: string[] = [];
    const tap = admin.subscribe('lf.approvals.>', { callback: (_err, m) => void published.push(m.subject) });
    await admin.flush();
    const one = await lf('dlq', 'replay', workerId);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(
      new RegExp(`dead letter ${workerId} cannot be replayed: it was written by worker worker .*nothing was published`),
    );
    const all = await lf('dlq', 'replay', '--all', '--json');
    expect(all.code).toBe(2);
    const report = JSON.parse(all.stdout) as { replayed: { id: string }[]; refused: { id: string; reason: string }[] };
    // The engine's own letter goes out again (alice's, on her subject); the others are named and kept.
    expect(report.replayed.map((r) => r.id)).toEqual([real.id]);
    expect(report.refused.map((r) => r.id).sort()).toEqual([workerId, String(legacy.seq), String(crossed.seq)].sort());
    const allText = await lf('dlq', 'replay', '--all');
    expect(allText.stderr).toMatch(
      new RegExp(`not replayed: dead letter ${workerId} cannot be replayed: it was written by worker worker`),
    );

    // Nothing was published but the engine's own letter, on alice's subject for no-such-run (once, or twice if the
    // engine had dead-lettered it again before the second --all).
    await admin.flush();
    tap.unsubscribe();
    expect(published.length).toBeGreaterThan(0);
    expect(new Set(published)).toEqual(new Set([subjects.approval('no-such-run', 'sign', 'alice')]));
    // The run still waits, with no approval in its history.
    expect((await c.runs.status(runId))!.status).toBe('WAITING');
    expect((await c.client.store.read(runId)).filter((e) => e.type.startsWith('approval.'))).toEqual([]);
    for (const shown of await Promise.all(
      [workerId, String(legacy.seq), String(crossed.seq)].map((id) => lf('dlq', 'show', id)),
    ))
      expect(shown.code).toBe(0); // still there
  }, 60_000);

  it("a worker flooding its dead-letter subject evicts none of the engines' letters (100,001 letters pushed them all out): its own oldest go", async () => {
    const jsm = await jetstreamManager(admin);
    // A letter an engine writes: alice approving a run that does not exist.
    const early = await cli(['--nats', c.as('alice'), 'approve', 'flooded-run', 'sign']);
    expect(early.code, early.stdout + early.stderr).toBe(2);
    await waitFor("the engine's letter", async () =>
      (await deadLetters(jsm, 'approvals')).some((l) => l.runId === 'flooded-run'),
    );
    const engines = (await jsm.streams.info('LF_DLQ')).state.messages;
    // The flood: past what LF_DLQ_WORKERS keeps of one worker, as fast as the server takes it.
    const js = jetstream(worker);
    const letter = new TextEncoder().encode(JSON.stringify({ reason: 'flood' }));
    for (let sent = 0; sent < 10_500; sent += 500)
      await Promise.all(Array.from({ length: 500 }, () => js.publish('lf.dlq.tasks.worker', letter)));
    const info = await jsm.streams.info('LF_DLQ_WORKERS', { subjects_filter: 'lf.dlq.tasks.worker' });
    expect(info.state.subjects?.['lf.dlq.tasks.worker']).toBe(10_000);
    expect(info.config).toMatchObject({ max_msgs_per_subject: 10_000, discard: 'old', max_msg_size: 256 * 1024 });
    // The engines' stream is untouched, their letter still there and replayable.
    expect((await jsm.streams.info('LF_DLQ')).state.messages).toBe(engines);
    const listed = JSON.parse((await lf('dlq', 'list', '--kind', 'approvals', '--json')).stdout) as DeadLetterEntry[];
    expect(listed.find((e) => e.letter?.runId === 'flooded-run')).toMatchObject({
      stream: 'LF_DLQ',
      replayable: true,
      writer: { role: 'engine' },
    });
    // And a worker's letter larger than any honest one is refused by the server.
    await expect(js.publish('lf.dlq.tasks.worker', new Uint8Array(300 * 1024))).rejects.toThrow(
      /message size exceeds maximum/i,
    );
    const purged = await lf('dlq', 'purge', '--kind', 'tasks', '--yes', '--json');
    expect(JSON.parse(purged.stdout)).toMatchObject({ kind: 'tasks' });
    expect((await jsm.streams.info('LF_DLQ_WORKERS')).state.messages).toBe(0);
  }, 60_000);

  it("a worker cannot take an engine dead letter's message id first: the engine's letter is still written", async () => {
    const jsm = await jetstreamManager(admin);
    const next = (await jsm.streams.info('LF_APPROVALS')).state.last_seq + 1;
    // Every id an engine's dead letter of the next approvals would have had, published first by the worker on its own subject.
    const js = jetstream(worker);
    for (let seq = next; seq < next + 5; seq++) {
      await js.publish('lf.dlq.tasks.worker', new TextEncoder().encode('{"reason":"decoy"}'), {
        msgID: `dlq/LF_APPROVALS/${seq}`,
      });
    }
    const subject = 'lf.approvals.no-such-run.sign.alice';
    await jetstream(admin).publish(subject, new TextEncoder().encode('{"decision":"approved"}'));
    await waitFor(
      'the engine dead-letters the approval for a run that does not exist',
      async () =>
        (await deadLetters(jsm, 'approvals')).some(
          (l) => (l.source as { subject?: string } | undefined)?.subject === subject,
        ),
      { timeout: 20_000 },
    );
  }, 60_000);
});
