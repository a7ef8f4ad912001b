/**
 * Starts taken up by `ledgerflow serve` while it holds `--runs` waiting runs (issue 65), as bench/scale-waiting.ts
 * measures them, with each start split into the start call (Engine.startRun in this process) and serve's pick-up of
 * the run (from the call's return to serve's `run.driving`):
 *
 *   node --import tsx --import ./bench/built.mjs bench/prof-serve-starts.ts [--runs 20000] [--starts 300] [--prof dir]
 *     [--stall-s 180]  (a phase not done by then is told as stalled, with how many were taken up)
 *
 * --prof dir: serve runs under --cpu-prof into dir; it is stopped right after the starts on the full store, so
 * `bench/prof-top.ts <file> --last <s>` with the seconds printed summarises that phase alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { now, p50, pool } from './kit.js';
import { quiet, serveHolder, type Holder } from './scale-waiting.js';

const arg = (name: string, dflt: string | undefined) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1];
};
const runs = Number(arg('runs', '20000'));
const starts = Number(arg('starts', '300'));
const prof = arg('prof', undefined);
const STALL_MS = Number(arg('stall-s', '180')) * 1000;

async function phase(h: Holder, label: string): Promise<number> {
  h.split!.length = 0;
  const t = now();
  // A start serve never takes up (its watch event lost, the rescan far off) is told, not waited for without end.
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    pool(starts, 64, () => h.startOne()).then(() => false),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(true), STALL_MS);
    }),
  ]);
  clearTimeout(timer);
  if (late) {
    console.log(`${label}: ${h.split!.length} of ${starts} taken up in ${STALL_MS / 1000} s; the rest not (stalled)`);
    return Number.NaN;
  }
  const s = (now() - t) / 1000;
  const sp = h.split!;
  console.log(
    `${label}: ${(starts / s).toFixed(1)} starts/s; start call p50 ${p50(sp.map((x) => x.startMs)).toFixed(1)} ms, pick-up p50 ${p50(sp.map((x) => x.pickMs)).toFixed(1)} ms (${s.toFixed(1)} s)`,
  );
  return starts / s;
}

const dir = mkdtempSync(join(tmpdir(), 'lf-prof-serve-starts-'));
if (prof) process.env.LF_BENCH_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${prof}`;
const h = await serveHolder(dir);
delete process.env.LF_BENCH_NODE_FLAGS;
try {
  await pool(200, 16, () => h.startOne());
  const empty = await phase(h, 'empty store');
  await h.fillTo(runs);
  await quiet(h.pid);
  const full = await phase(h, `${runs} waiting`);
  console.log(`ratio ${(full / empty).toFixed(2)}`);
} finally {
  const t = now();
  await h.close();
  console.log(`serve stopped in ${((now() - t) / 1000).toFixed(1)} s (--skip-end for prof-top)`);
  rmSync(dir, { recursive: true, force: true });
}
