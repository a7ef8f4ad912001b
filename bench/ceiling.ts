/**
 * A small, quick harness for engine.cpu_ms_per_run (issue 41's ceiling): the
 * five-step workflow through Engine.run on a MemoryEventStore, `--runs` (5,000)
 * runs a round with `--in-flight` (64) at a time, CPU of this process per run
 * (process.cpuUsage: far less sensitive to a loaded machine than throughput),
 * the least and the median of `--rounds` (7) rounds after a warm-up round.
 *
 *   node --import tsx bench/ceiling.ts            # the sources, under tsx (keepNames: a __name call per closure)
 *   node --import tsx bench/ceiling.ts --dist     # the shipped bundle, dist/index.js (npm run build first)
 *
 * Add `node --cpu-prof --cpu-prof-dir=/tmp/prof` and read the profile with bench/prof-top.ts.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { FIVE_YAML, fiveHandlers, median, pool } from './kit.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const runs = opt('--runs', 5_000);
const inFlight = opt('--in-flight', 64);
const rounds = opt('--rounds', 7);
const fromDist = args.includes('--dist');
/** `--dist <folder>`: another build's dist/ (e.g. a copy of the one before a change, for A/B rounds). */
const distAt =
  fromDist && args[args.indexOf('--dist') + 1] && !args[args.indexOf('--dist') + 1]!.startsWith('--')
    ? resolve(args[args.indexOf('--dist') + 1]!)
    : join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

type Lib = typeof import('../src/index.js');
const lib: Lib = fromDist
  ? ((await import(pathToFileURL(join(distAt, 'index.js')).href)) as Lib)
  : await import('../src/index.js');
/** `--steps n`: a chain of n steps instead of the five (what a step costs ÷ what a run costs besides). */
const steps = opt('--steps', 5);
const yaml =
  steps === 5
    ? FIVE_YAML
    : `workflow:\n  id: steps-${steps}\n  name: ${steps} sequential steps\n  version: 1\n  tasks:\n${Array.from(
        { length: steps },
        (_, i) => `    - { id: s${i + 1}, type: SIMPLE${i > 0 ? `, depends_on: [s${i}]` : ''} }\n`,
      ).join('')}`;
const { definition } = lib.parseDefinition(yaml, 'bench.yaml');
if (!definition) throw new Error('the workflow did not parse');
const handlers =
  steps === 5
    ? fiveHandlers()
    : Object.fromEntries(Array.from({ length: steps }, (_, i) => [`s${i + 1}`, async () => ({ step: `s${i + 1}` })]));
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function round(n: number): Promise<number> {
  const engine = new lib.Engine({ store: new lib.MemoryEventStore() });
  const options = { handlers };
  const t = cpuNow();
  await pool(n, inFlight, async () => {
    const v = await engine.run(definition!, {}, options);
    if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ended ${v.status}`);
  });
  return (cpuNow() - t) / n;
}

await round(Math.min(runs, 2_000)); // warm-up: JIT, caches
const per: number[] = [];
for (let r = 0; r < rounds; r++) per.push(await round(runs));
const f = (x: number) => x.toFixed(4);
console.log(
  `${fromDist ? distAt : 'tsx'} cpu_ms_per_run min ${f(Math.min(...per))} median ${f(median(per))}  [${per.map(f).join(' ')}]  (${steps} steps, ${runs} runs × ${rounds}, ${inFlight} in flight)`,
);
