/**
 * `npm run bench -- archive`: what the archive costs the live side (docs/retention.md). The file store with 10,000
 * live runs (LIVE to change it) and nothing archived, against the same store with 100,000 runs archived besides
 * (ARCHIVED; the figure is 1,000,000), synthesized as the archive writes them (gzip members of 1,000 runs in
 * month files, the index shards): `list`'s query (the run index, cold: no cache yet; warm: its cache in place) and the
 * dashboard's /api/runs page (a long-lived index, as `ledgerflow ui` opens it), each as a ratio archived / nothing
 * archived (goal: about 1, the archive being out of the live side's way); and what reading one archived run costs
 * (`status`/`history`'s read: one index shard and one member) against reading a live one; and `archive list` (its
 * per-period summary, src/store/archive/summary.ts) at that size against nothing archived, and the first one on a
 * store with no summary yet (the full pass over the index, as on a store an older version wrote).
 */
import { mkdtempSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { openRunIndex, parseRunQuery, type RunQuery } from '../src/query/index.js';
import { shardOf, type ArchiveEntry } from '../src/store/archive/shards.js';
import { FileEventStore } from '../src/store/index.js';
import { runLine, templateOf } from './list.js';
import { discard } from './kit.js';

const now = () => performance.now();
const MEMBER = 1000;
const gzipAsync = promisify(gzip);

async function liveRuns(dir: string, lines: { runId: string; line: string }[]): Promise<void> {
  await mkdir(join(dir, 'runs'), { recursive: true });
  for (let i = 0; i < lines.length; i += 256)
    await Promise.all(
      lines.slice(i, i + 256).map((l) => writeFile(join(dir, 'runs', `${l.runId}.jsonl`), `${l.line}\n`)),
    );
}

/**
 * `count` runs (numbered from `first`) archived as the archive writes them: members of MEMBER runs appended to month
 * files, an entry each in the index shards. Made a member at a time (never all the runs' lines at once: a million
 * would be 3 GB), each member gzipped on the thread pool while the next is made, the index lines appended unsynced in
 * large writes (the archive syncs each move; a bench store need not).
 */
async function archivedRuns(dir: string, template: string, first: number, count: number): Promise<void> {
  const archive = join(dir, 'archive');
  const index = join(archive, 'index');
  await mkdir(index, { recursive: true });
  const sizes = new Map<string, number>();
  let shardLines = new Map<string, string[]>();
  const flush = async () => {
    const lines = shardLines;
    shardLines = new Map();
    for (const [shard, texts] of lines) await appendFile(join(index, `${shard}.jsonl`), `${texts.join('\n')}\n`);
  };
  const write = async (i: number, group: { runId: string }[], bytes: Buffer[], zipped: Promise<Buffer>) => {
    const member = await zipped;
    const period = `2025-${String(1 + ((i / MEMBER) % 12)).padStart(2, '0')}`;
    const at = sizes.get(period) ?? 0;
    await appendFile(join(archive, `${period}.jsonl.gz`), member);
    sizes.set(period, at + member.length);
    let from = 0;
    group.forEach((g, k) => {
      const to = from + bytes[k]!.length;
      const e: ArchiveEntry = {
        runId: g.runId,
        workflowId: 'folder-report',
        version: 1,
        status: 'COMPLETED',
        startedAt: '2025-01-01T00:00:00.000Z',
        completedAt: '2025-01-01T00:00:01.000Z',
        lastSeq: 1,
        period,
        archivedAt: '2026-01-01T00:00:00.000Z',
        move: `bench-${i}`,
        member: { at, length: member.length },
        bytes: { from, to },
      };
      from = to;
      const shard = shardOf(g.runId);
      let texts = shardLines.get(shard);
      if (!texts) shardLines.set(shard, (texts = []));
      texts.push(JSON.stringify(e));
    });
    if ((i / MEMBER) % 100 === 99) await flush();
  };
  let pending: Promise<void> = Promise.resolve();
  for (let i = 0; i < count; i += MEMBER) {
    const group = Array.from({ length: Math.min(MEMBER, count - i) }, (_, k) => runLine(template, first + i + k));
    const bytes = group.map((g) => Buffer.from(`${g.line}\n`));
    const zipped = gzipAsync(Buffer.concat(bytes));
    await pending;
    pending = write(i, group, bytes, zipped);
  }
  await pending;
  await flush();
}

/** `archive list` as the command runs it (a store opened for it): the first on a store with no summary yet (the full pass, as on a store an older version wrote), then the median of five. */
async function archiveListMs(dir: string): Promise<{ firstMs: number; ms: number; runs: number }> {
  const once = async () => {
    const store = new FileEventStore(dir);
    const t = now();
    const periods = await store.archive().periods();
    const ms = now() - t;
    await store.close();
    return { ms, runs: periods.reduce((n, p) => n + p.runs, 0) };
  };
  const first = await once();
  const times: number[] = [];
  for (let i = 0; i < 5; i++) times.push((await once()).ms);
  return { firstMs: first.ms, ms: times.sort((a, b) => a - b)[2]!, runs: first.runs };
}

async function measure(dir: string, query: RunQuery): Promise<{ coldMs: number; warmMs: number; pageMs: number }> {
  const store = new FileEventStore(dir);
  const q = async () => {
    const t = now();
    const index = openRunIndex({ store, storeDir: dir });
    await index.query(query);
    await index.close();
    return now() - t;
  };
  const coldMs = await q();
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) warm.push(await q());
  const live = openRunIndex({ store, storeDir: dir, live: true });
  await live.query({ limit: 50 });
  const pages: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = now();
    await live.query({ limit: 50 });
    pages.push(now() - t);
  }
  await live.close();
  await store.close();
  return { coldMs, warmMs: warm.sort((a, b) => a - b)[2]!, pageMs: pages.sort((a, b) => a - b)[7]! };
}

