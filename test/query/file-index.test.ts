/**
 * The file store's run index: records from `<store>/index/runs.jsonl` for run
 * files that did not change, re-read for those that did; deleting or damaging
 * the cache changes no result; a corrupt run is reported at every query.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/index.js';
import { FileRunIndex, openRunIndex, recordOf, type DamagedLog, type RunRecord } from '../../src/query/index.js';
import { FileEventStore, MemoryEventStore, type CorruptRun } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { APPROVED_RUN, appendCommits, asRun, COMPLETED_RUN, FAILED_RUN, historyCommits } from './fixtures.js';

const stores: FileEventStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function seeded() {
  const dir = tempDir('lf-index-');
  const store = new FileEventStore(dir);
  stores.push(store);
  const runs = {
    done: asRun(historyCommits(COMPLETED_RUN), 'run-done', 0),
    approved: asRun(historyCommits(APPROVED_RUN), 'run-approved', 1000),
    failed: asRun(historyCommits(FAILED_RUN), 'run-failed', 2000),
  };
  await appendCommits(store, runs.done);
  await appendCommits(store, runs.failed);
  await appendCommits(store, runs.approved, 0, 2); // still running: the rest comes later
  return { dir, store, runs };
}

const byId = (rs: RunRecord[]) => Object.fromEntries(rs.map((r) => [r.runId, r]));

/** Marks a run's record in the cache (one JSON line a run): a cache hit shows the mark, a read of its log would not. */
function markCached(cacheFile: string, runId: string): void {
  const lines = readFileSync(cacheFile, 'utf8')
    .split('\n')
    .map((l) => {
      if (!l.startsWith(`{"id":${JSON.stringify(runId)},`)) return l;
      const line = JSON.parse(l);
      line.record.result = 'FROM THE CACHE';
      return JSON.stringify(line);
    });
  writeFileSync(cacheFile, lines.join('\n'));
}

