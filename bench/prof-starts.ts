/**
 * What a start under a caller-chosen id costs on an embedded store that holds `--runs` waiting runs (issue 65):
 * the store filled as bench/scale-waiting.ts fills it (the template run's lines under new ids), then `--starts`
 * Engine.startRun one at a time, ms per start printed. Profile with
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/prof-starts.ts --runs 20000
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import { def, now, p50 } from './kit.js';
import { WAITING_YAML } from './scale-waiting.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const runs = arg('runs', 20_000);
const starts = arg('starts', 100);

const dir = mkdtempSync(join(tmpdir(), 'lf-prof-starts-'));
const store = new FileEventStore(dir);
const engine = new Engine({ store });
const w = def(WAITING_YAML);
try {
  const made = await engine.run(w, {}, { handlers: {}, follow: false });
  const template = readFileSync(join(dir, 'runs', `${made.runId}.jsonl`), 'utf8');
  const runsDir = join(dir, 'runs');
  await mkdir(runsDir, { recursive: true });
  for (let i = 0; i < runs; i += 512)
    await Promise.all(
      Array.from({ length: Math.min(512, runs - i) }, (_, j) => {
        const runId = `w${String(i + j).padStart(7, '0')}`;
        return writeFile(join(runsDir, `${runId}.jsonl`), template.split(made.runId).join(runId));
      }),
    );
  const ms: number[] = [];
  for (let i = 0; i < starts; i++) {
    const t = now();
    await engine.startRun(w, {}, { runId: `s${String(i).padStart(7, '0')}` });
    ms.push(now() - t);
  }
  console.log(
    `${runs} runs held: startRun p50 ${p50(ms).toFixed(2)} ms, mean ${(ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(2)} ms`,
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
