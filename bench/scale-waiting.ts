/**
 * Runs waiting for a person, held by one process (bench/scale.ts): `ledgerflow serve` on the embedded store and
 * one `ledgerflow engine` on NATS, each as users start them (the built CLI). The workflow waits 10 ms (a durable
 * timer the holder fires: it drives every run, not only stores it) and then on a HUMAN task for alice.
 *
 * One holder, growing: on an empty store its starts per second (`starts` runs, 64 at a time, each until its holder
 * has taken it up: serve's `run.driving`, the engine's `timer.fired` commit), then filled to `small` waiting runs and
 * `approvals` approvals one at a time (approve to completed, p50), then filled to `large` and the same approvals and
 * starts again, with the holder's peak resident memory (VmHWM) and its resident memory at each size.
 *
 * Filling: on the embedded store each run is the log the workflow leaves at its HUMAN wait (made once through
 * Engine.run) written under a new id as the store's own lines (as bench/held.ts writes settled ones); serve picks
 * each up as it picks up any run written by another process. On NATS through the engine as users start runs
 * (ClusterClient.start, 256 at a time), each until the engine fired its timer.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { ClusterClient } from '../src/cluster/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import { stopNode } from './cluster-rig.js';
import { spawnCli } from './handlers-rig.js';
import { peakMb, until } from './held.js';
import { def, now, p50, pool, procCpuUs, progress, discard } from './kit.js';
import { startBenchNats } from './nats.js';

export const WAITING_YAML = `
workflow:
  id: scale-approve
  version: 1
  tasks:
    - { id: breath, type: WAIT, duration: 10ms }
    - { id: sign_off, type: HUMAN, approvers: [alice], depends_on: [breath] }
`;
const wf = () => def(WAITING_YAML);

export interface WaitingSizes {
  small: number;
  large: number;
  starts: number;
  approvals: number;
}

export interface WaitingMeasured {
  /** Starts per second, taken up by the holder: on an empty store, and holding `large`. */
  emptyStartsPerSec: number;
  largeStartsPerSec: number;
  smallApproveP50Ms: number;
  largeApproveP50Ms: number;
  smallRssMb: number;
  largeRssMb: number;
  peakMb: number;
  /** (resident at large − at small) ÷ (large − small), in KB. */
  kbPerWaitingRun: number;
}

const rssMb = (pid: number): number =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Until `left()` is 0. */
async function drained(what: string, left: () => number, ms = 3_600_000): Promise<void> {
  let logged = now();
  await until(
    what,
    () => {
      if (now() - logged > 30_000) {
        logged = now();
        progress(`scale: ${what}: ${left()} to go`);
      }
      return left() === 0 ? true : null;
    },
    ms,
  );
}

/**
 * Until the holder has used under a tenth of a core for a second (at most 2 minutes): what filling left it to do (the
 * run index catching up, a rescan) is done before approvals are timed, at either size.
 */
export async function quiet(pid: number): Promise<void> {
  const end = now() + 120_000;
  while (now() < end) {
    const a = procCpuUs(pid);
    await new Promise((r) => setTimeout(r, 1000));
    const b = procCpuUs(pid);
    if (a === null || b === null || b - a < 100_000) return;
  }
}

/** A holder seen from this process: start one run and resolve once held; approve one and resolve once completed. */
export interface Holder {
  pid: number;
  /** Per start, where the holder can tell: ms in the start call, ms from its return to the holder taking it up. */
  split?: { startMs: number; pickMs: number }[];
  startOne(): Promise<void>;
  /** Fills the store up to `total` runs waiting. */
  fillTo(total: number): Promise<void>;
  /** The ids of runs waiting here, to approve. */
  waiting: string[];
  approveOne(runId: string): Promise<void>;
  close(): Promise<void>;
}

async function measureHolder(h: Holder, sizes: WaitingSizes, label: string): Promise<WaitingMeasured> {
  const startsRate = async () => {
    const t = now();
    await pool(sizes.starts, 64, () => h.startOne());
    return sizes.starts / ((now() - t) / 1000);
  };
  const approvals = async () => {
    await quiet(h.pid);
    const ms: number[] = [];
    for (let i = 0; i < sizes.approvals; i++) {
      const runId = h.waiting.pop()!;
      const t = now();
      await h.approveOne(runId);
      ms.push(now() - t);
    }
    return p50(ms);
  };
  // Warm-up (the holder's and this process's code compiled): a few runs and one approval, then "an empty store".
  await pool(Math.min(200, sizes.starts), 16, () => h.startOne());
  // Once the holder is idle: a start is counted when the holder says it drives the run, which may be before the run
  // has reached its HUMAN task (an approval then is refused, and kept in the run's history).
  await quiet(h.pid);
  await h.approveOne(h.waiting.pop()!);
  progress(`scale: ${label}: starts on an empty store`);
  const emptyStartsPerSec = await startsRate();
  progress(`scale: ${label}: filling to ${sizes.small} waiting`);
  await h.fillTo(sizes.small);
  const smallRssMb = rssMb(h.pid);
  const smallApproveP50Ms = await approvals();
  progress(`scale: ${label}: filling to ${sizes.large} waiting`);
  await h.fillTo(sizes.large);
  const largeRssMb = rssMb(h.pid);
  const largeApproveP50Ms = await approvals();
  const largeStartsPerSec = await startsRate();
  return {
    emptyStartsPerSec,
    largeStartsPerSec,
    smallApproveP50Ms,
    largeApproveP50Ms,
    smallRssMb,
    largeRssMb,
    peakMb: peakMb(h.pid),
    kbPerWaitingRun: ((largeRssMb - smallRssMb) * 1024) / (sizes.large - sizes.small),
  };
}

