/**
 * A start's kick carries the commit the start appended (docs/wire-protocol.md, "Between engines"), and the engine
 * folds it instead of reading the run back: as the page shows it on LF_INPUTS, on a real nats-server. The engine
 * trusts the state it gives only once its own next commit is appended at that commit's position: a kick that comes
 * again after the run moved on runs nothing again. The store checks a handed commit as it checks one it reads.
 */
import { jetstream } from '@nats-io/jetstream';
import { beforeAll, describe, expect, it } from 'vitest';
import { STREAMS, subjects } from '../../src/cluster/index.js';
import { ENGINE_CONSUMERS } from '../../src/cluster/transport/subjects.js';
import { StoreError } from '../../src/errors/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';
import { runReads } from '../../src/runs/index.js';
import { ClusterEngine } from '../../src/cluster/index.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const flow = def(`
workflow:
  id: handed-kick
  name: Two steps and a person's approval
  version: 1
  input:
    optional:
      - order: { type: string }
      - i: { type: number }
      - by: { type: string }
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: check, type: HUMAN, depends_on: [fetch], approvers: [alice] }
    - { id: ship, type: SIMPLE, depends_on: [check] }
`);

describe.skipIf(noNats)("a start's kick carries the run's first commit", () => {
  const c = useCluster({ deploy: [flow] });
  const calls: string[] = [];
  const handlers = {
    fetch: async () => {
      calls.push('fetch');
      return { rows: 3 };
    },
    ship: async () => {
      calls.push('ship');
      return { shipped: true };
    },
  };

  it('on LF_INPUTS as the page shows it: the sequence and subject of the commit on LF_EVENTS, and the commit as stored', async () => {
    const { runId } = await c.client.start('handed-kick', { order: 'A-1' });
    const jsm = await c.jsm();
    const kick = await jsm.streams.getMessage(STREAMS.inputs.name, {
      last_by_subj: subjects.input('anonymous', runId),
    });
    const stored = await jsm.streams.getMessage('LF_EVENTS', { last_by_subj: `lf.events.handed-kick.${runId}` });
    expect(kick!.json()).toEqual({
      type: 'kick',
      runId,
      started: true,
      first: { position: stored!.seq, subject: `lf.events.handed-kick.${runId}`, commit: stored!.json() },
    });
    expect(kick!.header?.get('Nats-Msg-Id')).toBe(`${runId}/kick`);
  });

  it('the engine folds it unread, and a kick of it again after the run moved on runs nothing twice', async () => {
    await c.addWorker({ handlers });
    const engine = await c.addEngine();
    const before = engine.store.handedCommits.taken;
    const started = await Promise.all(Array.from({ length: 20 }, (_, i) => c.client.start('handed-kick', { i })));
    for (const { runId } of started) expect((await c.runs.wait(runId, { orWaiting: true })).status).toBe('WAITING');
    // Each start's read of the run was the commit its kick carried (the first test's run was read too: it had none kept).
    expect(engine.store.handedCommits.taken - before).toBeGreaterThanOrEqual(20);
    expect(calls.filter((x) => x === 'fetch')).toHaveLength(21);

    // The first run's kick sent again under a new id, as if delivered anew: its commit is the run's start, long passed.
    const { runId } = started[0]!;
    const events = await c.client.store.read(runId);
    const jsm = await c.jsm();
    const subject = `lf.events.handed-kick.${runId}`;
    const stored = await jsm.streams.getMessage('LF_EVENTS', { next_by_subj: subject, seq: 1 } as never);
    const again = {
      type: 'kick',
      runId,
      started: true,
      first: { position: stored!.seq, subject, commit: stored!.json() },
    };
    const js = jetstream(await c.admin());
    await js.publish(subjects.input('anonymous', runId), JSON.stringify(again), { msgID: `${runId}/kick-again` });
    await waitFor('the kick taken', async () => {
      const info = await jsm.consumers.info(STREAMS.inputs.name, ENGINE_CONSUMERS.inputs);
      return info.num_pending + info.num_ack_pending === 0;
    });
    // Nothing ran again and nothing was recorded: the engine's commit on the old state was refused, and it read the run.
    expect(calls.filter((x) => x === 'fetch')).toHaveLength(21);
    expect(await c.client.store.read(runId)).toEqual(events);
    expect((await c.runs.status(runId))?.status).toBe('WAITING');

    // A kick from a sender that is not the engine's own user (here `engine` by name, the engine being `anonymous`): its
    // commit is not taken, the run is read as without it, and it runs as any other.
    const taken = engine.store.handedCommits.taken;
    const other = await c.clientAs('engine').start('handed-kick', { by: 'name' });
    expect((await c.runs.wait(other.runId, { orWaiting: true })).status).toBe('WAITING');
    expect(engine.store.handedCommits.taken).toBe(taken);
  }, 60_000);
});

describe.skipIf(noNats)('a commit handed to the store', () => {
  const c = useCluster({ deploy: [flow] });

  it('is read once in place of the stream, checked as a read commit is, and not when the store knows the run further on', async () => {
    const { runId } = await c.client.start('handed-kick', { order: 'B-2' });
    const jsm = await c.jsm();
    const stored = (await jsm.streams.getMessage('LF_EVENTS', { last_by_subj: `lf.events.handed-kick.${runId}` }))!;
    const commit = stored.json<{ dedupId: string; events: { data: { input: unknown } }[] }>();
    const reader = new JetStreamEventStore({ servers: c.url });
    c.defer(() => reader.close());
    const hand = (over: (x: typeof commit) => void, subject = stored.subject, id = runId) => {
      const copy = structuredClone(commit);
      over(copy);
      reader.handedCommits.give(id, { position: stored.seq, subject, commit: copy });
    };

    // Handed a commit that says another input (legal, so that what the read returns tells where it came from).
    hand((x) => {
      x.events[0]!.data.input = { order: 'handed' };
    });
    const first = await reader.read(runId);
    expect(first[0]!.type === 'run.started' && first[0]!.data.input).toEqual({ order: 'handed' });
    expect(reader.handedCommits.taken).toBe(1);
    // Taken once: the next read is the stream's.
    const next = await reader.read(runId);
    expect(next[0]!.type === 'run.started' && next[0]!.data.input).toEqual({ order: 'B-2' });

    // Refused as a read from the stream refuses them: nothing kept, the read is the stream's.
    expect(() => hand(() => {}, `lf.events.other.${runId}`)).toThrow(StoreError);
    expect(() =>
      hand((x) => {
        (x.events[0] as unknown as { seq: number }).seq = 2;
      }),
    ).toThrow(StoreError);
    expect(() => hand(() => {}, stored.subject, 'another-run-0000')).toThrow(StoreError);
    expect(() => reader.handedCommits.give(runId, { position: stored.seq, subject: stored.subject })).toThrow(
      StoreError,
    );
    // This store has read the run at this position: a commit handed for another position is not taken.
    reader.handedCommits.give(runId, { position: stored.seq + 1000, subject: stored.subject, commit });
    await reader.read(runId);
    expect(reader.handedCommits.taken).toBe(1);
  });
});

describe.skipIf(noNats)("a person's start, asked of the engines", () => {
  const nats = useUsersNats();
  let dir = '';
  beforeAll(async () => {
    dir = tempDir('lf-handed-request-');
    writeFileSync(
      join(dir, 'review.yaml'),
      'workflow:\n  id: review\n  input:\n    optional:\n      - i: { type: number }\n  tasks:\n    - { id: check, type: HUMAN }\n',
    );
    await nats.start(dir, [
      ['engine', 'L1'],
      ['bob', 'L2'],
    ]);
    expect((await nats.as('engine', ['deploy', 'review.yaml'])).code).toBe(0);
  }, 60_000);

  it('is kicked with the commit the engine appended for them, which the engine taking the kick folds unread', async () => {
    const engine = new ClusterEngine({ nats: nats.url('engine') });
    await engine.start();
    try {
      const before = engine.store.handedCommits.taken;
      // As the docs have a person start a run: `ledgerflow start` as their NATS user, a request the engine does as the engine user.
      const runIds = await Promise.all(
        Array.from({ length: 5 }, async (_, i) => {
          const out = await nats.as('bob', ['start', 'review', '--i', String(i)]);
          expect(out.code, out.stderr).toBe(0);
          return out.stdout.trim();
        }),
      );
      const reads = runReads(nats.admin().store);
      for (const runId of runIds) expect((await reads.wait(runId, { orWaiting: true })).status).toBe('WAITING');
      expect(engine.store.handedCommits.taken - before).toBe(5);
    } finally {
      await engine.stop();
    }
  }, 60_000);
});
