/**
 * The embedded file store with many runs in flight (issue 23, group commit):
 * five-step workflows/s through the in-process Engine on the file store, 16
 * runs at a time, against the raw per-append-durable floor: the same commit
 * lines appended by plain node, one `write` + `fdatasync` per commit to one
 * file per run, 16 runs at a time. Also the memory store, the same workflow,
 * as the ceiling the engine's own CPU sets.
 *
 *   node --max-semi-space-size=64 --import tsx bench/file-store-group.ts [--runs 1000] [--rounds 2] [--concurrency 16] [--file-only] [--json]
 *
 * Rounds alternate raw, file, memory so the machine's load falls on each alike.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinition } from '../src/definition/index.js';
import { Engine } from '../src/local/index.js';
import type { Handlers } from '../src/runtime/index.js';
import { FileEventStore, MemoryEventStore, type EventStore } from '../src/store/index.js';

/** The five steps of bench/cluster.ts's FIVE_YAML (the cluster case's workflow), here so this script loads no NATS code. */
const FIVE_YAML = `
workflow:
  id: five-steps
  name: Five sequential steps
  version: 1
  tasks:
    - { id: s1, type: SIMPLE }
    - { id: s2, type: SIMPLE, depends_on: [s1] }
    - { id: s3, type: SIMPLE, depends_on: [s2] }
    - { id: s4, type: SIMPLE, depends_on: [s3] }
    - { id: s5, type: SIMPLE, depends_on: [s4] }
`;

const arg = (name: string, d: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
const RUNS = arg('--runs', 1000);
const ROUNDS = arg('--rounds', 2);
const CONCURRENCY = arg('--concurrency', 16);
const json = process.argv.includes('--json');
/** `--file-only`: the file store's rounds alone (for a profile of them). */
const fileOnly = process.argv.includes('--file-only');
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const now = () => performance.now();

const { definition: five, diagnostics } = parseDefinition(FIVE_YAML, 'bench.yaml');
if (!five) throw new Error(JSON.stringify(diagnostics));
const handlers: Handlers = Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));

async function pool(n: number, each: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await each(next++);
  }));
}

/** `runs` five-step workflows through the Engine on `store`, CONCURRENCY at a time: wf/s, p50/p99 ms, commits per run. */
async function engineRound(store: EventStore, runs: number) {
  let appended = 0;
  const counting = Object.assign(Object.create(store) as EventStore, { append: (r: Parameters<EventStore['append']>[0]) => { appended++; return store.append(r); } });
  const engine = new Engine({ store: counting });
  const latencies: number[] = [];
  const t0 = now();
  const cpu0 = process.cpuUsage();
  await pool(runs, async () => {
    const s = now();
    const v = await engine.run(five!, {}, { handlers });
    if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ${v.status}`);
    latencies.push(now() - s);
  });
  const ms = now() - t0;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { wfs: runs / ms * 1000, p50: p(0.5), p99: p(0.99), commitsPerRun: appended / runs, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs };
}

/** The floor: each run's commit lines (as the file store wrote them), one write + fdatasync per commit, CONCURRENCY runs at a time. */
async function rawRound(dir: string, lines: Buffer[], runs: number) {
  await mkdir(dir, { recursive: true });
  const t0 = now();
  const cpu0 = process.cpuUsage();
  await pool(runs, async (i) => {
    const fh = await open(join(dir, `raw-${i}.jsonl`), 'a');
    try {
      for (const line of lines) {
        await fh.write(line);
        await fh.datasync();
      }
    } finally {
      await fh.close();
    }
  });
  const cpu = process.cpuUsage(cpu0);
  return { wfs: runs / (now() - t0) * 1000, cpuMsPerRun: (cpu.user + cpu.system) / 1000 / runs };
}

const root = mkdtempSync(join(tmpdir(), 'lf-bench-group-'));
const rows: Record<string, number>[] = [];
try {
  // One run first, for the commit lines the floor writes.
  const probe = new FileEventStore(join(root, 'probe'));
  const view = await new Engine({ store: probe }).run(five, {}, { handlers });
  await probe.close();
  const lines = readFileSync(join(root, 'probe', 'runs', `${view.runId}.jsonl`), 'utf8').trimEnd().split('\n').map((l) => Buffer.from(l + '\n'));
  if (!json) console.log(`${RUNS} five-step workflows, ${CONCURRENCY} in flight, ${lines.length} commits per run (${fmt(lines.reduce((a, b) => a + b.length, 0))} bytes); load ${fmt(loadavg()[0]!, 1)}`);
  for (let r = 0; r < ROUNDS; r++) {
    const raw = fileOnly ? { wfs: NaN, cpuMsPerRun: NaN } : await rawRound(join(root, `raw-${r}`), lines, RUNS);
    const store = new FileEventStore(join(root, `file-${r}`));
    const file = await engineRound(store, RUNS);
    await store.close();
    const mem = fileOnly ? { wfs: NaN, cpuMsPerRun: NaN } : await engineRound(new MemoryEventStore(), RUNS);
    const row = { round: r + 1, rawWfs: raw.wfs, fileWfs: file.wfs, ratio: file.wfs / raw.wfs, p50Ms: file.p50, p99Ms: file.p99, commitsPerRun: file.commitsPerRun, memoryWfs: mem.wfs, rawCpuMsPerRun: raw.cpuMsPerRun, fileCpuMsPerRun: file.cpuMsPerRun, memoryCpuMsPerRun: mem.cpuMsPerRun, load: loadavg()[0]! };
    rows.push(row);
    if (!json) {
      console.log(`round ${r + 1}: raw floor ${fmt(raw.wfs)} wf/s (${fmt(raw.cpuMsPerRun, 2)} ms CPU/run) | file store ${fmt(file.wfs)} wf/s = ${fmt(row.ratio, 2)}× floor, p50 ${fmt(file.p50, 1)} ms, p99 ${fmt(file.p99, 1)} ms, ${fmt(file.cpuMsPerRun, 2)} ms CPU/run, ${fmt(file.commitsPerRun, 1)} commits/run | memory store ${fmt(mem.wfs)} wf/s (${fmt(mem.cpuMsPerRun, 2)} ms CPU/run) | load ${fmt(row.load, 1)}`);
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
if (json) console.log(JSON.stringify({ runs: RUNS, concurrency: CONCURRENCY, rounds: rows }));
