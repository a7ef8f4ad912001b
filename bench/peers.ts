/**
 * `npm run bench -- peers`: what users would otherwise pick, measured on
 * this machine in this sitting. BullMQ: a workflow is five chained jobs
 * (each job's processor adds the next), 64 workflows in flight, one worker
 * process with concurrency 64 (bench/peers/bullmq-worker.mjs), against a
 * redis-server this section starts on a free port in a temp dir with
 * `--appendonly yes --appendfsync everysec` (Redis's recommended durable
 * setting). With the `cluster` section in the same run, BullMQ's rounds are
 * interleaved with the cluster path's and `cluster.bullmq_ratio` is their
 * ratio; alone, only BullMQ's workflows/s.
 *
 * bench/peers/ is a package of its own (its own lockfile), not a dependency
 * of ledgerflow: installed here on first use with `npm install --prefix
 * bench/peers` (the versions its lockfile holds; not `npm ci`, which npm 11
 * refuses for this lockfile: it counts the other platforms' optional
 * msgpackr-extract builds as missing). Skipped, with the reason, when
 * redis-server is absent or the install fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../test/helpers/nats.js';
import { fmt, list, progress, type Bench } from './kit.js';

const PEERS = fileURLToPath(new URL('./peers/', import.meta.url));
const CONCURRENCY = 64;

export interface PeerRig { name: string; round(workflows: number, concurrency: number): Promise<number>; close(): Promise<void> }

interface BullmqDriver { round(workflows: number, inFlight: number): Promise<number>; close(): Promise<void> }

function installPeers(): void {
  if (existsSync(join(PEERS, 'node_modules', 'bullmq', 'package.json'))) return;
  progress('peers: installing bench/peers (npm ci --prefix bench/peers; once)');
  const r = spawnSync('npm', ['ci', '--prefix', PEERS, '--no-audit', '--no-fund'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ci --prefix bench/peers failed (run it yourself to see why): ${r.stderr?.slice(-500) ?? r.error?.message}`);
}

async function startRedis(): Promise<{ port: number; dispose(): Promise<void> }> {
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed (apt-get install redis-server), so BullMQ is not measured');
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-redis-'));
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`redis-server not ready in 15 s:\n${log}`)), 15_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => { log += d; if (log.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); } });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited (${code}):\n${log}`)); });
  });
  return {
    port,
    dispose: async () => {
      process.off('exit', kill);
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** BullMQ on its own Redis, warmed up, ready for rounds; throws with the reason when it cannot run here. */
export async function openPeer(b: Bench): Promise<PeerRig> {
  installPeers();
  const redis = await startRedis();
  try {
    const { openBullmq } = await import(pathToFileURL(join(PEERS, 'bullmq.mjs')).href) as { openBullmq(o: { port: number; concurrency: number }): Promise<BullmqDriver> };
    const driver = await openBullmq({ port: redis.port, concurrency: CONCURRENCY });
    await driver.round(b.quick ? 64 : 500, CONCURRENCY); // warm-up
    return {
      name: 'BullMQ (5 chained jobs, Redis AOF everysec)',
      round: (workflows, inFlight) => driver.round(workflows, inFlight),
      close: async () => { await driver.close().catch(() => undefined); await redis.dispose(); },
    };
  } catch (err) {
    await redis.dispose();
    throw err;
  }
}

/** The peers section without the cluster one: BullMQ's workflows/s alone (no ratio: that needs the cluster path in the same sitting). */
export async function benchPeersAlone(b: Bench): Promise<void> {
  let peer: PeerRig;
  try {
    peer = await openPeer(b);
  } catch (err) {
    b.figures['peers.skipped'] = (err as Error).message;
    b.say(`\npeers: skipped: ${(err as Error).message}`);
    return;
  }
  try {
    const rounds = b.rounds ?? (b.quick ? 1 : 3);
    const workflows = b.quick ? 200 : 2_000;
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      progress(`peers: round ${r + 1}/${rounds}`);
      rates.push(await peer.round(workflows, CONCURRENCY));
    }
    b.figures['peers.bullmq_workflows_per_sec'] = Math.max(...rates);
    b.details.peers = { workflowsPerRound: workflows, concurrency: CONCURRENCY, rounds: rates };
    b.say(`\n${peer.name}, ${CONCURRENCY} workflows in flight, best of ${rounds} rounds: ${fmt(Math.max(...rates))} workflows/s ${list(rates)}`);
    b.say('  (÷ the cluster path: npm run bench -- cluster peers)');
  } finally {
    await peer.close();
  }
}
