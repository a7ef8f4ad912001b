/**
 * `npm run bench -- peers`: ledgerflow against the durable workflow engines
 * a user would otherwise pick, in one sitting on this machine, the same
 * five-step workflow on every side, `--runs` (1,000) workflows a round with
 * 64 in flight (closed loop: each next one started when one completes),
 * best of `--rounds` (3) rounds, the rounds of every side interleaved; then
 * one workflow at a time, in batches interleaved the same way, for p50.
 *
 * Ours (bench/modes.ts, bench/cluster-rig.ts): Engine.run on the memory
 * store, on the file store, on JetStream (in-process, file storage; and the
 * same with the runs index kept by its projection in that process, side
 * jetstream_index: the least a deployment keeping the index pays, with no
 * client, kick or engine read of its own), and the
 * cluster path (engine and worker processes) on that same nats-server; and
 * (issue 65: the deployment with BullMQ's trust, whose worker holds the keys
 * to its whole queue) engines that run the handlers themselves, `ledgerflow
 * engine --handlers` as users start it, 1 and 2 of them on a nats-server of
 * their own (bench/handlers-rig.ts; sides handlers1, handlers2).
 * The peers, each a process of its own (bench/peers/*.mjs, driven as
 * bench/peers/protocol.mjs says) on servers this section starts on free
 * loopback ports in temp folders (bench/peer-servers.ts):
 *
 * - dbos: DBOS Transact, a workflow of five DBOS.runStep steps, on its own
 *   PostgreSQL cluster (initdb/pg_ctl; or $LEDGERFLOW_BENCH_PG);
 * - restate: Restate, a service handler calling ctx.run five times, invoked
 *   through restate-server's ingress (the deployment registered with its
 *   admin API);
 * - bullmq_aof: BullMQ, five chained jobs (bench/peers/bullmq-worker.mjs, a
 *   worker process with concurrency 64), on a redis-server with
 *   `--appendonly yes --appendfsync everysec`; bullmq: the same on a
 *   redis-server that keeps nothing on disk.
 *
 * Figures: peers.dbos_ratio (in-process JetStream ÷ DBOS),
 * peers.dbos_file_ratio (file store ÷ DBOS), peers.restate_ratio (cluster
 * path ÷ Restate), peers.bullmq_aof_ratio and peers.bullmq_ratio (cluster
 * path ÷ BullMQ; cluster.bullmq_ratio, the older key, is the AOF one),
 * peers.handlers_bullmq_aof_ratio and peers.handlers_restate_ratio (engines
 * running the handlers, the better of 1 and 2 engines, ÷ BullMQ on AOF and ÷
 * Restate; p50 the lower of the two),
 * peers.*_p50_ratio (ours one at a time ÷ the peer's, same pairs), each
 * side's workflows/s, p50 and CPU per run; and what durability costs
 * against the engine's own ceiling: ceiling.file_ratio and
 * ceiling.jetstream_ratio (÷ the memory store), ceiling.cluster_ratio
 * (÷ in-process JetStream on the same server), engine.cpu_ms_per_run (this
 * process's CPU per run on the memory store, the least of the rounds).
 * A peer that cannot start, or fails, is `peers.<peer>_missing` with why,
 * and its ratios null. LEDGERFLOW_BENCH_PEERS=dbos,restate (a comma list
 * of dbos, restate, bullmq_aof, bullmq) measures only those peers.
 *
 * Every side's round, and its batch one at a time, starts on a settled disk: `sync` first, so that no
 * side pays for the writeback another side (PostgreSQL's WAL, Restate's RocksDB, Redis' AOF, our file
 * store and JetStream) left behind: the file store's rounds had swung from 1,561 to 3,486 workflows/s
 * between two runs, partly on the ext4 work of whatever ran before them.
 *
 * bench/peers/ is a package of its own (its own lockfile), not a dependency
 * of ledgerflow: installed here on first use with `npm ci --prefix
 * bench/peers` (exactly its lockfile).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FileEventStore, JetStreamEventStore, MemoryEventStore, type AppendRequest } from '../src/store/index.js';
import { RUNS_INDEX_CONSUMER, startRunIndexProjection } from '../src/query/index.js';
import { jetstreamManager } from '@nats-io/jetstream';
import { clusterRig, type ClusterRig } from './cluster-rig.js';
import { handlersRig } from './handlers-rig.js';
import { engineDriver } from './modes.js';
import { startBenchNats } from './nats.js';
import { startPostgres, startRedis, startRestate, type PeerServer } from './peer-servers.js';
import {
  atExit,
  cpuNow,
  cpuOf,
  def,
  FIVE_YAML,
  fiveHandlers,
  fmt,
  list,
  median,
  now,
  p50,
  procCpuUs,
  progress,
  type Bench,
  discard,
} from './kit.js';

const PEERS = fileURLToPath(new URL('./peers/', import.meta.url));

/** Writes back what is dirty in the page cache, every file system's (`sync` waits for it): the next side starts with none. */
function settleDisk(): void {
  const r = spawnSync('sync', [], { stdio: 'ignore', timeout: 120_000 });
  if (r.error) throw new Error(`sync (settling the disk between sides): ${r.error.message}`);
}
const CONCURRENCY = 64;

