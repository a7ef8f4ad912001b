/**
 * The cluster path as users run it: engine process(es) and worker
 * process(es) (bench/cluster-node.ts) on one nats-server, runs started with
 * ClusterClient.start from this process, each run's completion seen on the
 * log's subjects by one core subscription (the commit that settles a run
 * carries its COMPLETED state). What a round measures besides workflows/s:
 * the CPU of the engine and worker processes and of nats-server (/proc),
 * what every stream and KV bucket stored (their last sequences), and the
 * server's message counters (/varz).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Definition } from '../src/definition/index.js';
import { ClusterClient } from '../src/cluster/index.js';
import { addPersisted, streamSeqs, type BenchNats } from './nats.js';
import { atExit, cpuOf, now, pool, procCpuUs } from './kit.js';
import { BIN_NODE_FLAGS } from './bin-flags.js';
import { jetstreamManager } from '@nats-io/jetstream';

const NODE = fileURLToPath(new URL('./cluster-node.ts', import.meta.url));
/** The build, as the bench's own process runs it (bench/built.mjs). */
const BUILT = new URL('./built.mjs', import.meta.url).href;

/** A bench child: node with the CLI's flags (bin-flags.ts) and no pretenuring, on the build (src/ through tsx with LF_BENCH_SOURCES); resolves once it printed `ready`. */
export async function spawnNode(args: string[]): Promise<ChildProcess> {
  // LF_BENCH_NODE_ARGS: node flags for the engine and worker processes only (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const extra = (process.env.LF_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // The flags the command's processes run with (bin/ledgerflow.js; src/cli/launch.ts turns pretenuring off).
  const child = spawn(
    process.execPath,
    [
      ...BIN_NODE_FLAGS,
      '--no-allocation-site-pretenuring',
      ...extra,
      '--import',
      'tsx',
      '--import',
      BUILT,
      NODE,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const kill = () => child.kill('SIGKILL');
  const undo = atExit(kill);
  child.once('exit', undo);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`bench ${args[0]} exited (${code}) before it was ready`)));
  });
  return child;
}

export async function stopNode(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(timer);
}

/** Tells when a run's log gets its next commit, or its settling one, from one subscription to lf.events.>. */
export class LogWatch {
  private readonly waiters = new Map<string, { settled: boolean; resolve: () => void }>();
  private readonly early = new Set<string>();
  delivered = 0;
  private constructor(readonly nc: NatsConnection) {}

  static async open(url: string): Promise<LogWatch> {
    const nc = await connect({ servers: url, noAsyncTraces: true, name: 'ledgerflow-bench-watch' });
    const w = new LogWatch(nc);
    const text = new TextDecoder();
    nc.subscribe('lf.events.>', {
      callback: (_err, m) => {
        w.delivered++;
        const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
        const settled = text.decode(m.data).includes('"status":"COMPLETED"');
        const waiter = w.waiters.get(runId);
        if (waiter && (settled || !waiter.settled)) {
          w.waiters.delete(runId);
          waiter.resolve();
        } else if (settled) w.early.add(runId);
      },
    });
    await nc.flush();
    return w;
  }

  /** Resolves at the run's next commit (`settled`: at the commit that completes it, even if it came already). */
  next(runId: string, settled: boolean): Promise<void> {
    if (settled && this.early.delete(runId)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(runId, { settled, resolve }));
  }

  close() {
    return this.nc.close();
  }
}

export interface ClusterRound {
  workflowsPerSec: number;
  /** CPU of the engine and worker processes per run (µs). */
  cpuUsPerRun: number | null;
  serverCpuUsPerRun: number | null;
  /** Messages stored per run, by stream (KV buckets are KV_<bucket>). */
  persisted: Map<string, number>;
  /** /varz in and out per run; out without the bench's own watcher's deliveries. */
  serverInPerRun: number;
  serverOutPerRun: number;
}

export interface ClusterRig {
  pids: number[];
  /** `runs` runs, `concurrency` of them in flight (each started when one completes). */
  round(runs: number, concurrency: number): Promise<ClusterRound>;
  /**
   * Start-to-complete of one run at a time (ms). `starts` gets each run's own start, in order: the client's
   * `start` until it resolves (run.started appended, the engines kicked; the deployed version is watched).
   */
  oneAtATime(runs: number, starts?: number[]): Promise<number[]>;
  close(): Promise<void>;
}

export async function clusterRig(
  server: BenchNats,
  five: Definition,
  opts: { engines?: number; workers?: number; workerConcurrency?: number } = {},
): Promise<ClusterRig> {
  const children: ChildProcess[] = [];
  const watch = await LogWatch.open(server.url);
  const client = new ClusterClient(server.url);
  try {
    // The first engine creates the streams and buckets; the others and the workers then start side by side.
    children.push(await spawnNode(['engine', server.url]));
    const rest = [
      ...Array.from({ length: (opts.engines ?? 1) - 1 }, () => ['engine', server.url]),
      ...Array.from({ length: opts.workers ?? 1 }, () => ['worker', server.url, String(opts.workerConcurrency ?? 64)]),
    ];
    children.push(...(await Promise.all(rest.map((a) => spawnNode(a)))));
    await client.deploy(five);
  } catch (err) {
    await Promise.all(children.map(stopNode));
    await watch.close();
    throw err;
  }
  const pids = children.map((c) => c.pid!);
  const jsm = await jetstreamManager(watch.nc);
  const runOne = startAndWatch(client, watch, five);
  return {
    pids,
    round: async (runs, concurrency) => {
      const seqs = await streamSeqs(jsm);
      const varz = await server.varz();
      const delivered = watch.delivered;
      const cpu = cpuOf(pids);
      const serverCpu = procCpuUs(server.pid);
      const t = now();
      await pool(runs, concurrency, () => runOne());
      const ms = now() - t;
      const cpuAfter = cpuOf(pids);
      const serverCpuAfter = procCpuUs(server.pid);
      const varzAfter = await server.varz();
      const persisted = new Map<string, number>();
      addPersisted(persisted, seqs, await streamSeqs(jsm));
      for (const [k, v] of persisted) persisted.set(k, v / runs);
      return {
        workflowsPerSec: runs / (ms / 1000),
        cpuUsPerRun: cpu !== null && cpuAfter !== null ? (cpuAfter - cpu) / runs : null,
        serverCpuUsPerRun: serverCpu !== null && serverCpuAfter !== null ? (serverCpuAfter - serverCpu) / runs : null,
        persisted,
        serverInPerRun: (varzAfter.inMsgs - varz.inMsgs) / runs,
        serverOutPerRun: (varzAfter.outMsgs - varz.outMsgs - (watch.delivered - delivered)) / runs,
      };
    },
    oneAtATime: (runs, starts) => oneAfterAnother(runs, () => runOne(starts)),
    close: async () => {
      await Promise.all(children.map(stopNode));
      await client.close().catch(() => undefined);
      await watch.close().catch(() => undefined);
    },
  };
}

/** A run started as a client starts it and watched to its end; `starts` gets how long the client's `start` took. */
export function startAndWatch(
  client: ClusterClient,
  watch: LogWatch,
  definition: Definition,
): (starts?: number[]) => Promise<void> {
  return async (starts) => {
    const t = now();
    const { runId } = await client.start(definition.id, {});
    starts?.push(now() - t);
    await watch.next(runId, true);
  };
}

/** `runs` runs of `one`, each started when the last completed: each one's start-to-complete (ms). */
export async function oneAfterAnother(runs: number, one: () => Promise<void>): Promise<number[]> {
  const lat: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = now();
    await one();
    lat.push(now() - t);
  }
  return lat;
}
