/**
 * Appends racing on one run of a replicated (R3) stream. nats-server checks
 * an append's expected last subject sequence on a replicated stream before
 * replicating it, not atomically with the write (nats-server#4320, 2.9 up to
 * 2.9.20; across a leader change still, nats-server#8469): two appends with
 * one expectation can both be stored. The store must still give one winner
 * per seq, the loser an AppendConflictError, and every reader the winner's
 * history. Two stores on different nodes race round after round.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { noNats, skipNote, testCluster } from '../helpers/cluster.js';
import { AppendConflictError } from '../../src/errors/index.js';
import { JetStreamEventStore } from '../../src/store/index.js';
import { ev } from '../store/helpers.js';

describe.skipIf(noNats)(`appends racing on a 3-node cluster${skipNote}`, () => {
  it('one winner per seq and one history, whatever the server stored: 150 rounds of two appends with one expectation', async () => {
    const cluster = await testCluster({ server: 'three-nodes' });
    const stores: JetStreamEventStore[] = [];
    cluster.defer(() => Promise.all(stores.map((s) => s.close())));
    const stream = `LFR_${randomBytes(3).toString('hex')}`;
    const subjectPrefix = `lfr.${stream}`;
    // Each on its own node: the appends reach the stream leader by different routes, as two engines' do.
    for (const n of cluster.natsCluster!.nodes.slice(0, 2)) {
      stores.push(new JetStreamEventStore({ servers: n.url, stream, subjectPrefix, replicas: 3 }));
    }
    await stores[0]!.connect();
    await stores[1]!.connect();
    const run = 'raced-run';
    await stores[0]!.append({ runId: run, expectedSeq: 0, dedupId: 'start', events: [ev(run, 1)] });
    await stores[1]!.read(run); // both know where the run ends: no lookup before the racing publishes
    let seq = 1;
    const winners: string[] = [];
    for (let round = 0; round < 150; round++) {
      const outcomes = await Promise.all(
        stores.map((s, i) =>
          s
            .append({
              runId: run,
              expectedSeq: seq,
              dedupId: `r${round}-s${i}`,
              events: [ev(run, seq + 1, { output: `s${i}` })],
            })
            .then(
              () => `s${i}`,
              (err: unknown) => {
                if (err instanceof AppendConflictError) return 'conflict';
                throw err;
              },
            ),
        ),
      );
      const won = outcomes.filter((o) => o !== 'conflict');
      expect(won, `round ${round}: ${outcomes.join(', ')}`).toHaveLength(1);
      winners.push(won[0]!);
      seq++;
      // The loser reloads, as an engine does, and knows where the run ends again.
      for (const s of stores) await s.read(run, { fromSeq: seq });
    }
    for (const s of stores) {
      const events = await s.read(run);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: seq }, (_, i) => i + 1));
      expect(events.slice(1).map((e) => (e.data as { output: string }).output)).toEqual(winners);
    }
  }, 60_000);
});