/** One side of the comparison: ours or a peer's. */
interface Side {
  key: string;
  label: string;
  round(workflows: number, inFlight: number): Promise<{ rate: number; cpuMsPerRun: number | null }>;
  /** Each run's start-to-complete (ms), one at a time, and the CPU (ms) every process of the side used meanwhile. */
  oneAtATime(n: number): Promise<OneAtATime>;
  close(): Promise<void>;
}

interface OneAtATime {
  ms: number[];
  cpuMs: number | null;
  /** A cluster side's: each run's client `start` until it resolved (ms): run.started and the kick (the version watched). */
  startMs?: number[];
}

/**
 * `batch` timed with the CPU every process in `pids` used meanwhile (and this process's, when `self`: the in-process
 * sides, and the client starting runs and watching them complete for the cluster's). One at a time the CPU a run costs
 * is several times what it costs under load (each message wakes a process), and on `cores` cores a run can average no
 * less than that CPU ÷ cores: the floor of the p50 goals (goal-arithmetic.ts).
 */
async function withCpu(pids: () => number[], self: boolean, batch: () => Promise<number[]>): Promise<OneAtATime> {
  const ps = pids();
  const before = cpuOf(ps);
  const mine = cpuNow();
  const ms = await batch();
  const after = cpuOf(ps);
  const own = self ? cpuNow() - mine : 0;
  return { ms, cpuMs: before !== null && after !== null ? (after - before) / 1000 + own : null };
}

function installPeers(): void {
  const have = ['bullmq', '@dbos-inc/dbos-sdk', '@restatedev/restate-sdk', '@restatedev/restate-server'].every((p) =>
    existsSync(join(PEERS, 'node_modules', p, 'package.json')),
  );
  if (have) return;
  progress('peers: installing bench/peers (npm ci --prefix bench/peers; once)');
  const r = spawnSync('npm', ['ci', '--prefix', PEERS, '--no-audit', '--no-fund'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0)
    throw new Error(
      `npm ci --prefix bench/peers failed (run it yourself to see why): ${r.stderr?.slice(-500) ?? r.error?.message}`,
    );
}

/** The pids of a process and all its descendants (from /proc). */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(' ') : []) out.push(...tree(Number(k)));
    }
  } catch {
    // gone, or not Linux
  }
  return out;
}

/** The error a process's log ends with (its last `SomethingError: …` line), else the log's last line. */
function whyIn(log: string): string {
  const lines = log
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.filter((l) => /^[\w.]*Error\b.*:/.test(l)).pop() ?? lines.pop() ?? '(nothing on its output)';
}

