/**
 * The cluster path alone (section 4e of `npm run bench`), for bisecting and
 * profiling without the minute the whole bench takes:
 *
 *   node --max-semi-space-size=64 --import tsx bench/cluster.ts [--runs 1000] [--rounds 3] [--json]
 *   node --max-semi-space-size=64 --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/cluster.ts
 *
 * It starts its own nats-server (nats.conf, file storage), one ClusterEngine
 * and one worker in this process, starts the 5-task sequential workflow with
 * ClusterClient.start and counts completions on the log's subjects (what
 * `ledgerflow engine` and `ledgerflow worker` do, in one process). Next to it,
 * in the same run and interleaved round by round, the baseline: the naive
 * floor (seven one-event appends per workflow with the expected sequence,
 * 64 workflows at a time) on the same server. The ratio cluster ÷ naive and
 * the CPU this process spends per run are what compare across runs and
 * machines; the absolute workflows/s move with the machine's load.
 *
 * It imports only src/cluster, src/definition and test/helpers/nats.ts, so
 * the same file can be copied into an older checkout to bisect.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { connect } from 'nats';
import { parseDefinition, type Definition } from '../src/definition/index.js';
import type { Handlers } from '../src/runtime/index.js';
import { ClusterClient, ClusterEngine, createWorker } from '../src/cluster/index.js';
import { commitHeaders } from '../src/store/jetstream/codec.js';
import { resolveOptions } from '../src/store/jetstream/options.js';
import { startNatsServer } from '../test/helpers/nats.js';

const now = () => performance.now();

async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, async () => {
    while (next < count) await job(next++);
  }));
}

export interface ClusterRound { perSec: number; cpuUsPerRun: number; serverCpuUsPerRun?: number }

/** CPU (µs, user + system) of this process's nats-server children so far, from /proc (null where there is none). */
export function serverCpuUs(): number | null {
  try {
    let total = 0;
    let found = false;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { continue; }
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      if (comm !== 'nats-server' || Number(f[1]) !== process.pid) continue;
      found = true;
      total += (Number(f[11]) + Number(f[12])) * 1e6 / 100; // utime + stime in clock ticks (USER_HZ 100)
    }
    return found ? total : null;
  } catch { return null; }
}
export interface ClusterBench { runs: number; workflowsPerSec: number; cpuUsPerRun: number; serverCpuUsPerRun?: number; rounds: number[]; cpuRounds: number[] }

/**
 * One ClusterEngine and one worker on `url`; `round(n)` starts n runs (64 starts in flight) and resolves
 * when all n completed, with workflows/s and this process's CPU per run. `close()` stops everything.
 */
