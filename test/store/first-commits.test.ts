/**
 * A run's first commit as the engine read it, kept for its runs index
 * (JetStreamEventStore.firstCommits: keep / take): an engine reads
 * each run a client started to drive it, and the index projection is then
 * delivered the same message; it takes the events read instead of parsing and
 * validating them again. Against a real nats-server, a client's store writing
 * and an engine's store reading, as on the cluster path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../src/store/index.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';
import { ev, evs } from './helpers.js';

describe.skipIf(noNats)(`first commits kept for the runs index${skipNote}`, () => {
  const c = useCluster({ server: 'shared' });
  const id = uniqueId();
  const names = { stream: `LFT_${id}`, subjectPrefix: `lft.${id}` };
  const opened: JetStreamEventStore[] = [];
  const open = () => {
    const s = new JetStreamEventStore({ servers: c.url, ...names });
    opened.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of opened) await s.close();
    await (await c.jsm()).streams.delete(names.stream).catch(() => undefined);
  });

  it("hands over a run's first commit read here once, at its position and for its run only; nothing before it is asked to keep them", async () => {
    const client = open();
    const engine = open();
    const started = await client.append({
      runId: 'run-a',
      expectedSeq: 0,
      dedupId: 'start-a',
      events: [ev('run-a', 1)],
    });
    const before = await client.append({
      runId: 'run-b',
      expectedSeq: 0,
      dedupId: 'start-b',
      events: [ev('run-b', 1)],
    });
    expect(typeof started.position).toBe('number');
    // Read before keepFirstCommits: not kept.
    expect(await engine.read('run-b')).toHaveLength(1);
    engine.firstCommits.keep(() => true);
    expect(engine.firstCommits.take(before.position!, 'run-b')).toBeUndefined();
    const read = await engine.read('run-a');
    expect(read).toEqual([ev('run-a', 1)]);
    // Another run's id at that position is not given it; the run's own is, once.
    expect(engine.firstCommits.take(started.position!, 'run-b')).toBeUndefined();
    await engine.read('run-a');
    expect(engine.firstCommits.take(started.position!, 'run-a')).toEqual([ev('run-a', 1)]);
    expect(engine.firstCommits.take(started.position!, 'run-a')).toBeUndefined();
  });

  it('keeps nothing of a run that has more than its first commit', async () => {
    const client = open();
    const engine = open();
    const first = await client.append({ runId: 'run-c', expectedSeq: 0, dedupId: 'start-c', events: [ev('run-c', 1)] });
    await client.append({ runId: 'run-c', expectedSeq: 1, dedupId: 'next-c', events: evs('run-c', 2, 3) });
    engine.firstCommits.keep(() => true);
    expect(await engine.read('run-c')).toHaveLength(3);
    expect(engine.firstCommits.take(first.position!, 'run-c')).toBeUndefined();
  });
});