/** A peer's driver process (bench/peers/<script>): ops on stdin, answers on fd 3. */
async function driverProcess(
  script: string,
  args: string[],
): Promise<{ pid: number; op(msg: Record<string, unknown>): Promise<any>; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [join(PEERS, script), ...args], {
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    cwd: PEERS,
  });
  const kill = () => child.kill('SIGKILL');
  const undo = atExit(kill);
  let log = '';
  const keep = (d: string) => {
    log = (log + d).slice(-4_000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  const pending = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  let ready: { resolve(v: any): void; reject(e: Error): void } | null = null;
  const started = new Promise((resolve, reject) => {
    ready = { resolve, reject };
  });
  createInterface({ input: child.stdio[3] as Readable }).on('line', (line) => {
    const msg = JSON.parse(line) as { id?: number; ready?: boolean; error?: string };
    if (msg.ready) {
      ready?.resolve(true);
      return;
    }
    const p = pending.get(msg.id!);
    pending.delete(msg.id!);
    if (msg.error) p?.reject(new Error(msg.error));
    else p?.resolve(msg);
  });
  child.once('exit', (code, signal) => {
    undo();
    const err = new Error(`${script} exited (${code ?? signal}): ${whyIn(log)}`);
    ready?.reject(err);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  await started;
  let id = 0;
  const op = (msg: Record<string, unknown>) =>
    new Promise<any>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error(`${script} is gone: ${whyIn(log)}`));
        return;
      }
      const n = ++id;
      pending.set(n, { resolve, reject });
      (child.stdin as Writable).write(`${JSON.stringify({ ...msg, id: n })}\n`);
    });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await op({ op: 'close' }).catch(() => undefined);
    child.stdin!.end();
    await gone;
    clearTimeout(timer);
  };
  return { pid: child.pid!, op, stop };
}