export async function clusterRig(url: string, five: Definition, handlers: Handlers) {
  const engine = new ClusterEngine({ nats: url });
  const worker = createWorker({ nats: url, handlers, concurrency: 64 });
  const client = new ClusterClient(url);
  const watcher = await connect({ servers: url, noAsyncTraces: true });
  await engine.start();
  await worker.start();
  await client.deploy(five);
  // One core subscription sees every commit; a commit that settles a run carries its COMPLETED state.
  let completed = 0;
  const text = new TextDecoder();
  watcher.subscribe('lf.events.>', { callback: (_err, m) => { if (text.decode(m.data).includes('"status":"COMPLETED"')) completed++; } });
  await watcher.flush();
  return {
    round: async (runs: number): Promise<ClusterRound> => {
      const target = completed + runs;
      const t = now();
      const cpu = process.cpuUsage();
      const server = serverCpuUs();
      await pool(runs, 64, async () => { await client.start(five.id, {}); });
      while (completed < target) await new Promise((r) => setTimeout(r, 2));
      const used = process.cpuUsage(cpu);
      const serverAfter = serverCpuUs();
      return {
        perSec: runs / ((now() - t) / 1000), cpuUsPerRun: (used.user + used.system) / runs,
        ...(server !== null && serverAfter !== null ? { serverCpuUsPerRun: (serverAfter - server) / runs } : {}),
      };
    },
    close: async () => {
      await watcher.close().catch(() => undefined);
      await worker.stop().catch(() => undefined);
      await engine.stop().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}

/** The cluster path as `npm run bench` reports it: a 200-run warm-up, then the best of `rounds` rounds of `runs`. */
export async function benchCluster(url: string, five: Definition, handlers: Handlers, runs = 1_000, rounds = 2): Promise<ClusterBench> {
  const rig = await clusterRig(url, five, handlers);
  try {
    await rig.round(200); // warm-up: consumers, definition cache, JIT
    const all: ClusterRound[] = [];
    for (let r = 0; r < rounds; r++) all.push(await rig.round(runs));
    const best = all.reduce((a, b) => (b.perSec > a.perSec ? b : a));
    return { runs, workflowsPerSec: best.perSec, cpuUsPerRun: best.cpuUsPerRun, ...(best.serverCpuUsPerRun !== undefined ? { serverCpuUsPerRun: best.serverCpuUsPerRun } : {}), rounds: all.map((r) => r.perSec), cpuRounds: all.map((r) => r.cpuUsPerRun) };
  } finally {
    await rig.close();
  }
}

export const FIVE_YAML = `
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, d: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
  const RUNS = arg('--runs', 1000);
  const ROUNDS = arg('--rounds', 3);
  const json = process.argv.includes('--json');
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const { definition: five, diagnostics } = parseDefinition(FIVE_YAML, 'bench.yaml');
  if (!five) throw new Error(JSON.stringify(diagnostics));
  const handlers: Handlers = Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));
  const load = loadavg()[0]!;
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  try {
    // Baseline: the naive floor (bench/jetstream.ts 4b) on its own stream of the same server.
    const jsm = await nc.jetstreamManager();
    const js = nc.jetstream({ timeout: 30_000 });
    await jsm.streams.add(resolveOptions({ servers: server.url, stream: 'BENCH_NAIVE', subjectPrefix: 'naive.events' }).streamConfig);
    const body = new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(300) }));
    const naiveWorkflow = async (runId: string) => {
      let last = 0;
      for (let i = 1; i <= 7; i++) {
        const ack = await js.publish(`naive.events.bench.${runId}`, body, { msgID: `${runId}/${runId}/${i}`, headers: commitHeaders(runId, i, i), expect: { lastSubjectSequence: last } });
        last = ack.seq;
      }
    };
    const naiveRound = async (r: number) => {
      const t = now();
      await pool(3000, 64, (i) => naiveWorkflow(`c${r}-${i}`));
      return 3000 / ((now() - t) / 1000);
    };
    await pool(300, 64, (i) => naiveWorkflow(`warm-${i}`));

    const rig = await clusterRig(server.url, five, handlers);
    const naive: number[] = [];
    const cluster: ClusterRound[] = [];
    try {
      await rig.round(200); // warm-up
      for (let r = 0; r < ROUNDS; r++) {
        naive.push(await naiveRound(r));
        cluster.push(await rig.round(RUNS));
      }
    } finally {
      await rig.close();
    }
    const bestNaive = Math.max(...naive);
    const best = cluster.reduce((a, b) => (b.perSec > a.perSec ? b : a));
    const minCpu = Math.min(...cluster.map((c) => c.cpuUsPerRun));
    const result = {
      loadAverage: load, runs: RUNS, naiveWorkflowsPerSec: bestNaive, naiveRounds: naive,
      clusterWorkflowsPerSec: best.perSec, clusterRounds: cluster.map((c) => c.perSec), cpuUsPerRun: minCpu, cpuRounds: cluster.map((c) => c.cpuUsPerRun),
      serverCpuRounds: cluster.map((c) => c.serverCpuUsPerRun), clusterOverNaive: best.perSec / bestNaive,
    };
    if (json) console.log(JSON.stringify(result));
    else {
      console.log(`cluster path alone (load average ${fmt(load, 1)} before starting), best of ${ROUNDS} interleaved rounds:`);
      console.log(`  baseline: naive floor, 64 workflows at a time   ${fmt(bestNaive)} workflows/s  [${naive.map((r) => fmt(r)).join(', ')}]`);
      console.log(`  cluster path, ${fmt(RUNS)} runs per round        ${fmt(best.perSec)} workflows/s  [${cluster.map((c) => fmt(c.perSec)).join(', ')}]  = ${fmt(best.perSec / bestNaive, 3)}× baseline`);
      console.log(`  CPU of this process per run                    ${fmt(minCpu)} µs (least of the rounds)  [${cluster.map((c) => fmt(c.cpuUsPerRun)).join(', ')}]`);
      console.log(`  CPU of nats-server per run                     [${cluster.map((c) => fmt(c.serverCpuUsPerRun ?? NaN)).join(', ')}] µs`);
    }
  } finally {
    await nc.close().catch(() => undefined);
    await server.dispose();
  }
}