describe('file run index', () => {
  it('re-reads only run files that changed: a run that moved on is up to date, an unchanged one comes from the cache', async () => {
    const { dir, store, runs } = await seeded();
    const index = openRunIndex({ store });
    expect(index).toBeInstanceOf(FileRunIndex);
    const first = await index.query({});
    expect(first.total).toBe(3);
    expect(byId(first.runs)['run-done']).toEqual(recordOf(runs.done.flat()));
    const cacheFile = join(dir, 'index', 'runs.jsonl');
    expect(existsSync(cacheFile)).toBe(true);
    await index.close();

    // Mark the unchanged run's cached record: a cache hit shows the mark, a re-read would not.
    markCached(cacheFile, 'run-done');
    await appendCommits(store, runs.approved, 2);

    const again = openRunIndex({ store });
    const second = byId((await again.query({})).runs);
    expect(second['run-done']!.result).toBe('FROM THE CACHE');
    expect(second['run-approved']).toEqual(recordOf(runs.approved.flat()));
    expect(second['run-approved']!.status).toBe('COMPLETED');
    await again.close();
  });

  it('gives the same records with the cache deleted or damaged, and filters them by the query', async () => {
    const { dir, store } = await seeded();
    const records = (await openRunIndex({ store }).query({})).runs;
    const cacheFile = join(dir, 'index', 'runs.jsonl');
    rmSync(cacheFile);
    expect((await openRunIndex({ store }).query({})).runs).toEqual(records);
    writeFileSync(cacheFile, '{"version":1,"runs":{"run-done":{"size":"oops"');
    expect((await openRunIndex({ store }).query({})).runs).toEqual(records);
    expect(JSON.parse(readFileSync(cacheFile, 'utf8').split('\n')[0]!).version).toBe(7); // written again whole, at the version of now
    // One damaged line costs that run a read of its log, not the others their cache.
    markCached(cacheFile, 'run-done');
    writeFileSync(cacheFile, readFileSync(cacheFile, 'utf8').replace(/^(\{"id":"run-failed".{20}).*$/m, '$1'));
    const again = byId((await openRunIndex({ store }).query({})).runs);
    expect(again['run-done']!.result).toBe('FROM THE CACHE');
    expect(again['run-failed']).toEqual(byId(records)['run-failed']);
    const failed = await openRunIndex({ store }).query({ status: 'FAILED' });
    expect(failed.runs.map((r) => r.runId)).toEqual(['run-failed']);
  });

  it.each([
    ['5', "its lines are 7's, last written first, with no ids line and no trailer"],
    ['6', 'settled runs first and a trailer, with no ids line'],
  ])('reads a version %s cache as it is (%s) and writes it again as 7', async (version) => {
    const { dir, store } = await seeded();
    const records = (await openRunIndex({ store }).query({})).runs;
    const cacheFile = join(dir, 'index', 'runs.jsonl');
    const lines = readFileSync(cacheFile, 'utf8').trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/^\{"ids":\[/);
    const runLines = lines.slice(1, -2);
    const old =
      version === '5'
        ? ['{"version":5}', ...runLines.reverse()]
        : ['{"version":6}', ...runLines, lines.at(-1)!.replace(/,"idsEnd":\d+/, '')];
    writeFileSync(cacheFile, `${old.join('\n')}\n`);
    markCached(cacheFile, 'run-done');
    const again = byId((await openRunIndex({ store }).query({})).runs);
    expect(again['run-done']!.result).toBe('FROM THE CACHE'); // from the cache, not its log
    expect(Object.keys(again).sort()).toEqual(records.map((r) => r.runId).sort());
    const written = readFileSync(cacheFile, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(written[0]!)).toEqual({ version: 7 });
    expect(written.at(-1)).toMatch(/^\{"trailer":/);
  });

  it('reports a corrupt run at every query, from the cache too, and lists the others', async () => {
    const { dir, store } = await seeded();
    appendFileSync(join(dir, 'runs', 'run-failed.jsonl'), 'not json at all\n');
    for (let i = 0; i < 2; i++) {
      const corrupt: CorruptRun[] = [];
      const page = await openRunIndex({ store, onCorrupt: (c) => corrupt.push(c) }).query({
        workflow: 'nothing-matches',
      });
      expect(page.total).toBe(0);
      expect(corrupt).toEqual([
        { runId: 'run-failed', file: join(dir, 'runs', 'run-failed.jsonl'), reason: expect.stringMatching(/not JSON/) },
      ]);
    }
  });

  it('reports a log cut short (ending before the event it recorded) to onDamaged at every query, from the cache too, and lists the run as its log has it; a live index too', async () => {
    const { dir, store, runs } = await seeded();
    const damagedLive: DamagedLog[] = [];
    const liveWitness = openRunIndex({ store, live: true, pollMs: 20, onDamaged: (d) => damagedLive.push(d) });
    await liveWitness.query({});
    await openRunIndex({ store }).query({}); // the cache records run-done settled at its last event
    const log = join(dir, 'runs', 'run-done.jsonl');
    const lines = readFileSync(log, 'utf8').split('\n');
    writeFileSync(log, `${lines[0]}\n${lines[1]!.slice(0, 40)}`); // cut by hand, mid-line
    const last = runs.done.flat().at(-1)!.seq;
    for (let i = 0; i < 2; i++) {
      const damaged: DamagedLog[] = [];
      const page = await openRunIndex({ store, onDamaged: (d) => damaged.push(d) }).query({});
      expect(damaged).toEqual([
        {
          runId: 'run-done',
          recordedSeq: last,
          recordedStatus: 'COMPLETED',
          foundSeq: runs.done[0]!.at(-1)!.seq,
          index: join(dir, 'index', 'runs.jsonl'),
          file: log,
        },
      ]);
      expect(byId(page.runs)['run-done']).toMatchObject({ status: 'RUNNING', lastSeq: runs.done[0]!.at(-1)!.seq });
    }
    await waitFor('the live index to see the cut', async () => {
      damagedLive.length = 0;
      await liveWitness.query({});
      return damagedLive.length === 1;
    });
    await liveWitness.close();
  });

  it('continues a settled run whose log only grew (a notification noted after it settled) from its cached record, folding nothing again', async () => {
    const { dir, store, runs } = await seeded();
    await openRunIndex({ store }).query({});
    const cacheFile = join(dir, 'index', 'runs.jsonl');
    markCached(cacheFile, 'run-failed');
    const last = runs.failed.flat().at(-1)!;
    const note = {
      ...last,
      seq: last.seq + 1,
      time: new Date(Date.parse(last.time) + 5000).toISOString(),
      type: 'notification.sent',
      data: {
        id: `run-failed/${last.seq}/FAILED`,
        on: 'FAILED',
        seq: last.seq,
        target: 'nats:lf.notify.x.failed',
        attempts: 1,
        stateTime: last.time,
      },
    } as EventEnvelope;
    await store.append({ runId: 'run-failed', expectedSeq: last.seq, dedupId: 'note', events: [note] });

    const index = openRunIndex({ store });
    const got = byId((await index.query({})).runs)['run-failed']!;
    expect(got.result).toBe('FROM THE CACHE'); // continued, not folded from its whole log again
    expect(got).toEqual({ ...recordOf([...runs.failed.flat(), note]), result: 'FROM THE CACHE' });
    await index.close();
  });

  it('gives the same records, corrupt runs and torn-line warnings when each run is read as read() reads it (stat again, look for .torn)', async () => {
    const { dir, runs } = await seeded();
    appendFileSync(join(dir, 'runs', 'run-done.jsonl'), 'not json at all\n');
    writeFileSync(join(dir, 'runs', 'run-failed.jsonl.torn'), '{"dedupId":"lost\n');
    class ReadAgain extends FileEventStore {
      override readStatted(runId: string): Promise<EventEnvelope[]> {
        return this.read(runId);
      }
    }
    const look = async (store: FileEventStore) => {
      stores.push(store);
      const corrupt: CorruptRun[] = [];
      const index = new FileRunIndex(store, {
        storeDir: tempDir('lf-index-cache-'),
        onCorrupt: (c) => corrupt.push(c),
      });
      const page = await index.query({});
      await index.close();
      return { page, corrupt };
    };
    const warned: Record<string, string[]> = { narrow: [], again: [] };
    const narrow = await look(new FileEventStore(dir, { onWarning: (m) => warned.narrow!.push(m) }));
    const again = await look(new ReadAgain(dir, { onWarning: (m) => warned.again!.push(m) }));
    expect(narrow).toEqual(again);
    expect(narrow.page.runs.map((r) => r.runId).sort()).toEqual(['run-approved', 'run-failed']);
    expect(byId(narrow.page.runs)['run-failed']).toEqual(recordOf(runs.failed.flat()));
    expect(narrow.corrupt.map((c) => c.runId)).toEqual(['run-done']);
    expect(warned.narrow).toEqual(warned.again);
    // The torn line was cut by another process, which said so: the index's reads say nothing of it.
    expect(warned.narrow).toEqual([]);
  });

  it('tells a subscriber about each run that moves on', async () => {
    const { store, runs } = await seeded();
    const index = openRunIndex({ store, pollMs: 100 });
    await index.query({});
    const seen: RunRecord[] = [];
    const sub = index.subscribe((r) => seen.push(r));
    await appendCommits(store, runs.approved, 2);
    const last = runs.approved.flat().at(-1)!;
    await waitFor('the settled record', () => seen.find((r) => r.runId === 'run-approved' && r.lastSeq === last.seq));
    sub.close();
    await index.close();
  });

  it('live: answers from memory, follows runs/ by its watch alone, and knows the runs started from a run (parent, retry) and the versions seen', async () => {
    const { store, runs } = await seeded();
    const index = openRunIndex({ store, live: true, pollMs: 600_000, sweepMs: 600_000 }); // no poll, no sweep: the watch must tell
    expect((await index.query({})).total).toBe(3);
    const seen: RunRecord[] = [];
    const sub = index.subscribe((r) => seen.push(r));
    const from = (commits: EventEnvelope[][], source: Record<string, unknown>) =>
      commits.map((c, i) =>
        i > 0 ? c : c.map((e) => (e.seq === 1 ? { ...e, data: { ...e.data, source } } : e)),
      ) as EventEnvelope[][];
    const child = from(asRun(historyCommits(COMPLETED_RUN), 'run-child', 3000), {
      parent: { runId: 'run-failed', workflowId: 'compliance_alerts', task: 'pause_affected_run' },
    });
    const retry = from(asRun(historyCommits(FAILED_RUN), 'run-retry', 4000), {
      retryOf: { runId: 'run-failed', outputs: {} },
    });
    await appendCommits(store, child);
    await appendCommits(store, retry);
    await appendCommits(store, runs.approved, 2);
    await waitFor(
      'the watch to bring the new runs and the settled one',
      () =>
        ['run-child', 'run-retry'].every((id) => seen.some((r) => r.runId === id)) &&
        seen.some((r) => r.runId === 'run-approved' && r.status === 'COMPLETED'),
    );
    expect(byId((await index.query({})).runs)['run-approved']).toEqual(recordOf(runs.approved.flat()));
    // Newest first, paged without a re-sort; the filters as on a query that looks.
    const page = await index.query({ limit: 2 });
    expect(page.runs.map((r) => r.runId)).toEqual(['run-retry', 'run-child']);
    expect((await index.query({ limit: 2, cursor: page.nextCursor! })).runs.map((r) => r.runId)).toEqual([
      'run-failed',
      'run-approved',
    ]);
    expect((await index.query({ trigger: { kind: 'retry', id: 'run-failed' } })).runs.map((r) => r.runId)).toEqual([
      'run-retry',
    ]);
    expect((await index.children('run-failed')).map((r) => [r.runId, r.trigger.kind])).toEqual([
      ['run-child', 'parent'],
      ['run-retry', 'retry'],
    ]);
    expect(await index.children('run-done')).toEqual([]);
    const versions = await index.versions();
    expect(versions.find((v) => v.workflowId === 'lead_qualification')).toMatchObject({ runId: 'run-child', runs: 2 });
    rmSync(join(store.runsDir, 'run-child.jsonl'));
    await waitFor('the watch to drop a removed run', async () => (await index.children('run-failed')).length === 1);
    sub.close();
    await index.close();
  });

  it('on a memory store folds the records in memory, continuing each from where it was', async () => {
    const store = new MemoryEventStore();
    const commits = asRun(historyCommits(APPROVED_RUN), 'mem-run');
    await appendCommits(store, commits, 0, 2);
    const index = openRunIndex({ store });
    expect((await index.query({})).runs[0]!.status).not.toBe('COMPLETED');
    await appendCommits(store, commits, 2);
    expect((await index.query({})).runs[0]).toEqual(recordOf(commits.flat() as EventEnvelope[]));
    expect(await index.get('mem-run')).toEqual(recordOf(commits.flat()));
    expect(await index.get('nope')).toBeNull();
    await index.close();
  });
});
