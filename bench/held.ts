/**
 * `npm run bench -- held`: what `ledgerflow serve` and `ledgerflow ui` cost against the number of settled
 * runs a store holds (issue 59): peak resident memory of each process (VmHWM, Linux), and for `ui` the runs
 * page (`GET /api/runs?limit=50`): its first answer after start (the index read or built) and then its p50
 * over 15 requests. Measured on a small store (1,000 runs: the baseline) and a large one (100,000; --runs N
 * to change it) in the same run, and given as ratios large ÷ small: flat is 1.
 *
 * The runs are golden histories of the folder-report workflow (90% completed, 10% failed) under new ids,
 * written as the file store's own lines (as the list section writes them). Both commands run as users start
 * them (the built CLI), each on its own, the index built by the first `ui` and read by the second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '../src/events/index.js';
import { atExit, type Bench, discard } from './kit.js';
import { BIN, binNodeFlags } from './bin-flags.js';

const HISTORIES = new URL('../test/fixtures/histories/folder-report/', import.meta.url);

/** A golden history as one commit's JSON (`{ dedupId, events }`), its run id `lf-path` and days `2026-01-01T` to replace. */
export function templateOf(file: string): string {
  const lines = readFileSync(new URL(file, HISTORIES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const events = lines.flatMap((l) => (JSON.parse(l) as { events: EventEnvelope[] }).events);
  return JSON.stringify({ dedupId: 'lf-path/all', events });
}

/** A store of `runs` settled run logs, written directly (the shape matters, not durability). */
export async function storeOf(runs: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-held-'));
  const ok = templateOf('classify-default-to-note_stocked-ok.jsonl');
  const failed = templateOf('count_files-times-out-on-all-2-attempts-to-run-FAILED.jsonl');
  const runsDir = join(dir, 'runs');
  await mkdir(runsDir, { recursive: true });
  for (let i = 0; i < runs; i += 512) {
    await Promise.all(
      Array.from({ length: Math.min(512, runs - i) }, (_, k) => {
        const n = i + k;
        const runId = `h${String(n).padStart(6, '0')}`;
        const day = new Date(Date.UTC(2026, 0, 1 + (n % 100))).toISOString().slice(0, 11);
        const line = (n % 10 === 3 ? failed : ok).split('lf-path').join(runId).split('2026-01-01T').join(day);
        return writeFile(join(runsDir, `${runId}.jsonl`), `${line}\n`);
      }),
    );
  }
  return dir;
}

export const peakMb = (pid: number): number =>
  Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function start(args: string[], cwd: string): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(process.execPath, [...binNodeFlags(args), BIN, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LEDGERFLOW_STATE_FILE: '' },
  });
  atExit(() => child.kill('SIGKILL'));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.resume();
  return { child, out: () => out };
}

