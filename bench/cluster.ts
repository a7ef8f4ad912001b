/**
 * `npm run bench -- cluster`: the cluster path (engine process → worker
 * process → engine, bench/cluster-rig.ts) on a nats-server this section
 * starts, next to baselines on the same server, rounds interleaved:
 *
 * - floor_ratio: five-step workflows/s, 64 in flight, ÷ the naive floor
 *   (bench/floor.ts), 64 workflows at a time; best of the rounds each;
 * - cpu_ms_per_run: CPU of the engine and worker processes per run, median
 *   of the rounds (nats-server's beside it);
 * - persisted_per_run: messages stored per run in all streams and KV
 *   buckets (median of the rounds; by stream in the details), and the
 *   server's own in/out message counts;
 * - p50_ratio: one run at a time, start to completed, ÷ in-process
 *   `Engine.run` on the JetStream store of the same server (its runs
 *   interleaved in batches with the cluster's).
 *
 * `--runs N` (default 1,000 per round), `--rounds N` (3), `--engines N`,
 * `--workers N` (1 each).
 */
import { cpus } from 'node:os';
import { JetStreamEventStore } from '../src/store/index.js';
import { clusterRig, type ClusterRound } from './cluster-rig.js';
import { naiveFloor } from './floor.js';
import { startBenchNats } from './nats.js';
import { engineDriver } from './modes.js';
import { cpuOf, def, FIVE_YAML, fiveHandlers, fmt, list, median, p50, progress, type Bench } from './kit.js';

const CONCURRENCY = 64;

