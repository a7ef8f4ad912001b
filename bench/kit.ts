/**
 * What the bench's sections share: timing, formatting, statistics, progress
 * on stderr (stdout stays the figures, or with --json one JSON object), the
 * five-step workflow every throughput figure runs, and the `Bench` context a
 * section is handed.
 */
import { readFileSync, rmSync } from 'node:fs';
import { parseDefinition, type Definition } from '../src/definition/index.js';
import type { Handlers } from '../src/runtime/index.js';

/**
 * Runs `fn` when this process exits (a child it started is killed), all of them on one 'exit' listener:
 * `npm run bench -- peers` starts a dozen servers and processes, and a listener each passed Node's limit of
 * ten (MaxListenersExceededWarning). Returns what takes `fn` off again.
 */
const exitTasks = new Set<() => void>();
export function atExit(fn: () => void): () => void {
  if (exitTasks.size === 0) process.once('exit', runExitTasks);
  exitTasks.add(fn);
  return () => {
    exitTasks.delete(fn);
    if (exitTasks.size === 0) process.off('exit', runExitTasks);
  };
}
function runExitTasks(): void {
  for (const fn of exitTasks) fn();
}

/**
 * Scratch folders a section is done with, removed when the whole bench ends (`npm run bench` calls
 * removeDiscarded() last), not when their section does. On this machine's file system (ext4 without a journal) a
 * file created within a minute or so of a mass deletion has its inode searched for past every inode just freed
 * in its group (the allocator's `recently_deleted` check): 300–1,000 µs of system time a create instead of 20–40.
 * Every run the file store takes creates its log, so a section that followed another's removal measured that
 * removal: the crypt section's rounds climbed from 624 to 2,110 workflows/s after the statefile section's
 * (2026-11-29). Outside the runner (a section's module used by a script of its own) a folder goes at once.
 */
const discarded: string[] = [];
let deferred = false;
export function discard(dir: string): void {
  if (deferred) discarded.push(dir);
  else rmSync(dir, { recursive: true, force: true });
}
/** From now on discard() keeps folders until removeDiscarded(). */
export function deferDiscards(): void {
  deferred = true;
}
/** Removes every folder discard() kept (the end of the bench). */
export function removeDiscarded(): void {
  for (const dir of discarded.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const now = () => performance.now();

/**
 * CPU time (ms, user + system) this process has used so far: what the
 * sections time work by that is CPU-bound in this one process (fold, replay,
 * chain). On a machine shared by several sessions (load 10+ on 2 cores) wall
 * time mostly measures the wait for a core; the least of several rounds then
 * leaves what is left of the noise, which only ever adds time.
 */
export const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export const fmt = (n: number, d = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : String(n);

/** The q-quantile of already sorted numbers (nearest rank below). */
export function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Rounds of side b against side a whose order alternated (a first in even rounds, b first in odd ones): each pair of
 * rounds gives the geometric mean of its two b ÷ a ratios, in which going first cancels; the ratio is the median of
 * those (one round alone: its own ratio). bench/crypt.ts and bench/state-file.ts measure so.
 */
export function pairedRatio(a: number[], b: number[]): { pairs: number[]; ratio: number } {
  const pairs: number[] = [];
  for (let k = 0; k + 1 < a.length; k += 2) pairs.push(Math.sqrt((b[k]! / a[k]!) * (b[k + 1]! / a[k + 1]!)));
  if (pairs.length === 0 && a.length > 0) pairs.push(b[0]! / a[0]!);
  return { pairs, ratio: median(pairs) };
}

export const p50 = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

/** `count` jobs over `concurrency` lanes; job i runs on lane w. */
export async function pool(
  count: number,
  concurrency: number,
  job: (i: number, lane: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async (_, w) => {
      while (next < count) await job(next++, w);
    }),
  );
}

/** A line of progress, on stderr: stdout is kept for the figures (or the one JSON object). */
export function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export function def(text: string, file = 'bench.yaml'): Definition {
  const { definition, diagnostics } = parseDefinition(text, file);
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

/** The workflow of every throughput figure: five SIMPLE steps in a row. */
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

export const fiveHandlers = (): Handlers =>
  Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));

/** CPU (µs, user + system) a process has used so far, from /proc/<pid>/stat; null where it cannot be read (gone, not Linux). */
export function procCpuUs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in clock ticks of USER_HZ = 100
  } catch {
    return null;
  }
}

/** The sum of procCpuUs over `pids` (null when any cannot be read). */
export function cpuOf(pids: number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const c = procCpuUs(pid);
    if (c === null) return null;
    total += c;
  }
  return total;
}

/** What a section is handed: how to print, how big to make its measurements, and where its figures go. */
export interface Bench {
  say: (line: string) => void;
  /** --quick: small counts, for a check that the section runs (the figures mean little). */
  quick: boolean;
  /** --rounds N (each section has its own default). */
  rounds?: number;
  /** --runs N: the size of one round, where a section has one. */
  runs?: number;
  /** The flat figures, `section.name` → number (null: not measured, with the reason under `section.skipped`). */
  figures: Record<string, number | string | null>;
  /** Everything else a section measured, under its name. */
  details: Record<string, unknown>;
}

/** `rounds` of each side, interleaved (a, b, a, b…): a slow stretch on a shared machine then costs each side a round. */
export async function interleave<A, B>(
  rounds: number,
  a: (r: number) => Promise<A>,
  b: (r: number) => Promise<B>,
): Promise<{ a: A[]; b: B[] }> {
  const as: A[] = [];
  const bs: B[] = [];
  for (let r = 0; r < rounds; r++) {
    as.push(await a(r));
    bs.push(await b(r));
  }
  return { a: as, b: bs };
}

export const list = (xs: number[], d = 0) => `[${xs.map((x) => fmt(x, d)).join(', ')}]`;
