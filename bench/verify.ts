/**
 * Model checking (docs/verify.md) and the deploy gate (docs/check.md) on the bundled definitions, in process: each
 * definition's `ledgerflow verify` walk (every path, bounded) timed against its `ledgerflow paths` generation (about
 * one path per coverage item) on the same definition in the same run, and `check`'s sections without a store (what
 * changed, newly untested, properties) of each definition against itself. Figures: `verify.paths_ratio` (the summed
 * verify time ÷ the summed paths time: what exhaustive costs over one path per item), `verify.max_ms` (the slowest
 * definition's verify: the "within seconds" the docs promise), `check.max_ms` (the slowest gate).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runGate } from '../src/check/index.js';
import { generatePaths } from '../src/coverage/index.js';
import { loadDefinitionFile } from '../src/files/index.js';
import { verifyDefinition } from '../src/verify/index.js';
import { fmt, now, progress, type Bench } from './kit.js';

/** The best of `n` timings, in ms: the least disturbed by the rest of the machine. */
function best(n: number, fn: () => unknown): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = now();
    fn();
    min = Math.min(min, now() - t);
  }
  return min;
}

export async function benchVerify(b: Bench): Promise<void> {
  const dir = join(import.meta.dirname, '..', 'definitions');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(dir, f));
  const rounds = b.quick ? 1 : 3;
  const rows: { workflow: string; states: number; verifyMs: number; pathsMs: number; checkMs: number }[] = [];
  for (const file of files) {
    const loaded = loadDefinitionFile(file);
    const def = loaded.definition;
    let states = 0;
    const verifyMs = best(rounds, () => {
      states = verifyDefinition(def).states;
    });
    const pathsMs = best(rounds, () => generatePaths(def));
    const version = { file, version: def.version, source: 'file' as const };
    const t = now();
    await runGate({
      after: loaded,
      before: loaded,
      versions: { new: version, against: version },
      store: null,
      map: {},
      history: 0,
      strict: false,
      warn: () => undefined,
    });
    rows.push({ workflow: def.id, states, verifyMs, pathsMs, checkMs: now() - t });
    progress(`verify: ${def.id}: ${states} states, ${fmt(verifyMs, 1)} ms (paths ${fmt(pathsMs, 1)} ms)`);
  }
  const sum = (k: 'verifyMs' | 'pathsMs') => rows.reduce((n, r) => n + r[k], 0);
  const slowest = rows.reduce((a, r) => (r.verifyMs > a.verifyMs ? r : a));
  const slowestCheck = rows.reduce((a, r) => (r.checkMs > a.checkMs ? r : a));
  b.figures['verify.paths_ratio'] = sum('verifyMs') / sum('pathsMs');
  b.figures['verify.max_ms'] = slowest.verifyMs;
  b.figures['check.max_ms'] = slowestCheck.checkMs;
  b.details.verify = rows;
  b.say(
    `verify: ${rows.length} bundled definitions in ${fmt(sum('verifyMs'))} ms (paths: ${fmt(sum('pathsMs'))} ms; ratio ${fmt(sum('verifyMs') / sum('pathsMs'), 2)}); slowest ${slowest.workflow} ${fmt(slowest.verifyMs)} ms (${slowest.states} states); slowest check ${slowestCheck.workflow} ${fmt(slowestCheck.checkMs)} ms`,
  );
}
