/**
 * The run page's fold of a run it shows (GET /api/runs/:id; docs/dashboard.md, "What a request costs"): asked again as
 * the run moves on, it reads and folds only what the log appended since, and shows what a fold of the whole log shows
 * (the record, the attempts' inputs, the state). On the file store (read on from where the last read ended), sealed at
 * rest (opened as read), and on a store that reads from a sequence (the memory store; JetStream reads so too). A log cut
 * shorter than what was kept is read and folded whole again.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encryptedStore, KeyRing } from '../../src/encryption/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { recordOf } from '../../src/query/index.js';
import { recordedState } from '../../src/runtime/index.js';
import { attemptInputs } from '../../src/server/attempt-inputs.js';
import { ViewedRuns } from '../../src/server/viewed-runs.js';
import { FileEventStore, MemoryEventStore, overridden, type EventStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { APPROVED_RUN, appendCommits, asRun, historyCommits } from '../query/fixtures.js';

const closing: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});

/** The store with the events its reads gave back counted (read and readOn alike). */
function counted(store: EventStore): { store: EventStore; eventsRead: () => number } {
  let n = 0;
  const read: EventStore['read'] = async (runId, opts) => {
    const events = await store.read(runId, opts);
    n += events.length;
    return events;
  };
  const overrides = new Map<PropertyKey, unknown>([['read', read]]);
  if (store.readOn) {
    const inner = store.readOn.bind(store);
    const readOn: NonNullable<EventStore['readOn']> = async (runId, from) => {
      const on = await inner(runId, from);
      n += on?.events.length ?? 0;
      return on;
    };
    overrides.set('readOn', readOn);
  }
  return { store: overridden(store, overrides), eventsRead: () => n };
}

/** What a fold of the whole log shows, made apart from the run page's fold. */
function whole(events: EventEnvelope[]) {
  return { record: recordOf(events), inputs: attemptInputs(events) };
}

/** Appends the run a commit at a time, asking for its view after each: each view is the whole log's. */
async function growing(store: EventStore, runId: string) {
  const counting = counted(store);
  const viewed = new ViewedRuns(counting.store);
  const commits = asRun(historyCommits(APPROVED_RUN), runId);
  expect(commits.length).toBeGreaterThanOrEqual(7);
  for (let i = 0; i < commits.length; i++) {
    await appendCommits(store, commits, i, i + 1);
    const sofar = commits.slice(0, i + 1).flat();
    const v = await viewed.view(runId);
    expect(v.loaded.seq).toBe(sofar.at(-1)!.seq);
    expect(v.loaded.events.map((e) => e.seq)).toEqual(sofar.map((e) => e.seq));
    expect({ record: v.record, inputs: v.inputs }).toEqual(whole(sofar));
    // Asked again with nothing new: the same view, nothing folded again.
    expect(await viewed.view(runId)).toEqual(v);
  }
  const all = commits.flat();
  const last = await viewed.view(runId);
  const fresh = await new ViewedRuns(store).view(runId);
  expect(recordedState(last.loaded.snapshot)).toEqual(recordedState(fresh.loaded.snapshot));
  expect(recordedState(last.loaded.snapshot)).toEqual(all.at(-1)!.state);
  return { all, viewed, eventsRead: counting.eventsRead(), last };
}

describe("the run page's fold of a run it shows", () => {
  it('on the file store reads and folds each event of a growing log once, and shows what the whole log shows', async () => {
    const store = new FileEventStore(tempDir('lf-viewed-'));
    closing.push(store);
    const { all, viewed, eventsRead, last } = await growing(store, 'run-viewed');
    // Read whole at each ask, it would have read 1 + 2 + … + n commits' events, and folded them as often.
    expect(eventsRead).toBe(all.length);
    expect(viewed.folded).toBe(all.length);
    // The HUMAN task's input, resolved at the event it began waiting at, as the approver sees it.
    expect(Object.keys(last.inputs).length).toBeGreaterThan(0);
  });

  it('sealed at rest (LF_DATA_KEY), reads on and shows the values opened', async () => {
    const key = randomBytes(32).toString('base64');
    const dir = tempDir('lf-viewed-sealed-');
    const file = new FileEventStore(dir);
    closing.push(file);
    const store = encryptedStore(file, new KeyRing(async (n) => (n === 'LF_DATA_KEY' ? key : undefined)));
    const { all, viewed, eventsRead } = await growing(store, 'run-viewed-sealed');
    expect(eventsRead).toBe(all.length);
    expect(viewed.folded).toBe(all.length);
    // What the file holds is sealed: the clear values shown came from opening what was read on.
    expect(readFileSync(join(dir, 'runs', 'run-viewed-sealed.jsonl'), 'utf8')).toContain('"lf:enc"');
  });

  it('on a store that reads from a sequence (the memory store, JetStream) folds each event once', async () => {
    const store = new MemoryEventStore();
    const { all, viewed } = await growing(store, 'run-viewed-memory');
    expect(viewed.folded).toBe(all.length);
  });

  it('reads and folds whole again a log cut shorter than what it kept', async () => {
    const store = new FileEventStore(tempDir('lf-viewed-cut-'));
    closing.push(store);
    const commits = asRun(historyCommits(APPROVED_RUN), 'run-viewed-cut');
    await appendCommits(store, commits);
    const viewed = new ViewedRuns(store);
    expect((await viewed.view('run-viewed-cut')).loaded.seq).toBe(commits.flat().at(-1)!.seq);
    const log = join(store.runsDir, 'run-viewed-cut.jsonl');
    const lines = readFileSync(log, 'utf8').trimEnd().split('\n');
    writeFileSync(log, `${lines.slice(0, 3).join('\n')}\n`);
    const kept = commits.slice(0, 3).flat();
    const v = await viewed.view('run-viewed-cut');
    expect(v.loaded.seq).toBe(kept.at(-1)!.seq);
    expect({ record: v.record, inputs: v.inputs }).toEqual(whole(kept));
  });

  it('answers 404 for a run the store does not have', async () => {
    const viewed = new ViewedRuns(new MemoryEventStore());
    await expect(viewed.view('no-such-run')).rejects.toMatchObject({ status: 404, code: 'LF_RUN_NOT_FOUND' });
  });
});
