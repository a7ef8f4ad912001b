/**
 * The JetStream store's own connection writes once per event loop turn
 * (src/store/jetstream/write-coalesce.ts); other connections of the process
 * are left as they are, and every append lands.
 */
import { connect } from 'nats';
import { describe, expect, it } from 'vitest';
import { JetStreamEventStore } from '../../src/store/index.js';
import { coalesceWrites } from '../../src/store/jetstream/write-coalesce.js';
import { noNats, skipNote, uniqueId, useCluster } from '../helpers/cluster.js';
import { ev } from './helpers.js';

const shared = useCluster({ server: 'shared' });
const protocolOf = (nc: unknown) => (nc as { protocol: { __lfCoalesced?: true } }).protocol;
/** Patched on this connection itself (not through the class, as an engine or worker process patches every connection: see cluster/transport/write-coalesce.ts, which may have run in this worker before). */
const ownMethods = (nc: unknown) => [Object.hasOwn(protocolOf(nc), 'sendCommand'), Object.hasOwn(protocolOf(nc), 'close')];

describe.skipIf(noNats)(`the JetStream store's socket writes${noNats ? skipNote : ''}`, () => {
  it('are coalesced on its own connection only, and every append lands', async () => {
    const id = uniqueId();
    const names = { stream: `LFW_${id}`, subjectPrefix: `lfw.${id}` };
    const store = new JetStreamEventStore({ servers: shared.url, ...names });
    const other = await connect({ servers: shared.url });
    try {
      const own = await store.connection();
      expect(protocolOf(own).__lfCoalesced).toBe(true);
      // The store patches its own connection only: when the class is not patched, its methods are its own.
      if (!Object.getPrototypeOf(protocolOf(own)).__lfCoalesced) expect(ownMethods(own)).toEqual([true, true]);
      expect(ownMethods(other)).toEqual([false, false]);
      const runs = Array.from({ length: 50 }, (_, i) => `w${i}`);
      // Each run's appends from promise continuations of their own, all in flight at once.
      await Promise.all(runs.map(async (runId) => {
        for (let seq = 1; seq <= 3; seq++) await store.append({ runId, expectedSeq: seq - 1, dedupId: `d${seq}`, events: [ev(runId, seq)] });
      }));
      for (const runId of runs) expect((await store.read(runId)).map((e) => e.seq)).toEqual([1, 2, 3]);
    } finally {
      await store.close();
      await other.close();
    }
    const reader = new JetStreamEventStore({ servers: shared.url, ...names });
    try {
      expect((await reader.read('w49')).length).toBe(3);
    } finally {
      await reader.close();
      const jsm = await shared.jsm();
      await jsm.streams.delete(names.stream).catch(() => undefined);
    }
  });

  it('leaves an object of another shape as it is', () => {
    const odd = { sendCommand: 1 };
    expect(coalesceWrites(odd)).toBe(false);
    expect(odd).toEqual({ sendCommand: 1 });
    expect(coalesceWrites(undefined)).toBe(false);
  });
});