async function readP50(dir: string, ids: string[]): Promise<number> {
  const store = new FileEventStore(dir);
  const times: number[] = [];
  for (const id of ids) {
    const t = now();
    const events = await store.read(id);
    times.push(now() - t);
    if (events.length === 0) throw new Error(`bench: run ${id} reads empty`);
  }
  await store.close();
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

export async function benchArchive(o: {
  say: (l: string) => void;
  fmt: (n: number, d?: number) => string;
  live?: number;
  archived?: number;
}): Promise<Record<string, number>> {
  const { say, fmt } = o;
  const live = o.live ?? 10_000;
  const archived = o.archived ?? 100_000;
  const ok = JSON.stringify({ dedupId: 'lf-path/all', ...templateOf('classify-default-to-note_stocked-ok.jsonl') });
  const liveLines = Array.from({ length: live }, (_, i) => runLine(ok, i));
  const query = parseRunQuery({ workflow: 'folder-report', limit: '50' }, 'cli', Date.now());
  const bare = mkdtempSync(join(tmpdir(), 'lf-bench-archive-none-'));
  const full = mkdtempSync(join(tmpdir(), 'lf-bench-archive-full-'));
  try {
    say(`  archive: ${live} live runs, against the same with ${archived} archived besides`);
    await liveRuns(bare, liveLines);
    await liveRuns(full, liveLines);
    const t = now();
    await archivedRuns(full, ok, live, archived);
    say(`    ${archived} archived runs synthesized in ${fmt((now() - t) / 1000, 1)} s`);
    const none = await measure(bare, query);
    const some = await measure(full, query);
    const sample = (first: number, n: number) =>
      Array.from({ length: 200 }, (_, i) => runLine(ok, first + ((i * 7919) % n)).runId);
    const liveRead = await readP50(full, sample(0, live));
    const archivedRead = await readP50(full, sample(live, archived));
    const emptyList = await archiveListMs(bare);
    const list = await archiveListMs(full);
    if (list.runs !== archived) throw new Error(`bench: archive list counts ${list.runs} runs, not ${archived}`);
    const figures = {
      'archive.list_cold_ratio': some.coldMs / none.coldMs,
      'archive.list_warm_ratio': some.warmMs / none.warmMs,
      'archive.api_page_ratio': some.pageMs / none.pageMs,
      'archive.read_archived_ms': archivedRead,
      'archive.read_live_ms': liveRead,
      'archive.archive_list_ms': list.ms,
      'archive.archive_list_first_ms': list.firstMs,
      'archive.archive_list_empty_ms': emptyList.ms,
    };
    say(
      `    list, cold (no index cache)  ${fmt(none.coldMs)} ms → ${fmt(some.coldMs)} ms with the archive: ${fmt(figures['archive.list_cold_ratio'], 2)}×`,
    );
    say(
      `    list, warm                   ${fmt(none.warmMs)} ms → ${fmt(some.warmMs)} ms: ${fmt(figures['archive.list_warm_ratio'], 2)}×`,
    );
    say(
      `    /api/runs page (live index)  ${fmt(none.pageMs, 2)} ms → ${fmt(some.pageMs, 2)} ms: ${fmt(figures['archive.api_page_ratio'], 2)}×`,
    );
    say(`    one run read (p50 of 200): live ${fmt(liveRead, 2)} ms, archived ${fmt(archivedRead, 2)} ms`);
    say(
      `    archive list (median of 5)   ${fmt(emptyList.ms, 2)} ms with nothing archived → ${fmt(list.ms, 2)} ms with ${archived}; the first on a store with no summary yet (the full pass, which writes it) ${fmt(list.firstMs)} ms`,
    );
    return figures;
  } finally {
    discard(bare);
    discard(full);
  }
}