/** serve on a fresh embedded store. */
export async function serveHolder(dir: string): Promise<Holder> {
  const store = new FileEventStore(dir);
  const engine = new Engine({ store });
  const w = wf();
  // The log a run leaves at its HUMAN wait, as the store's lines, with its id to replace.
  const made = await engine.run(w, {}, { handlers: {}, follow: false });
  if (made.status !== 'WAITING') throw new Error(`scale: the template run ended ${made.status}`);
  const template = readFileSync(join(dir, 'runs', `${made.runId}.jsonl`), 'utf8');
  const picked = new Map<string, () => void>();
  const settled = new Map<string, () => void>();
  /** Runs written by fillTo that serve has not said it drives yet. */
  const unpicked = new Set<string>();
  const serve = await spawnCli(['--store', dir, 'serve', '--json'], '"kind":"serving"', dir);
  let rest = '';
  serve.stdout!.on('data', (d: string) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const kind = /"kind":"([\w.]+)"/.exec(line)?.[1];
      if (kind !== 'run.driving' && kind !== 'run.settled') continue;
      const runId = (JSON.parse(line) as { runId: string }).runId;
      if (kind === 'run.driving') unpicked.delete(runId);
      (kind === 'run.driving' ? picked : settled).get(runId)?.();
    }
  });
  const waiting: string[] = [];
  const split: { startMs: number; pickMs: number }[] = [];
  let next = 0;
  return {
    pid: serve.pid!,
    waiting,
    split,
    startOne: async () => {
      // A caller-chosen id (as `ledgerflow run --id`): told before serve can say it drives it.
      const runId = `s${String(next++).padStart(7, '0')}`;
      const got = new Promise<void>((r) => picked.set(runId, r));
      const t0 = now();
      await engine.startRun(w, {}, { runId });
      const t1 = now();
      await got;
      split.push({ startMs: t1 - t0, pickMs: now() - t1 });
      picked.delete(runId);
      waiting.push(runId);
    },
    fillTo: async (total) => {
      const runsDir = join(dir, 'runs');
      await mkdir(runsDir, { recursive: true });
      const write = total - waiting.length;
      for (let i = 0; i < write; i += 512)
        await Promise.all(
          Array.from({ length: Math.min(512, write - i) }, () => {
            const runId = `w${String(next++).padStart(7, '0')}`;
            waiting.unshift(runId);
            unpicked.add(runId);
            return writeFile(join(runsDir, `${runId}.jsonl`), template.split(made.runId).join(runId));
          }),
        );
      await drained(`serve taking up ${total} waiting runs`, () => unpicked.size);
    },
    approveOne: async (runId) => {
      const done = new Promise<void>((r) => settled.set(runId, r));
      await engine.decide(runId, 'sign_off', 'approved', 'alice');
      await done;
      settled.delete(runId);
    },
    close: async () => {
      await stopNode(serve);
      await store.close();
    },
  };
}

/** One `ledgerflow engine` on a nats-server of its own; runs started and approved by a client here. */
async function engineHolder(): Promise<Holder & { dispose(): Promise<void> }> {
  const server = await startBenchNats();
  let engine: ChildProcess | null = null;
  const client = new ClusterClient(server.url);
  const nc = await connect({ servers: server.url, name: 'ledgerflow-bench-scale' });
  try {
    engine = await spawnCli(['engine', '--nats', server.url, '--no-state-file'], 'taking work from');
    await client.deploy(wf());
  } catch (err) {
    if (engine) await stopNode(engine);
    await nc.close();
    await server.dispose();
    throw err;
  }
  // Each run's timer.fired (the engine drove it to its HUMAN wait) and its completion, from the log's subjects.
  const fired = new Map<string, () => void>();
  const done = new Map<string, () => void>();
  const early = new Set<string>();
  const text = new TextDecoder();
  nc.subscribe('lf.events.>', {
    callback: (_e, m) => {
      const runId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
      const body = text.decode(m.data);
      const map = body.includes('"status":"COMPLETED"') ? done : body.includes('timer.fired') ? fired : null;
      if (!map) return;
      const w = map.get(runId);
      if (w) w();
      else if (map === fired) early.add(runId);
    },
  });
  await nc.flush();
  const waiting: string[] = [];
  const startOne = async () => {
    const { runId } = await client.start('scale-approve', {});
    if (!early.delete(runId)) await new Promise<void>((r) => fired.set(runId, r));
    fired.delete(runId);
    waiting.push(runId);
  };
  const close = async () => {
    if (engine) await stopNode(engine);
    await client.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
  };
  return {
    pid: engine.pid!,
    waiting,
    startOne,
    fillTo: async (total) => {
      let logged = now();
      await pool(Math.max(0, total - waiting.length), 256, async () => {
        await startOne();
        if (now() - logged > 30_000) {
          logged = now();
          progress(`scale: NATS engine holding ${waiting.length} waiting runs`);
        }
      });
    },
    approveOne: async (runId) => {
      const completed = new Promise<void>((r) => done.set(runId, r));
      await client.decide(runId, 'sign_off', 'approved', 'alice');
      await completed;
      done.delete(runId);
    },
    close,
    dispose: async () => {
      await close();
      await server.dispose();
    },
  };
}

export async function waitingOnServe(sizes: WaitingSizes): Promise<WaitingMeasured> {
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-scale-serve-'));
  const h = await serveHolder(dir);
  try {
    return await measureHolder(h, sizes, 'serve');
  } finally {
    await h.close();
    discard(dir);
  }
}

export async function waitingOnEngine(sizes: WaitingSizes): Promise<WaitingMeasured> {
  const h = await engineHolder();
  try {
    return await measureHolder(h, sizes, 'NATS engine');
  } finally {
    await h.dispose();
  }
}
