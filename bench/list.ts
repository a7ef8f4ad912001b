/**
 * `npm run bench -- list`: `ledgerflow list` with a filter over 100,000 runs
 * (RUNS to change it), on the file store and on JetStream (a nats-server this
 * script starts), cold (no index yet) and warm (index in place), each next to
 * a baseline measured in the same run: on the file store a bare readdir +
 * stat of every run file (what any listing that notices changes must do), on
 * JetStream one raw pass over the log's stream.
 *
 * Runs are golden histories of the folder-report workflow (90% completed,
 * 10% failed) under new run ids, spread over 100 days, one commit per run:
 * written as the file store's own lines (no fsync: it is the shape that
 * matters, not durability) and appended through the JetStream store.
 * LIST_STORES=file measures the file store only.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { nanos } from '@nats-io/nats-core';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { EventEnvelope } from '../src/events/index.js';
import {
  FileRunIndex,
  JetStreamRunIndex,
  openRunIndex,
  parseRunQuery,
  reindex,
  type RunIndex,
  type RunQuery,
} from '../src/query/index.js';
import { FileEventStore, JetStreamEventStore } from '../src/store/index.js';
import { startNatsServer } from '../test/helpers/nats.js';
import { discard } from './kit.js';

const HISTORIES = new URL('../test/fixtures/histories/folder-report/', import.meta.url);
const now = () => performance.now();

/** One run as a single commit line (the file store's format), with the run id and day replaced. */
export function templateOf(file: string): { events: EventEnvelope[] } {
  const lines = readFileSync(new URL(file, HISTORIES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return { events: lines.flatMap((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events) };
}

export function runLine(template: string, i: number): { runId: string; line: string } {
  const runId = `b${String(i).padStart(6, '0')}`;
  const day = new Date(Date.UTC(2026, 0, 1 + (i % 100))).toISOString().slice(0, 11);
  return { runId, line: template.split('lf-path').join(runId).split('2026-01-01T').join(day) };
}

/**
 * The file store as the run index read it before readStatted: each run's
 * file stat'ed again and its `.torn` file looked for (read() does both), then
 * read through a FileHandle. Only the bench uses it, for "cold before".
 */
class ReadAgainStore extends FileEventStore {
  override readStatted(runId: string): Promise<EventEnvelope[]> {
    return this.read(runId);
  }
}

/** A cold build of the file store's index (a cache directory of its own, so none is ever warm): wall and CPU time, and the matches. */
async function coldBuild(
  store: FileEventStore,
  query: RunQuery,
): Promise<{ ms: number; cpuMs: number; total: number }> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'lf-bench-cold-'));
  try {
    const t = now();
    const c = process.cpuUsage();
    const page = await new FileRunIndex(store, { storeDir: cacheDir }).query(query);
    const cpu = process.cpuUsage(c);
    return { ms: now() - t, cpuMs: (cpu.user + cpu.system) / 1000, total: page.total };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The runs API's pages from a long-lived index (`live`, as `ledgerflow ui` opens it): the first query builds, the rest answer from memory. */
async function apiPages(
  index: RunIndex,
  filter: RunQuery,
): Promise<{ startMs: number; pageMs: number; nextPageMs: number; allPageMs: number; outputPageMs: number }> {
  let t = now();
  const first = await index.query({ ...filter, limit: 50 });
  const startMs = now() - t;
  const median = async (q: RunQuery) => {
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      t = now();
      await index.query(q);
      times.push(now() - t);
    }
    return times.sort((a, b) => a - b)[7]!;
  };
  return {
    startMs,
    pageMs: await median({ ...filter, limit: 50 }),
    nextPageMs: await median({ ...filter, limit: 50, ...(first.nextCursor ? { cursor: first.nextCursor } : {}) }),
    allPageMs: await median({ limit: 50 }),
    outputPageMs: await median({ outputContains: 'NO-SUCH-TEXT', limit: 50 }),
  };
}

export async function benchList(o: {
  say: (l: string) => void;
  fmt: (n: number, d?: number) => string;
  runs?: number;
  fileOnly?: boolean;
}): Promise<Record<string, unknown>> {
  const { say, fmt } = o;
  const runs = o.runs ?? 100_000;
  const ok = JSON.stringify({ dedupId: 'lf-path/all', ...templateOf('classify-default-to-note_stocked-ok.jsonl') });
  const failed = JSON.stringify({
    dedupId: 'lf-path/all',
    ...templateOf('count_files-times-out-on-all-2-attempts-to-run-FAILED.jsonl'),
  });
  const lineOf = (i: number) => runLine(i % 10 === 3 ? failed : ok, i);
  // The filter: failed runs of the last 30 days of the spread (about 3% of the runs).
  const query = parseRunQuery(
    { status: 'failed', since: '2026-03-12T00:00:00Z', workflow: 'folder-report' },
    'cli',
    Date.now(),
  );
  const apiLine = (name: string, p: Awaited<ReturnType<typeof apiPages>>, baselineMs: number) => {
    say(
      `    ${name}: first query ${fmt(p.startMs)} ms = ${fmt(p.startMs / baselineMs, 2)}× baseline; then from memory:`,
    );
    say(
      `      a page (limit 50) with the filter  ${fmt(p.pageMs, 1)} ms = ${fmt(p.pageMs / baselineMs, 4)}× baseline; the next page ${fmt(p.nextPageMs, 1)} ms`,
    );
    say(
      `      a page with no filter  ${fmt(p.allPageMs, 1)} ms; outputContains over every run  ${fmt(p.outputPageMs, 1)} ms`,
    );
  };
  const results: Record<string, unknown> = {
    runs,
    filter: { status: 'FAILED', since: query.since, workflow: 'folder-report' },
  };
  say(
    `\nlist with a filter (--status failed --since ${query.since!.slice(0, 10)} --workflow folder-report) over ${fmt(runs)} runs:`,
  );

  // File store --------------------------------------------------------------
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-list-'));
  try {
    const runsDir = join(dir, 'runs');
    await mkdir(runsDir, { recursive: true });
    let t = now();
    for (let i = 0; i < runs; i += 512) {
      await Promise.all(
        Array.from({ length: Math.min(512, runs - i) }, (_, k) => {
          const { runId, line } = lineOf(i + k);
          return writeFile(join(runsDir, `${runId}.jsonl`), `${line}\n`);
        }),
      );
    }
    const writeMs = now() - t;
    const store = new FileEventStore(dir);
    // Baseline: what noticing a change costs at least, a readdir and a stat of every run file.
    t = now();
    const names = await readdir(runsDir);
    for (let i = 0; i < names.length; i += 64)
      await Promise.all(names.slice(i, i + 64).map((n) => stat(join(runsDir, n))));
    const baselineMs = now() - t;
    t = now();
    await store.listRuns({ status: 'FAILED' });
    const oldListMs = now() - t;
    // Cold before and after readStatted, alternated twice in this run (the best of each compared: the load of a shared machine only adds).
    const before: Awaited<ReturnType<typeof coldBuild>>[] = [];
    const after: Awaited<ReturnType<typeof coldBuild>>[] = [];
    const readAgain = new ReadAgainStore(dir);
    for (let i = 0; i < 2; i++) {
      before.push(await coldBuild(readAgain, query));
      after.push(await coldBuild(store, query));
    }
    await readAgain.close();
    const best = (xs: typeof before, k: 'ms' | 'cpuMs') => Math.min(...xs.map((x) => x[k]));
    if (before.some((b) => b.total !== after[0]!.total))
      throw new Error('file index: a cold build before readStatted found other runs');
    const coldBefore = { ms: best(before, 'ms'), cpuMs: best(before, 'cpuMs'), runsMs: before.map((b) => b.ms) };
    const coldAfter = { ms: best(after, 'ms'), cpuMs: best(after, 'cpuMs'), runsMs: after.map((b) => b.ms) };
    t = now();
    const cold = await new FileRunIndex(store).query(query);
    const coldMs = now() - t;
    t = now();
    const warmIndex = new FileRunIndex(store);
    const warm = await warmIndex.query(query);
    const warmMs = now() - t;
    t = now();
    await warmIndex.query(query);
    const liveMs = now() - t;
    if (warm.total !== cold.total) throw new Error(`file index: warm found ${warm.total} runs, cold ${cold.total}`);
    const cacheBytes = (await stat(warmIndex.cacheFile)).size;
    await warmIndex.close();
    const liveIndex = openRunIndex({ store, live: true });
    const api = await apiPages(liveIndex, query);
    await liveIndex.close();
    await store.close();
    results.file = {
      writeMs,
      baselineMs,
      oldListRunsMs: oldListMs,
      coldMs,
      coldBefore,
      coldAfter,
      warmMs,
      warmInProcessMs: liveMs,
      matched: warm.total,
      cacheBytes,
      api,
    };
    say(`  file store (${fmt(runs)} run files written in ${fmt(writeMs / 1000, 1)} s; ${fmt(warm.total)} match):`);
    say(`    baseline readdir + stat of every run file   ${fmt(baselineMs)} ms`);
    say(
      `    before (listRuns: first and last line, no records)  ${fmt(oldListMs)} ms = ${fmt(oldListMs / baselineMs, 1)}× baseline`,
    );
    say(
      `    cold (no index/runs.jsonl: every run read and folded)  ${fmt(coldMs)} ms = ${fmt(coldMs / baselineMs, 1)}× baseline`,
    );
    say(
      `      cold before readStatted (each file stat'ed again, its .torn looked for, read through a FileHandle)  best of 2 ${fmt(coldBefore.ms)} ms (${coldBefore.runsMs.map((x) => fmt(x)).join(', ')}), CPU ${fmt(coldBefore.cpuMs)} ms`,
    );
    say(
      `      cold after (readStatted: the index's stat, one open/read/close)  best of 2 ${fmt(coldAfter.ms)} ms (${coldAfter.runsMs.map((x) => fmt(x)).join(', ')}), CPU ${fmt(coldAfter.cpuMs)} ms: before/after ${fmt(coldBefore.ms / coldAfter.ms, 2)}× wall, ${fmt(coldBefore.cpuMs / coldAfter.cpuMs, 2)}× CPU`,
    );
    say(
      `    warm (runs.jsonl read, every file stat'ed, none re-read)  ${fmt(warmMs)} ms = ${fmt(warmMs / baselineMs, 1)}× baseline (cache ${fmt(cacheBytes / 1e6, 1)} MB)`,
    );
    say(
      `    warm in the same process (records in memory, every file stat'ed)  ${fmt(liveMs)} ms = ${fmt(liveMs / baselineMs, 1)}× baseline`,
    );
    apiLine(
      "page of the runs API from a long-lived index (live: runs/ watched, nothing stat'ed per query)",
      api,
      baselineMs,
    );
  } finally {
    discard(dir);
  }

  // JetStream ---------------------------------------------------------------
  if (o.fileOnly) return results;
  const server = await startNatsServer();
  const store = new JetStreamEventStore({ servers: server.url });
  const nc = await connect({ servers: server.url });
  try {
    let t = now();
    for (let i = 0; i < runs; i += 512) {
      await Promise.all(
        Array.from({ length: Math.min(512, runs - i) }, (_, k) => {
          const { runId, line } = lineOf(i + k);
          const { events } = JSON.parse(line) as { events: EventEnvelope[] };
          return store.append({ runId, expectedSeq: 0, dedupId: `${runId}/all`, events });
        }),
      );
    }
    const appendMs = now() - t;
    // Baseline: one raw pass over the stream (every message delivered, nothing parsed).
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    t = now();
    const ci = await jsm.consumers.add(store.stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      mem_storage: true,
      inactive_threshold: nanos(60_000),
    });
    let remaining = ci.num_pending;
    const consumer = js.consumers.getConsumerFromInfo(ci);
    while (remaining > 0) {
      const batch = await consumer.fetch({ max_messages: Math.min(remaining, 10_000), expires: 5000 });
      for await (const m of batch) {
        remaining--;
        if (m.data.length < 0) throw new Error('unreachable');
        if (remaining === 0) break;
      }
    }
    const baselineMs = now() - t;
    await jsm.consumers.delete(store.stream, ci.name);
    t = now();
    await store.listRuns({ status: 'FAILED' });
    const oldListMs = now() - t;
    const coldIndex = new JetStreamRunIndex(store);
    t = now();
    const cold = await coldIndex.query(query);
    const coldMs = now() - t;
    t = now();
    const report = await reindex(store);
    const reindexMs = now() - t;
    const warmIndex = new JetStreamRunIndex(store);
    t = now();
    const warm = await warmIndex.query(query);
    const warmMs = now() - t;
    if (warm.total !== cold.total || !warmIndex.lastLoad?.fresh)
      throw new Error(
        `JetStream index: warm found ${warm.total} runs (fresh ${warmIndex.lastLoad?.fresh}), cold ${cold.total}`,
      );
    const liveIndex = openRunIndex({ store, live: true });
    const api = await apiPages(liveIndex, query);
    await liveIndex.close();
    results.jetstream = {
      appendMs,
      baselineMs,
      oldListRunsMs: oldListMs,
      coldMs,
      reindexMs,
      warmMs,
      matched: warm.total,
      reindexed: report.runs,
      api,
    };
    say(
      `  JetStream (one nats-server, file storage; ${fmt(runs)} runs appended in ${fmt(appendMs / 1000, 1)} s; ${fmt(warm.total)} match):`,
    );
    say(`    baseline raw pass over the stream   ${fmt(baselineMs)} ms`);
    say(
      `    before (listRuns: last message per run + first by direct get, no records)  ${fmt(oldListMs)} ms = ${fmt(oldListMs / baselineMs, 1)}× baseline`,
    );
    say(
      `    cold (no engine ever ran: every run read from the log and folded)  ${fmt(coldMs)} ms = ${fmt(coldMs / baselineMs, 1)}× baseline`,
    );
    say(
      `    reindex (rebuild KV ${report.index} from the log)  ${fmt(reindexMs)} ms = ${fmt(reindexMs / baselineMs, 1)}× baseline`,
    );
    say(
      `    warm (index current: one ordered pass over the bucket)  ${fmt(warmMs)} ms = ${fmt(warmMs / baselineMs, 1)}× baseline`,
    );
    apiLine('page of the runs API from a long-lived index (live: the bucket held through a KV watch)', api, baselineMs);
  } finally {
    await nc.close();
    await store.close();
    await server.dispose();
  }
  return results;
}
