/**
 * `ledgerflow import conductor`: Conductor workflows imported (converted and
 * validated) per second of CPU, over the project's own fixture workflows
 * (test/fixtures/conductor/, the ones that import) repeated. Figure:
 * `evo.import_rate` (workflows per second, the best of the rounds). Run alone
 * with `npm run -s bench -- import --json`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importConductor } from '../src/import/index.js';
import { cpuNow, fmt, type Bench } from './kit.js';

const FIXTURES = fileURLToPath(new URL('../test/fixtures/conductor/', import.meta.url));

export function benchImport(b: Bench): void {
  const sources = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, text: readFileSync(join(FIXTURES, f), 'utf8') }))
    .filter((s) => importConductor(s.text, s.file).refusals.length === 0);
  if (sources.length === 0) throw new Error(`no fixture in ${FIXTURES} imports`);
  const perRound = b.runs ?? (b.quick ? 20 : 400);
  const rounds = b.rounds ?? (b.quick ? 2 : 5);
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = cpuNow();
    let imported = 0;
    for (let i = 0; i < perRound; i++) {
      const s = sources[i % sources.length]!;
      imported += importConductor(s.text, s.file).definitions.length > 0 ? 1 : 0;
    }
    rates.push(imported / ((cpuNow() - t) / 1000));
  }
  const best = Math.max(...rates);
  b.figures['evo.import_rate'] = Math.round(best);
  b.details.import = {
    fixtures: sources.map((s) => s.file),
    perRound,
    rounds,
    ratesPerSec: rates.map((x) => Math.round(x)),
  };
  b.say(
    `import: ${fmt(best)} Conductor workflows imported and validated per CPU second (${sources.length} fixtures, ${perRound} per round, best of ${rounds})`,
  );
}