export async function benchCluster(b: Bench, opts: { engines?: number; workers?: number } = {}): Promise<void> {
  const { say, figures } = b;
  const five = def(FIVE_YAML);
  const handlers = fiveHandlers();
  const runs = b.runs ?? (b.quick ? 100 : 1_000);
  const rounds = b.rounds ?? (b.quick ? 1 : 3);
  const floorWorkflows = b.quick ? 200 : 2_000;
  const latencyBatches = b.quick ? 2 : 5;
  const latencyBatch = b.quick ? 5 : 20;

  progress('cluster: starting nats-server, engine and worker processes');
  const server = await startBenchNats();
  try {
    const floor = await naiveFloor(server.url);
    const rig = await clusterRig(server, five, { engines: opts.engines ?? 1, workers: opts.workers ?? 1 });
    const store = new JetStreamEventStore({
      servers: server.url,
      stream: 'BENCH_INPROC',
      subjectPrefix: 'bench.inproc',
      name: 'ledgerflow-bench',
    });
    const inProcess = engineDriver(store, five, handlers, { follow: false }).one;
    try {
      progress('cluster: warm-up');
      await rig.round(b.quick ? 20 : 200, CONCURRENCY);
      for (let i = 0; i < 20; i++) await inProcess();

      const floorRates: number[] = [];
      // The floor's own CPU per workflow (this process, which runs only the floor then, and nats-server): what
      // its seven appends cost, against the CPU a goal leaves a run on this machine's cores (the budget lines).
      const floorCpuUs: number[] = [];
      const clusterRounds: ClusterRound[] = [];
      for (let r = 0; r < rounds; r++) {
        progress(`cluster: round ${r + 1}/${rounds}: naive floor, cluster path`);
        const floorCpu = cpuOf([process.pid, server.pid]);
        floorRates.push(await floor.round(floorWorkflows, CONCURRENCY));
        const floorCpuAfter = cpuOf([process.pid, server.pid]);
        if (floorCpu !== null && floorCpuAfter !== null) floorCpuUs.push((floorCpuAfter - floorCpu) / floorWorkflows);
        clusterRounds.push(await rig.round(runs, CONCURRENCY));
      }
      progress(`cluster: one run at a time, ${latencyBatches} batches of ${latencyBatch} each side`);
      const inLat: number[] = [];
      const clLat: number[] = [];
      for (let i = 0; i < latencyBatches; i++) {
        for (let j = 0; j < latencyBatch; j++) inLat.push(await inProcess());
        clLat.push(...(await rig.oneAtATime(latencyBatch)));
      }

      const rates = clusterRounds.map((c) => c.workflowsPerSec);
      const best = Math.max(...rates);
      const bestFloor = Math.max(...floorRates);
      const cpu = median(clusterRounds.map((c) => c.cpuUsPerRun ?? NaN));
      const serverCpu = median(clusterRounds.map((c) => c.serverCpuUsPerRun ?? NaN));
      const persistedRounds = clusterRounds.map((c) => [...c.persisted.values()].reduce((a, v) => a + v, 0));
      const persisted = median(persistedRounds);
      const byStream: Record<string, number> = {};
      for (const name of new Set(clusterRounds.flatMap((c) => [...c.persisted.keys()])))
        byStream[name] = median(clusterRounds.map((c) => c.persisted.get(name) ?? 0));
      const serverIn = median(clusterRounds.map((c) => c.serverInPerRun));
      const serverOut = median(clusterRounds.map((c) => c.serverOutPerRun));
      const clP50 = p50(clLat);
      const inP50 = p50(inLat);
      // CPU a run may use, every process together, at a goal's rate on this machine's cores (ms).
      const cores = cpus().length;
      const budgetAt = (workflowsPerSec: number) => (cores * 1000) / workflowsPerSec;
      const floorCpu = median(floorCpuUs) / 1000;

      Object.assign(figures, {
        'cluster.workflows_per_sec': best,
        'cluster.floor_workflows_per_sec': bestFloor,
        'cluster.floor_ratio': best / bestFloor,
        'cluster.cpu_ms_per_run': cpu / 1000,
        'cluster.server_cpu_ms_per_run': serverCpu / 1000,
        'cluster.persisted_per_run': persisted,
        'cluster.server_in_msgs_per_run': serverIn,
        'cluster.server_out_msgs_per_run': serverOut,
        'cluster.p50_ms': clP50,
        'cluster.inprocess_p50_ms': inP50,
        'cluster.p50_ratio': clP50 / inP50,
        'cluster.floor_cpu_ms_per_run': floorCpu,
        'cluster.floor_goal_cpu_budget_ms': budgetAt(0.5 * bestFloor),
      });
      b.details.cluster = {
        engines: opts.engines ?? 1,
        workers: opts.workers ?? 1,
        runsPerRound: runs,
        concurrency: CONCURRENCY,
        floorWorkflowsPerRound: floorWorkflows,
        rounds: rates,
        floorRounds: floorRates,
        cpuUsPerRunRounds: clusterRounds.map((c) => c.cpuUsPerRun),
        serverCpuUsPerRunRounds: clusterRounds.map((c) => c.serverCpuUsPerRun),
        persistedPerRunRounds: persistedRounds,
        persistedPerRunByStream: byStream,
        serverInPerRunRounds: clusterRounds.map((c) => c.serverInPerRun),
        serverOutPerRunRounds: clusterRounds.map((c) => c.serverOutPerRun),
        latencyRuns: clLat.length,
        clusterP99Ms: [...clLat].sort((a, b2) => a - b2)[Math.floor(clLat.length * 0.99)],
        inProcessRuns: inLat.length,
      };

      say(
        `\ncluster path: ${opts.engines ?? 1} engine and ${opts.workers ?? 1} worker process(es) (worker concurrency 64) on one nats-server (file storage),`,
      );
      say(
        `five-step workflows, ${CONCURRENCY} in flight (each started by ClusterClient.start when one completes); best of ${rounds} interleaved rounds:`,
      );
      say(
        `  baseline: naive floor (7 one-event appends per workflow), ${CONCURRENCY} at a time   ${fmt(bestFloor)} workflows/s  ${list(floorRates)}`,
      );
      say(
        `  cluster path, ${fmt(runs)} runs per round                                ${fmt(best)} workflows/s  ${list(rates)}`,
      );
      say(`    = ${fmt(best / bestFloor, 3)}× the naive floor (a figure; ÷ the peers: the peers section)`);
      say(
        `  CPU per run, median of the rounds: engine + worker ${fmt(cpu / 1000, 3)} ms (goal ≤ 0.6) ${list(
          clusterRounds.map((c) => (c.cpuUsPerRun ?? NaN) / 1000),
          3,
        )}; nats-server ${fmt(serverCpu / 1000, 3)} ms`,
      );
      say(
        `  CPU a run may use, every process together, on these ${cores} cores: at 0.5× the floor ${fmt(budgetAt(0.5 * bestFloor), 3)} ms;`,
      );
      say(
        `    the cluster path uses ${fmt((cpu + serverCpu) / 1000, 3)} ms; the floor's 7 appends alone use ${fmt(floorCpu, 3)} ms (its client + nats-server) ${list(
          floorCpuUs.map((u) => u / 1000),
          3,
        )}`,
      );
      say(
        `  messages persisted per run (all streams and KV buckets): ${fmt(persisted, 1)} (goal ≤ 10): ${Object.entries(
          byStream,
        )
          .sort((x, y) => y[1] - x[1])
          .map(([k, v]) => `${k} ${fmt(v, 1)}`)
          .join(', ')}`,
      );
      say(
        `  at the server (/varz) per run: ${fmt(serverIn, 1)} in, ${fmt(serverOut, 1)} out (without the bench's own subscription to the log)`,
      );
      say(
        `  one at a time, start to completed: p50 ${fmt(clP50, 2)} ms (${clLat.length} runs) ÷ in-process Engine.run on JetStream p50 ${fmt(inP50, 2)} ms = ${fmt(clP50 / inP50, 2)}× (goal ≤ 3)`,
      );
    } finally {
      await rig.close();
      await store.close().catch(() => undefined);
      await floor.close().catch(() => undefined);
    }
  } finally {
    await server.dispose();
  }
}
