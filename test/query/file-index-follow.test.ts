/**
 * The file store's live run index (what `serve` and `ui` hold) following a run while it grows: it reads each commit
 * of the run's log once, continuing from where its last read ended, not the whole log again at each look. Before, a
 * MAP of 2,000 items driven by the dashboard's process spent 40% of that process's CPU reading its own log again.
 * A log cut shorter than what was read is read whole, as before (file-index.test.ts, the log cut short).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRunIndex, recordOf, type RunIndex, type RunRecord } from '../../src/query/index.js';
import { FileEventStore, type CorruptRun } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { APPROVED_RUN, appendCommits, asRun, COMPLETED_RUN, historyCommits } from './fixtures.js';

const closing: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of closing.splice(0).reverse()) await c.close();
});

/** A file store whose index reads are counted: the reads of a run's log, and the events they gave back. */
function counted(): { store: FileEventStore; eventsRead: () => number; reads: () => number } {
  const store = new FileEventStore(tempDir('lf-index-follow-'));
  closing.push(store);
  let read = 0;
  let reads = 0;
  const readStatted = store.readStatted.bind(store);
  store.readStatted = async (...args) => {
    const events = await readStatted(...args);
    reads++;
    read += events.length;
    return events;
  };
  return { store, eventsRead: () => read, reads: () => reads };
}

function live(store: FileEventStore, corrupt: CorruptRun[] = []): { index: RunIndex; latest: Map<string, RunRecord> } {
  const index = openRunIndex({ store, live: true, pollMs: 20, onCorrupt: (c) => corrupt.push(c) });
  closing.push(index);
  const latest = new Map<string, RunRecord>();
  closing.push(index.subscribe((r) => latest.set(r.runId, r)));
  return { index, latest };
}

describe('the live file run index following a run as it grows', () => {
  it('reads each commit of the log once, however many times it looks, and holds the record the whole log gives', async () => {
    const { store, eventsRead } = counted();
    const { index, latest } = live(store);
    await index.query({});
    const commits = asRun(historyCommits(APPROVED_RUN), 'run-growing');
    expect(commits.length).toBeGreaterThanOrEqual(7);
    for (let i = 0; i < commits.length; i++) {
      await appendCommits(store, commits, i, i + 1);
      const seq = commits[i]!.at(-1)!.seq;
      // Each commit seen before the next is written: one look a commit, the run read on at each.
      await waitFor(`the index to see event ${seq}`, () => latest.get('run-growing')?.lastSeq === seq);
    }
    const all = commits.flat();
    expect(latest.get('run-growing')).toEqual(recordOf(all));
    expect((await index.query({})).runs.find((r) => r.runId === 'run-growing')).toEqual(recordOf(all));
    // Read whole at every look, it would have read 1 + 2 + … + n commits' events.
    expect(eventsRead()).toBe(all.length);
  });

  it('reads nothing of a line not finished yet, and the line once it is', async () => {
    const { store, reads } = counted();
    const corrupt: CorruptRun[] = [];
    const { index, latest } = live(store, corrupt);
    const commits = asRun(historyCommits(COMPLETED_RUN), 'run-halfway');
    await appendCommits(store, commits, 0, 2);
    await index.query({});
    await waitFor('the first two commits', () => latest.get('run-halfway')?.lastSeq === commits[1]!.at(-1)!.seq);
    // The third commit's line written in two pieces, as another process's write may be seen half done.
    const log = join(store.runsDir, 'run-halfway.jsonl');
    const scratch = new FileEventStore(tempDir('lf-index-follow-line-'));
    closing.push(scratch);
    await appendCommits(scratch, commits, 0, 3);
    const third = readFileSync(join(scratch.runsDir, 'run-halfway.jsonl'), 'utf8').trimEnd().split('\n')[2]!;
    const looked = reads();
    appendFileSync(log, third.slice(0, 50));
    await waitFor('a look at the half line', () => reads() > looked);
    // Still listed, as it was: the half line is no event yet.
    expect((await index.query({})).runs.map((r) => [r.runId, r.lastSeq])).toEqual([
      ['run-halfway', commits[1]!.at(-1)!.seq],
    ]);
    appendFileSync(log, `${third.slice(50)}\n`);
    await waitFor('the third commit', () => latest.get('run-halfway')?.lastSeq === commits[2]!.at(-1)!.seq);
    expect(latest.get('run-halfway')).toEqual(recordOf(commits.slice(0, 3).flat()));
    expect(corrupt).toEqual([]);
  });
});
