/** What the archive's chaos tests share: a seeded random source and a CLI process SIGKILLed at a chosen point. */
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { spawnCli } from '../helpers/cli.js';

/** mulberry32: the same kill points every run of a test. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Starts the command and SIGKILLs it `afterMs` after it starts, or `afterMs` after its `batches`th progress line
 * (`archived n of m runs`, as a batch ends and the next begins). Whether the kill landed or the command finished first.
 */
export async function killed(
  procs: ChildProcess[],
  args: string[],
  afterMs: number,
  batches: number | false = false,
): Promise<'killed' | 'finished'> {
  return run(procs, args, (child) => {
    const kill = () => setTimeout(() => child.kill('SIGKILL'), afterMs);
    if (!batches) return kill();
    let seen = 0;
    child.stderr!.on('data', (d: Buffer) => {
      const before = seen;
      seen += (d.toString().match(/archived \d+ of/g) ?? []).length;
      if (before < batches && seen >= batches) kill();
    });
  });
}

/**
 * Starts the command and SIGKILLs it as soon as it has written `path` (mid-move, however fast or loaded the machine:
 * an intent file lives for a whole move, its fsyncs included, many milliseconds; polled each millisecond).
 */
export async function killedOnceWritten(
  procs: ChildProcess[],
  args: string[],
  path: string,
): Promise<'killed' | 'finished'> {
  const startedAt = Date.now();
  return run(procs, args, (child) => {
    const poll = setInterval(() => {
      const at = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
      if (at !== undefined && at >= startedAt - 1) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 1);
    child.once('close', () => clearInterval(poll));
  });
}

/** The command started, `arm` set to kill it; whether the kill landed or the command finished first. */
async function run(
  procs: ChildProcess[],
  args: string[],
  arm: (child: ChildProcess) => void,
): Promise<'killed' | 'finished'> {
  const child = spawnCli(args);
  procs.push(child);
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  arm(child);
  await closed;
  return child.signalCode === 'SIGKILL' ? 'killed' : 'finished';
}