/** A peer's side: its servers started, its driver process ready. */
async function peerSide(
  key: string,
  label: string,
  servers: (() => Promise<PeerServer>)[],
  driver: (s: PeerServer[]) => [string, string[]],
): Promise<Side> {
  const started: PeerServer[] = [];
  try {
    for (const start of servers) started.push(await start());
    const [script, args] = driver(started);
    const d = await driverProcess(script, args);
    const pids = () => [...tree(d.pid), ...started.flatMap((s) => (s.pid === null ? [] : tree(s.pid)))];
    return {
      key,
      label,
      round: async (workflows, inFlight) => {
        const ps = pids();
        const cpu = cpuOf(ps);
        const { rate } = await d.op({ op: 'round', workflows, inFlight });
        const after = cpuOf(ps);
        return { rate, cpuMsPerRun: cpu !== null && after !== null ? (after - cpu) / 1000 / workflows : null };
      },
      oneAtATime: (n) => withCpu(pids, false, async () => (await d.op({ op: 'oneAtATime', n })).ms),
      close: async () => {
        await d.stop();
        for (const s of started.reverse()) await s.dispose();
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.dispose().catch(() => undefined);
    throw err;
  }
}

const PEER_SIDES: { key: string; open(): Promise<Side> }[] = [
  {
    key: 'dbos',
    open: () =>
      peerSide('dbos', 'DBOS Transact (5 DBOS.runStep, PostgreSQL)', [startPostgres], ([pg]) => [
        'dbos.mjs',
        [pg!.url],
      ]),
  },
  {
    key: 'restate',
    open: async () => {
      const port = await (await import('../test/helpers/nats.js')).freePort();
      return peerSide('restate', 'Restate (5 ctx.run, via its ingress)', [() => startRestate(PEERS)], ([rs]) => [
        'restate.mjs',
        [String(port), rs!.url, rs!.ingressUrl!],
      ]);
    },
  },
  {
    key: 'bullmq_aof',
    open: () =>
      peerSide('bullmq_aof', 'BullMQ (5 chained jobs, Redis AOF everysec)', [() => startRedis(true)], ([r]) => [
        'bullmq.mjs',
        [r!.url, String(CONCURRENCY)],
      ]),
  },
  {
    key: 'bullmq',
    open: () =>
      peerSide('bullmq', 'BullMQ (5 chained jobs, Redis in memory only)', [() => startRedis(false)], ([r]) => [
        'bullmq.mjs',
        [r!.url, String(CONCURRENCY)],
      ]),
  },
];

/** [figure, ours, peer]: figure = ours ÷ the peer, in workflows/s (and `_p50_ratio`: ours' p50 ÷ the peer's). */
const PAIRS: [string, string, string][] = [
  ['peers.dbos', 'jetstream', 'dbos'],
  ['peers.dbos_file', 'file', 'dbos'],
  ['peers.restate', 'cluster', 'restate'],
  ['peers.bullmq_aof', 'cluster', 'bullmq_aof'],
  ['peers.bullmq', 'cluster', 'bullmq'],
  ['peers.handlers_bullmq_aof', 'handlers', 'bullmq_aof'],
  ['peers.handlers_restate', 'handlers', 'restate'],
];
/** Ours, measured as a cluster: its side's round and one at a time from a rig. */
const OURS = ['memory', 'file', 'jetstream', 'jetstream_index', 'cluster', 'handlers1', 'handlers2'];
function rigSide(key: string, label: string, rig: ClusterRig, serverPid: number): Side {
  return {
    key,
    label,
    oneAtATime: async (n) => {
      const startMs: number[] = [];
      const got = await withCpu(
        () => [...rig.pids, serverPid],
        true,
        () => rig.oneAtATime(n, startMs),
      );
      return { ...got, startMs };
    },
    close: async () => undefined,
    round: async (n, c) => {
      const r = await rig.round(n, c);
      return {
        rate: r.workflowsPerSec,
        cpuMsPerRun:
          r.cpuUsPerRun !== null && r.serverCpuUsPerRun !== null ? (r.cpuUsPerRun + r.serverCpuUsPerRun) / 1000 : null,
      };
    },
  };
}

export async function benchPeers(b: Bench): Promise<void> {
  const { figures, say } = b;
  const five = def(FIVE_YAML);
  const handlers = fiveHandlers();
  const runs = b.runs ?? (b.quick ? 100 : 1_000);
  const rounds = b.rounds ?? (b.quick ? 1 : 3);
  const batches = b.quick ? 2 : 5;
  const batch = b.quick ? 5 : 20;
  const missing: Record<string, string> = {};
  const sides: Side[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-peers-'));
  try {
    progress('peers: starting nats-server, the cluster path, the in-process stores');
    const server = await startBenchNats();
    cleanup.push(() => server.dispose());
    const rig = await clusterRig(server, five);
    cleanup.push(() => rig.close());
    const jsStore = new JetStreamEventStore({
      servers: server.url,
      stream: 'BENCH_PEERS_INPROC',
      subjectPrefix: 'bench.peers',
      name: 'ledgerflow-bench',
    });
    cleanup.push(() => jsStore.close());
    // The same, with the runs index kept as engines keep it (its projection in this process), on a nats-server of its
    // own: the index's bucket and the role of keeping it are one a server (the cluster path's engine holds this one's).
    const indexServer = await startBenchNats();
    cleanup.push(() => indexServer.dispose());
    const jsIndexed = new JetStreamEventStore({
      servers: indexServer.url,
      stream: 'BENCH_PEERS_INDEXED',
      subjectPrefix: 'bench.indexed',
      name: 'ledgerflow-bench',
    });
    cleanup.push(() => jsIndexed.close());
    const projection = await startRunIndexProjection({ store: jsIndexed });
    cleanup.push(() => projection.stop());
    const fileStore = new FileEventStore(join(dir, 'file'));
    cleanup.push(() => fileStore.close());
    const onJs = engineDriver(jsStore, five, handlers, { follow: false });
    const onFile = engineDriver(fileStore, five, handlers, { follow: false });
    // The commits this process writes handed to the projection as an engine hands its own (RunHost `stored`): taken from
    // memory when delivered, not parsed again. Their fold is not handed over (an engine's is): the projection folds them
    // again, a few hundredths of a millisecond a run this side pays and an engine's projection does not.
    const append = async (req: AppendRequest) => {
      const r = await jsIndexed.append(req);
      if (!r.duplicate && typeof r.position === 'number') projection.stored(req.runId, req.events, r.position);
      return r;
    };
    // Each method bound once (a bind at every call would make this side pay for the bench's own wrapper).
    const bound = new Map<PropertyKey, unknown>([['append', append]]);
    const storedHere = new Proxy(jsIndexed, {
      get(target, key) {
        if (bound.has(key)) return bound.get(key);
        const v = Reflect.get(target, key, target) as unknown;
        if (typeof v !== 'function') return v;
        const f = v.bind(target);
        bound.set(key, f);
        return f;
      },
    });
    const onIndexed = engineDriver(storedHere, five, handlers, { follow: false });
    const indexJsm = await jetstreamManager(await jsIndexed.connection());
    /** Until every commit stored is in the runs index: its projection works after the runs complete, and that is the side's cost too. */
    const indexCaughtUp = async () => {
      const until = now() + 60_000;
      for (;;) {
        const c = await indexJsm.consumers.info(jsIndexed.stream, RUNS_INDEX_CONSUMER);
        if (c.num_pending === 0 && c.num_ack_pending === 0) return;
        if (now() > until)
          throw new Error(`the runs index is ${c.num_pending + c.num_ack_pending} commits behind after a minute`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    /** An in-process side on JetStream: this process's CPU and nats-server's (and the time until `settled` resolves). */
    const onServer = (d: typeof onJs, pid: number, settled?: () => Promise<void>) => async (n: number, c: number) => {
      const s = procCpuUs(pid);
      const cpu = cpuNow();
      const t = now();
      await d.round(n, c);
      await settled?.();
      const ms = now() - t;
      const mine = (cpuNow() - cpu) / n;
      const after = procCpuUs(pid);
      return {
        rate: n / (ms / 1000),
        cpuMsPerRun: s !== null && after !== null ? mine + (after - s) / 1000 / n : null,
      };
    };
    const ones =
      (one: () => Promise<number>, pids: () => number[] = () => []) =>
      (n: number) =>
        withCpu(pids, true, async () => {
          const ms: number[] = [];
          for (let i = 0; i < n; i++) ms.push(await one());
          return ms;
        });
    sides.push(
      // A fresh memory store a round: the runs of earlier rounds would otherwise grow what it holds.
      {
        key: 'memory',
        label: 'ledgerflow, memory store (no I/O)',
        round: (n, c) => engineDriver(new MemoryEventStore(), five, handlers).round(n, c),
        oneAtATime: ones(() => engineDriver(new MemoryEventStore(), five, handlers).one()),
        close: async () => undefined,
      },
      {
        key: 'file',
        label: 'ledgerflow, file store',
        round: (n, c) => onFile.round(n, c),
        oneAtATime: ones(onFile.one),
        close: async () => undefined,
      },
      {
        key: 'jetstream',
        label: 'ledgerflow, in-process on JetStream',
        oneAtATime: ones(onJs.one, () => [server.pid]),
        close: async () => undefined,
        round: onServer(onJs, server.pid),
      },
      {
        key: 'jetstream_index',
        label: 'ledgerflow, in-process on JetStream, runs index kept',
        oneAtATime: ones(onIndexed.one, () => [indexServer.pid]),
        close: async () => undefined,
        round: onServer(onIndexed, indexServer.pid, indexCaughtUp),
      },
      rigSide('cluster', 'ledgerflow, cluster path (engine + worker processes)', rig, server.pid),
    );
    // Engines running the handlers (issue 65), 1 and 2, each set on a nats-server of its own (engines on one server share every run).
    for (const engines of [1, 2]) {
      progress(`peers: starting ${engines} ledgerflow engine --handlers on a nats-server of their own`);
      const own = await startBenchNats();
      cleanup.push(() => own.dispose());
      const hrig = await handlersRig(own, five, engines);
      cleanup.push(() => hrig.close());
      sides.push(
        rigSide(
          `handlers${engines}`,
          `ledgerflow, ${engines} engine${engines > 1 ? 's' : ''} --handlers (processes)`,
          hrig,
          own.pid,
        ),
      );
    }
    const only = process.env.LEDGERFLOW_BENCH_PEERS?.split(',').map((k) => k.trim());
    let install: string | null | undefined;
    for (const peer of PEER_SIDES) {
      if (only && !only.includes(peer.key)) {
        missing[peer.key] = `not among LEDGERFLOW_BENCH_PEERS=${only.join(',')}`;
        continue;
      }
      if (install === undefined) {
        try {
          installPeers();
          install = null;
        } catch (err) {
          install = (err as Error).message;
        }
      }
      if (install) {
        missing[peer.key] = install;
        continue;
      }
      progress(`peers: starting ${peer.key}`);
      try {
        const side = await peer.open();
        cleanup.push(() => side.close());
        sides.push(side);
      } catch (err) {
        missing[peer.key] = (err as Error).message.slice(0, 2_000);
        progress(`peers: ${peer.key} missing: ${missing[peer.key]}`);
      }
    }
    /** Runs `fn` on every side still there, each on a settled disk (see above); a peer that fails is dropped as missing, a failure of ours fails the section. */
    const each = async (what: string, fn: (s: Side) => Promise<void>) => {
      for (const s of [...sides]) {
        settleDisk();
        try {
          await fn(s);
        } catch (err) {
          if (OURS.includes(s.key)) throw err;
          missing[s.key] = `failed in ${what}: ${(err as Error).message.slice(0, 2_000)}`;
          progress(`peers: ${s.key} dropped: ${missing[s.key]}`);
          sides.splice(sides.indexOf(s), 1);
          await s.close().catch(() => undefined);
        }
      }
    };
    progress('peers: warm-up');
    await each('the warm-up', async (s) => {
      await s.round(b.quick ? 20 : 200, CONCURRENCY);
      await s.oneAtATime(3);
    });
    const rates: Record<string, number[]> = {};
    const cpus: Record<string, (number | null)[]> = {};
    for (let r = 0; r < rounds; r++) {
      progress(`peers: round ${r + 1}/${rounds}: ${sides.map((s) => s.key).join(', ')}`);
      await each(`round ${r + 1}`, async (s) => {
        const got = await s.round(runs, CONCURRENCY);
        (rates[s.key] ??= []).push(got.rate);
        (cpus[s.key] ??= []).push(got.cpuMsPerRun);
      });
    }
    progress(`peers: one at a time, ${batches} batches of ${batch} each side`);
    const lat: Record<string, number[]> = {};
    /** A cluster side's client `start` of each run one at a time (ms). */
    const startLat: Record<string, number[]> = {};
    /** CPU (ms) every process of a side used over its batches one at a time; null once a batch could not read it. */
    const oneCpu: Record<string, number | null> = {};
    for (let i = 0; i < batches; i++)
      await each('one at a time', async (s) => {
        const got = await s.oneAtATime(batch);
        (lat[s.key] ??= []).push(...got.ms);
        if (got.startMs) (startLat[s.key] ??= []).push(...got.startMs);
        const before = oneCpu[s.key];
        oneCpu[s.key] = got.cpuMs === null || before === null ? null : (before ?? 0) + got.cpuMs;
      });

    const here = new Set(sides.map((s) => s.key));
    const best = (k: string): number | null =>
      k === 'handlers'
        ? Math.max(best('handlers1') ?? 0, best('handlers2') ?? 0) || null
        : here.has(k)
          ? Math.max(...rates[k]!)
          : null;
    // Engines running the handlers: the better deployment of the two (1 or 2 engines), each figure on its own.
    const p50Of = (k: string): number | null =>
      k === 'handlers'
        ? [p50Of('handlers1'), p50Of('handlers2')].reduce<number | null>(
            (m, x) => (x === null ? m : m === null ? x : Math.min(m, x)),
            null,
          )
        : here.has(k)
          ? p50(lat[k]!)
          : null;
    const ratio = (x: number | null, y: number | null) => (x !== null && y !== null ? x / y : null);
    for (const s of sides) {
      figures[`peers.${s.key}_workflows_per_sec`] = best(s.key);
      figures[`peers.${s.key}_p50_ms`] = p50Of(s.key);
      const c = cpus[s.key]!.filter((x): x is number => x !== null);
      figures[`peers.${s.key}_cpu_ms_per_run`] = c.length ? median(c) : null;
      const one = oneCpu[s.key];
      figures[`peers.${s.key}_one_cpu_ms_per_run`] =
        one === null || one === undefined ? null : one / lat[s.key]!.length;
      const starts = startLat[s.key];
      if (starts?.length) figures[`peers.${s.key}_start_p50_ms`] = p50(starts);
    }
    for (const [f, ours, peer] of PAIRS) {
      figures[`${f}_ratio`] = ratio(best(ours), best(peer));
      figures[`${f}_p50_ratio`] = ratio(p50Of(ours), p50Of(peer));
    }
    for (const [k, why] of Object.entries(missing)) figures[`peers.${k}_missing`] = why;
    figures['cluster.bullmq_ratio'] = figures['peers.bullmq_aof_ratio']!;
    figures['ceiling.file_ratio'] = ratio(best('file'), best('memory'));
    figures['ceiling.jetstream_ratio'] = ratio(best('jetstream'), best('memory'));
    figures['ceiling.cluster_ratio'] = ratio(best('cluster'), best('jetstream'));
    figures['engine.cpu_ms_per_run'] = Math.min(...cpus.memory!.filter((x): x is number => x !== null));
    b.details.peers = {
      runsPerRound: runs,
      concurrency: CONCURRENCY,
      rounds: rates,
      cpuMsPerRun: cpus,
      oneAtATimeRuns: batches * batch,
      missing,
    };

    say(
      `\n${fmt(runs)} five-step workflows a round, ${CONCURRENCY} in flight, best of ${rounds} interleaved rounds; one at a time: p50 of ${batches * batch} (CPU per run: every process of the side, median of the rounds; one at a time, with the client's process, over all the batches):`,
    );
    for (const s of sides)
      say(
        `  ${s.label.padEnd(54)} ${fmt(best(s.key)!).padStart(6)} workflows/s ${list(rates[s.key]!)}  p50 ${fmt(p50Of(s.key)!, 2)} ms${typeof figures[`peers.${s.key}_start_p50_ms`] === 'number' ? ` (start ${fmt(figures[`peers.${s.key}_start_p50_ms`] as number, 2)})` : ''}  CPU ${fmt(figures[`peers.${s.key}_cpu_ms_per_run`] as number, 3)} ms/run, one at a time ${typeof figures[`peers.${s.key}_one_cpu_ms_per_run`] === 'number' ? fmt(figures[`peers.${s.key}_one_cpu_ms_per_run`] as number, 2) : '—'}`,
      );
    for (const [k, why] of Object.entries(missing)) say(`  ${k}: MISSING: ${why.split('\n')[0]}`);
  } finally {
    for (const c of cleanup.reverse())
      await c().catch((err: unknown) => progress(`peers: closing: ${(err as Error).message}`));
    discard(dir);
  }
}
