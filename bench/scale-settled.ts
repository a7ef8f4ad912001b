/**
 * Settled runs (bench/scale.ts): on a store of `runs` settled runs (bench/held.ts's store: golden histories of the
 * folder-report workflow under new ids), the p50 of what a user asks of it, each as users ask it: `ledgerflow list` (its
 * default page, the newest 50), `ledgerflow status <id>`, `ledgerflow stats folder-report` (the built CLI, start to exit), and `GET /api/runs?limit=50`
 * of a running `ledgerflow ui`; and the peak resident memory of `serve` and of `ui` on it. The index is built once
 * (a first `list`, untimed) before anything is timed: what is measured is the store as it stands, not its first read.
 */
import { execFileSync, spawn } from 'node:child_process';
import { built, settledPeak, stop, storeOf, until } from './held.js';
import { now, p50, discard } from './kit.js';
import { BIN, binNodeFlags } from './bin-flags.js';

export interface SettledMeasured {
  listP50Ms: number;
  statusP50Ms: number;
  statsP50Ms: number;
  apiRunsP50Ms: number;
  serveMb: number;
  uiMb: number;
}

/** `ledgerflow <args>` to its exit (ms); a non-zero exit is an error. */
export function cliMs(args: string[], cwd: string): Promise<number> {
  const t = now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...binNodeFlags(args), BIN, ...args], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LEDGERFLOW_STATE_FILE: '' },
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-2_000);
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(now() - t) : reject(new Error(`ledgerflow ${args.join(' ')} exited ${code}: ${err}`)),
    );
  });
}

/** A long-running `ledgerflow <args>` (ui, serve) and what it printed so far. */
export function started(args: string[], cwd: string) {
  let out = '';
  const child = spawn(process.execPath, [...binNodeFlags(args), BIN, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, LEDGERFLOW_STATE_FILE: '' },
  });
  child.stdout!.on('data', (d: Buffer) => {
    if (out.length < 64_000) out += d.toString();
  });
  return { child, out: () => out };
}

/**
 * What the fill left in the page cache written out before anything is timed: 100,000 runs leave about 340 MB dirty,
 * which the kernel writes back within the next half minute, under the commands being timed (a store in use for a
 * month is not one written a second ago).
 */
export function settle(): void {
  execFileSync('sync');
}

/** Requests asked and not timed first: a ui that has just read its index is still collecting what the read left. */
const API_WARM = 20;

/**
 * The p50 of `GET /api/runs?limit=50` of a ui at `base` (its index built or loaded), past API_WARM requests untimed.
 * Timed from the second request, the first page's p50 over 100,000 runs read 3.5x that over 1,000 in two sittings and
 * 1x in others: its first ten requests took 30, 14, 18, 8, 10 ms, then 2.7 as at 1,000 (the index's load still being
 * collected, 2026-11-29); a ui serves for hours, so what is compared is a page once it has settled.
 */
export async function apiRunsP50(base: string, headers: Record<string, string>, runs: number, reps: number) {
  const ms: number[] = [];
  for (let i = 0; i < API_WARM + Math.max(reps, 30); i++) {
    const t = now();
    const r = await fetch(`${base}api/runs?limit=50`, { headers });
    const body = (await r.json()) as { runs: unknown[] };
    if (!r.ok || body.runs.length !== Math.min(50, runs)) throw new Error(`scale: /api/runs answered ${r.status}`);
    if (i >= API_WARM) ms.push(now() - t);
  }
  return p50(ms);
}

export async function settledAt(runs: number, reps: number): Promise<SettledMeasured> {
  const dir = await storeOf(runs);
  settle();
  try {
    const store = ['--store', dir];
    await cliMs([...store, 'list'], dir); // builds the run index
    const times = async (args: string[]) => {
      const ms: number[] = [];
      for (let i = 0; i < reps; i++) ms.push(await cliMs([...store, ...args], dir));
      return p50(ms);
    };
    const listP50Ms = await times(['list']);
    const statusP50Ms = await times(['status', `h${String(Math.floor(runs / 2)).padStart(6, '0')}`]);
    const statsP50Ms = await times(['stats', 'folder-report']);

    const ui = started([...store, 'ui', '--port', '0', '--json'], dir);
    let apiRunsP50Ms: number;
    let uiMb: number;
    try {
      const info = await until('the ui listening', () => {
        try {
          return JSON.parse(ui.out().split('\n')[0]!) as { base: string; token: string };
        } catch {
          return null;
        }
      });
      // Pages of the built index (the first, answered from the cache's end while it builds, is held.first_page_ms).
      await built(info.base, info.token);
      apiRunsP50Ms = await apiRunsP50(info.base, { authorization: `Bearer ${info.token}` }, runs, reps);
      uiMb = await settledPeak(ui.child.pid!);
    } finally {
      await stop(ui.child);
    }

    const serve = started([...store, 'serve', '--json'], dir);
    let serveMb: number;
    try {
      await until('serve serving', () => (serve.out().includes('"kind":"serving"') ? true : null));
      serveMb = await settledPeak(serve.child.pid!);
    } finally {
      await stop(serve.child);
    }
    return { listP50Ms, statusP50Ms, statsP50Ms, apiRunsP50Ms, serveMb, uiMb };
  } finally {
    discard(dir);
  }
}
