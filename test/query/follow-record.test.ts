/**
 * A run page's stream sends the run's record with each batch of events (docs/dashboard.md, the run page's header):
 * `followRecord` keeps it as `get` would give it at each point, reading and folding the whole log only the first
 * time. Before, each batch of a MAP of thousands of items read and folded the whole log again, and a page watching
 * such a run slowed the run itself several times over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { Engine } from '../../src/local/index.js';
import { openRunIndex, recordOf } from '../../src/query/index.js';
import { FileEventStore, MemoryEventStore, type EventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';

const SCAN = def(`
workflow:
  id: scan-depots
  version: 1
  tasks:
    - id: list_folders
      type: SIMPLE
    - id: scan_each
      type: MAP
      depends_on: [list_folders]
      items: "\${list_folders.output.folders}"
      handler: scan_folder
      input: { path: "\${item}" }
      max_concurrency: 4
      tolerate_failures: 1
    - id: report
      type: SIMPLE
      depends_on: [scan_each]
`);

const handlers = {
  list_folders: async () => ({ folders: Array.from({ length: 300 }, (_, i) => `depot-${i}`) }),
  scan_folder: async ({ path }: Record<string, unknown>) => {
    if (path === 'depot-234') throw new Error(`${String(path)} is unreadable`);
    return { path };
  },
  report: async () => ({ done: true }),
};

const closing: EventStore[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((s) => s.close()));
});

const STORES: Array<[string, () => EventStore]> = [
  ['memory', () => new MemoryEventStore()],
  ['file', () => new FileEventStore(tempDir('lf-follow-record-'))],
];

/** The recorded run's log as it stood when `upTo()` events were in it (a run growing under the page), its reads counted. */
function growing(store: EventStore, events: EventEnvelope[], upTo: () => number): EventStore & { reads: number } {
  const grown = Object.create(store) as EventStore & { reads: number };
  grown.reads = 0;
  grown.read = async (runId) => {
    grown.reads++;
    return runId === events[0]!.runId ? events.slice(0, upTo()) : [];
  };
  return grown;
}

async function recordedRun(
  make: () => EventStore,
): Promise<{ runId: string; events: EventEnvelope[]; store: EventStore }> {
  const store = make();
  closing.push(store);
  const view = await new Engine({ store }).run(SCAN, {}, { handlers });
  expect(view.status).toBe('COMPLETED');
  return { runId: view.runId, events: await store.read(view.runId), store };
}

describe.each(STORES)('followRecord on the %s store', (_, make) => {
  it('gives at each batch the record get() gives of the log so far, reading the log once', async () => {
    const { runId, events, store } = await recordedRun(make);
    expect(events.length).toBeGreaterThan(600);
    // The page read 40 events, then batches of uneven sizes arrive, as a store's follow gives them.
    let at = 40;
    const log = growing(store, events, () => at);
    const index = openRunIndex({ store: log });
    const follower = index.followRecord(runId);
    for (const size of [1, 13, 64, 200, 7, 1000]) {
      const batch = events.slice(at, at + size);
      if (batch.length === 0) break;
      at += batch.length;
      // What get() gives of the log as it stands: the same record, event for event.
      const got = await follower.next(batch);
      expect(got).toEqual(await index.get(runId));
      expect(got).toEqual(recordOf(events.slice(0, at)));
    }
    expect(at).toBe(events.length);
    expect((await follower.next([]))?.status).toBe('COMPLETED');
    // Once by the follower (its first batch), once by each get() above: the follower never read it again.
    expect(log.reads).toBe(1 + 6);
    await index.close();
  });

  it('reads and folds the whole log again when a batch does not follow on from the record', async () => {
    const { runId, events, store } = await recordedRun(make);
    let at = 10;
    const log = growing(store, events, () => at);
    const index = openRunIndex({ store: log });
    const follower = index.followRecord(runId);
    expect(await follower.next(events.slice(0, 10))).toEqual(recordOf(events.slice(0, 10)));
    // Events 11 to 500 never came (a stream that missed them): the batch after the gap is not added to the record.
    at = 510;
    expect(await follower.next(events.slice(500, 510))).toEqual(recordOf(events.slice(0, 510)));
    expect(log.reads).toBe(2);
    expect(await index.followRecord('20261202-000000-nosuchrun0000').next([])).toBeNull();
    await index.close();
  });
});
