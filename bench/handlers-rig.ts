/**
 * The deployment with BullMQ's trust (issue 65): engines that run the handlers themselves, as users start
 * them, `ledgerflow engine --nats <url> --handlers bench/five-handlers.mjs` (the built CLI, bin/ledgerflow.js;
 * one or several processes on one nats-server sharing the work), and a client in this process starting runs
 * (ClusterClient.start, as `serve`, triggers and a library caller start them), each run's completion seen on
 * the log (LogWatch, as bench/cluster-rig.ts). The same ClusterRig face as the remote-worker path, so that
 * bench/peers.ts measures both the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ClusterClient } from '../src/cluster/index.js';
import type { Definition } from '../src/definition/index.js';
import { LogWatch, oneAfterAnother, startAndWatch, stopNode, type ClusterRig } from './cluster-rig.js';
import { atExit, cpuOf, now, pool, procCpuUs } from './kit.js';
import { BIN, binNodeFlags } from './bin-flags.js';
import type { BenchNats } from './nats.js';

export { BIN } from './bin-flags.js';
const HANDLERS = fileURLToPath(new URL('./five-handlers.mjs', import.meta.url));

/** `ledgerflow <args>` as a user starts it, with the flags sh's line in bin/ledgerflow.js gives node (bin-flags.ts); resolves once its stdout says `ready` (a line containing it). */
export async function spawnCli(args: string[], ready: string, cwd?: string): Promise<ChildProcess> {
  // LF_BENCH_NODE_FLAGS: more node flags for the CLI's processes (bench/prof-handlers.ts: --cpu-prof, which NODE_OPTIONS refuses).
  const more = process.env.LF_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...binNodeFlags(args), ...more, BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LEDGERFLOW_STATE_FILE: '' },
    ...(cwd ? { cwd } : {}),
  });
  const undo = atExit(() => child.kill('SIGKILL'));
  child.once('exit', undo);
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-4_000);
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 64_000) out += d;
      if (out.includes(ready)) resolve();
    });
    child.once('exit', (code) =>
      reject(new Error(`ledgerflow ${args[0]} exited (${code}) before it was ready: ${err}`)),
    );
  });
  return child;
}

/** `engines` processes of `ledgerflow engine --handlers` on `server`, `five` deployed. */
export async function handlersRig(server: BenchNats, five: Definition, engines = 1): Promise<ClusterRig> {
  const children: ChildProcess[] = [];
  const watch = await LogWatch.open(server.url);
  const client = new ClusterClient(server.url);
  const engine = () =>
    spawnCli(['engine', '--nats', server.url, '--handlers', HANDLERS, '--no-state-file'], 'taking work from');
  try {
    // The first engine creates the streams and buckets; the others then start side by side.
    children.push(await engine());
    children.push(...(await Promise.all(Array.from({ length: engines - 1 }, engine))));
    await client.deploy(five);
  } catch (err) {
    await Promise.all(children.map(stopNode));
    await watch.close();
    throw err;
  }
  const pids = children.map((c) => c.pid!);
  const runOne = startAndWatch(client, watch, five);
  return {
    pids,
    round: async (runs, concurrency) => {
      const cpu = cpuOf(pids);
      const serverCpu = procCpuUs(server.pid);
      const t = now();
      await pool(runs, concurrency, () => runOne());
      const ms = now() - t;
      const cpuAfter = cpuOf(pids);
      const serverCpuAfter = procCpuUs(server.pid);
      return {
        workflowsPerSec: runs / (ms / 1000),
        cpuUsPerRun: cpu !== null && cpuAfter !== null ? (cpuAfter - cpu) / runs : null,
        serverCpuUsPerRun: serverCpu !== null && serverCpuAfter !== null ? (serverCpuAfter - serverCpu) / runs : null,
        persisted: new Map(),
        serverInPerRun: 0,
        serverOutPerRun: 0,
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
