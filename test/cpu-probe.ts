/**
 * The CPU each test file costs, when LEDGERFLOW_TEST_CPU names a file to append to (vitest.config.ts adds this
 * setup file then): per file, the worker's own CPU and its children's (the CLI commands, engines and servers it
 * started and reaped), in seconds, and the wall time. The suite is CPU-bound on 2 cores, so that is what to cut:
 *
 *   LEDGERFLOW_TEST_CPU=/tmp/cpu.txt npm test && sort -rn /tmp/cpu.txt | head -30
 *
 * A file's afterAll records what was used since the previous file's in the same worker (files of a worker run one
 * after another), so set-up between files is counted with the next one; a child reaped late counts where it was reaped.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll } from 'vitest';

/** utime, stime, cutime, cstime of this process (clock ticks: 100 a second on Linux), and the time in ticks. */
function ticks(): number[] {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12]), Number(f[13]), Number(f[14]), Date.now() / 10];
}

const out = process.env.LEDGERFLOW_TEST_CPU;
const worker = globalThis as { lfCpuProbe?: number[] };
worker.lfCpuProbe ??= ticks();

// vitest reads a hook's first parameter as its fixtures and wants a destructuring pattern: `{}` takes none.
// biome-ignore lint/correctness/noEmptyPattern: vitest refuses any other shape here (FixtureParseError)
afterAll(({}, suite) => {
  if (!out) return;
  const [before, now] = [worker.lfCpuProbe!, ticks()];
  worker.lfCpuProbe = now;
  const [user, sys, childUser, childSys, wall] = now.map((v, i) => (v - before[i]!) / 100) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const file = 'filepath' in suite && typeof suite.filepath === 'string' ? suite.filepath : suite.name;
  appendFileSync(
    out,
    `${(user + sys + childUser + childSys).toFixed(2)} self ${(user + sys).toFixed(2)} children ${(childUser + childSys).toFixed(2)} wall ${wall.toFixed(1)} ${file.replace(/.*\/test\//, 'test/')}\n`,
  );
});
