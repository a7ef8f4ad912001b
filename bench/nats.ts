/**
 * A nats-server for the cluster-side figures, started as the tests start
 * theirs (nats-dev.conf: file storage, a connection without credentials is
 * the engine user) on a free port with a temp store dir, plus a known
 * monitoring port, so the bench can read the server's own message counts
 * (/varz) and its CPU (/proc). And what the server has persisted: every
 * stream's last sequence (KV buckets are streams KV_<bucket>), before and
 * after a measured window.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { freePort, natsServerBin, NATS_DEV_CONF } from '../test/helpers/nats.js';
import { atExit, discard } from './kit.js';

export interface BenchNats {
  url: string;
  pid: number;
  monitorPort: number;
  /** The server's message counters now (from /varz). */
  varz(): Promise<{ inMsgs: number; outMsgs: number }>;
  dispose(): Promise<void>;
}

export async function startBenchNats(): Promise<BenchNats> {
  const bin = natsServerBin();
  if (!bin) throw new Error('nats-server not found (install the nats-server package or set NATS_SERVER_BIN)');
  const dir = await mkdtemp(join(tmpdir(), 'lf-bench-nats-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const monitorPort = await freePort();
    const proc = spawn(
      bin,
      ['-c', NATS_DEV_CONF, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-sd', dir],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      await ready(proc);
    } catch (err) {
      proc.kill('SIGKILL');
      if (attempt >= 3) {
        discard(dir);
        throw err;
      }
      continue;
    }
    const onExit = () => proc.kill('SIGKILL');
    const undo = atExit(onExit);
    return {
      url: `nats://127.0.0.1:${port}`,
      pid: proc.pid!,
      monitorPort,
      varz: async () => {
        const v = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as {
          in_msgs: number;
          out_msgs: number;
        };
        return { inMsgs: v.in_msgs, outMsgs: v.out_msgs };
      },
      dispose: async () => {
        undo();
        if (proc.exitCode === null && proc.signalCode === null) {
          const gone = new Promise((r) => proc.once('exit', r));
          proc.kill('SIGKILL');
          await gone;
        }
        discard(dir);
      },
    };
  }
}

function ready(proc: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`nats-server not ready in 20 s:\n${log}`)), 20_000);
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      if (log.length < 64_000) log += d;
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited (${code}):\n${log}`));
    });
  });
}

/** Every stream's last sequence: a message stored moves it on, whether or not it is later acked away (work queues) or replaced (KV). */
export async function streamSeqs(jsm: JetStreamManager): Promise<Map<string, number>> {
  const seqs = new Map<string, number>();
  for await (const s of jsm.streams.list()) seqs.set(s.config.name, s.state.last_seq);
  return seqs;
}

/** Messages stored per stream between two streamSeqs readings, added into `into`. */
export function addPersisted(into: Map<string, number>, before: Map<string, number>, after: Map<string, number>): void {
  for (const [name, seq] of after) {
    const d = seq - (before.get(name) ?? 0);
    if (d > 0) into.set(name, (into.get(name) ?? 0) + d);
  }
}