export async function until<T>(what: string, probe: () => T | null | Promise<T | null>, ms = 300_000): Promise<T> {
  const end = performance.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (performance.now() > end) throw new Error(`held: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Until the process's peak memory has not moved for a second: what it does on its own at start is done. */
export async function settledPeak(pid: number): Promise<number> {
  return until('a steady peak', async () => {
    const a = peakMb(pid);
    await new Promise((r) => setTimeout(r, 1000));
    return peakMb(pid) === a ? a : null;
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

interface Measured {
  serveMb: number;
  uiMb: number;
  firstPageMs: number;
  warmFirstPageMs: number;
  pageP50Ms: number;
  total: number;
}

/** Returns once the UI's run index holds its records: a filtered page (no page from the cache's end answers one). */
export async function built(base: string, token: string): Promise<void> {
  const r = await fetch(`${base}api/runs?limit=1&status=COMPLETED`, { headers: { authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`held: a filtered runs page answered ${r.status}`);
  await r.body?.cancel();
}

async function measure(dir: string): Promise<Measured> {
  const serve = start(['--store', dir, 'serve', '--json'], dir);
  await until('serve serving', () => (serve.out().includes('"kind":"serving"') ? true : null));
  const serveMb = await settledPeak(serve.child.pid!);
  await stop(serve.child);

  const page = async (base: string, token: string) => {
    const t = performance.now();
    const r = await fetch(`${base}api/runs?limit=50`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as { runs: unknown[]; total: number };
    if (!r.ok || body.runs.length !== 50) throw new Error(`held: the runs page answered ${r.status}`);
    return { ms: performance.now() - t, total: body.total };
  };
  const ui = async () => {
    const p = start(['--store', dir, 'ui', '--port', '0', '--json'], dir);
    const info = await until('the ui listening', () => {
      try {
        return JSON.parse(p.out().split('\n')[0]!) as { base: string; token: string };
      } catch {
        return null;
      }
    });
    return { p, info };
  };
  // First ui: no index yet (built at the first page). Second: the index there, read at start.
  const cold = await ui();
  const first = await page(cold.info.base, cold.info.token);
  await stop(cold.p.child);
  const warm = await ui();
  const warmFirst = await page(warm.info.base, warm.info.token);
  // Until its records are built, the UI answers an unfiltered page from the index cache's end (held.first_page_ms);
  // the p50 is of pages once they are held: a filtered page, which only the built records answer, waits for that.
  await built(warm.info.base, warm.info.token);
  const times: number[] = [];
  for (let i = 0; i < 15; i++) times.push((await page(warm.info.base, warm.info.token)).ms);
  const uiMb = await settledPeak(warm.p.child.pid!);
  await stop(warm.p.child);
  return {
    serveMb,
    uiMb,
    firstPageMs: first.ms,
    warmFirstPageMs: warmFirst.ms,
    pageP50Ms: times.sort((a, b) => a - b)[7]!,
    total: first.total,
  };
}

export async function benchHeld(b: Bench): Promise<void> {
  const { say, figures } = b;
  if (process.platform !== 'linux') {
    figures['held.skipped'] = 'peak memory is read from /proc (Linux)';
    return;
  }
  const small = b.quick ? 100 : 1_000;
  const large = b.runs ?? (b.quick ? 2_000 : 100_000);
  const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  say(`\nserve and ui against the number of settled runs held (${fmt(small)} and ${fmt(large)}):`);
  const results: Record<number, Measured> = {};
  for (const runs of [small, large]) {
    const dir = await storeOf(runs);
    try {
      results[runs] = await measure(dir);
    } finally {
      discard(dir);
    }
    const m = results[runs]!;
    say(
      `  ${fmt(runs).padStart(7)} runs: serve peak ${fmt(m.serveMb)} MB; ui peak ${fmt(m.uiMb)} MB; runs page first ${fmt(m.firstPageMs)} ms (no index), ${fmt(m.warmFirstPageMs)} ms (index there), then p50 ${fmt(m.pageP50Ms, 1)} ms`,
    );
  }
  const s = results[small]!;
  const l = results[large]!;
  Object.assign(figures, {
    'held.serve_peak_mb': l.serveMb,
    'held.ui_peak_mb': l.uiMb,
    'held.serve_memory_ratio': l.serveMb / s.serveMb,
    'held.ui_memory_ratio': l.uiMb / s.uiMb,
    'held.page_p50_ms': l.pageP50Ms,
    'held.page_ratio': l.pageP50Ms / s.pageP50Ms,
    'held.first_page_ms': l.warmFirstPageMs,
  });
  b.details.held = { small, large, results };
  say(
    `  ${fmt(large)} ÷ ${fmt(small)}: serve memory ${fmt(l.serveMb / s.serveMb, 2)}×, ui memory ${fmt(l.uiMb / s.uiMb, 2)}×, runs page p50 ${fmt(l.pageP50Ms / s.pageP50Ms, 2)}×`,
  );
}
