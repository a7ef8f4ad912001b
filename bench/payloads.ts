/**
 * Large payloads (docs/language.md#large-payloads) on the file store, in process: a run whose handler returns a 100 MB
 * output that a DECISION and a later task read a field of, timed against writing the same bytes (the output's JSON) to
 * a file and syncing it, in the same sitting (`payloads.e2e_ratio`: what the engine costs over the bytes' own write).
 * Then several such runs at once, the process's resident memory sampled while they run (`payloads.peak_rss_mb`, with
 * `payloads.in_flight` runs, 50 unless --runs N): bounded by the values in flight, not by what the store holds, and the log of
 * each run stays a few KiB (`payloads.log_bytes`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import { def, fmt, now, progress, type Bench, discard } from './kit.js';

const FLOW = def(`
workflow:
  id: bench_payloads
  tasks:
    - { id: produce, type: SIMPLE, handler: produce }
    - id: route
      type: DECISION
      depends_on: [produce]
      decision_param: "\${produce.output.status}"
      decision_cases:
        ok: { next: use }
        default: { next: other }
    - { id: use, type: SIMPLE, handler: use, input: { rows: "\${produce.output.rows}" } }
    - { id: other, type: SIMPLE, handler: use }
`);

export async function benchPayloads(b: Bench): Promise<void> {
  const mb = b.quick ? 10 : 100;
  const body = 'x'.repeat(mb * 1024 * 1024);
  const handlers = {
    produce: async () => ({ status: 'ok', rows: 3, body }),
    use: async (input: Record<string, unknown>) => ({ rows: input.rows }),
  };
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-payloads-'));
  try {
    const rounds = b.rounds ?? (b.quick ? 1 : 3);
    let runMs = Number.POSITIVE_INFINITY;
    let fileMs = Number.POSITIVE_INFINITY;
    let logBytes = 0;
    for (let r = 0; r < rounds; r++) {
      // Each round a store of its own: the same bytes would be stored once, and the second put find them there.
      const store = new FileEventStore(join(dir, `store-${r}`));
      const engine = new Engine({ store });
      let t = now();
      const view = await engine.run(FLOW, {}, { handlers });
      runMs = Math.min(runMs, now() - t);
      if (view.status !== 'COMPLETED') throw new Error(`bench run ${view.runId} is ${view.status}`);
      const runs = join(dir, `store-${r}`, 'runs');
      logBytes = readdirSync(runs)
        .filter((f) => f.endsWith('.jsonl'))
        .reduce((n, f) => n + statSync(join(runs, f)).size, 0);
      await store.close();
      t = now();
      const fh = await open(join(dir, `plain-${r}.json`), 'w');
      await fh.writeFile(JSON.stringify({ status: 'ok', rows: 3, body }));
      await fh.sync();
      await fh.close();
      fileMs = Math.min(fileMs, now() - t);
      progress(`payloads: round ${r + 1}: run ${fmt(runMs)} ms, file ${fmt(fileMs)} ms`);
    }
    // Several at once: the resident memory sampled while they run.
    const inFlight = b.runs ?? (b.quick ? 2 : 50);
    const store = new FileEventStore(join(dir, 'many'));
    const engine = new Engine({ store });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const t = now();
    const views = await Promise.all(
      Array.from({ length: inFlight }, (_, i) =>
        engine.run(FLOW, {}, { handlers: { ...handlers, produce: async () => ({ status: 'ok', rows: i, body }) } }),
      ),
    );
    const manyMs = now() - t;
    clearInterval(sampler);
    await store.close();
    if (views.some((v) => v.status !== 'COMPLETED')) throw new Error('a bench run did not complete');
    b.figures['payloads.e2e_ratio'] = runMs / fileMs;
    b.figures['payloads.peak_rss_mb'] = peak / 1024 / 1024;
    b.figures['payloads.in_flight'] = inFlight;
    b.figures['payloads.log_bytes'] = logBytes;
    b.details.payloads = { mb, runMs, fileMs, manyMs, rssBeforeMb: before / 1024 / 1024 } satisfies Details;
    b.say(payloadsLine(b.figures, b.details.payloads as Details));
  } finally {
    discard(dir);
  }
}

interface Details {
  mb: number;
  runMs: number;
  fileMs: number;
  manyMs: number;
  rssBeforeMb: number;
}

function payloadsLine(f: Bench['figures'], d: Details): string {
  const n = (k: string) => Number(f[k]);
  return `payloads: a ${d.mb} MB output end to end ${fmt(d.runMs)} ms, the same bytes to a file ${fmt(d.fileMs)} ms (ratio ${fmt(d.runMs / d.fileMs, 2)}); its run's log ${n('payloads.log_bytes')} bytes; ${n('payloads.in_flight')} such runs at once in ${fmt(d.manyMs)} ms, peak RSS ${fmt(n('payloads.peak_rss_mb'))} MB (${fmt(d.rssBeforeMb)} MB before)`;
}

/**
 * The section in a process of its own, as `npm run bench` runs it beside other sections: its figure is a process's
 * peak memory, and the bench's own process reached this section at 840–860 MB resident where one that runs it alone
 * starts it at 640 (heap pages earlier sections left, which V8 keeps). That put `payloads.peak_rss_mb` at 1,537 and
 * 1,540 in the two whole runs of 2026-11-29, 1,294 alone: the other sections' leftovers, not the engine's payloads.
 * `args`: the bench's own --quick, --runs and --rounds.
 */
export async function benchPayloadsApart(b: Bench, args: string[]): Promise<void> {
  const runTs = fileURLToPath(new URL('./run.ts', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, runTs, 'payloads', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const j = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown> & { details: { payloads?: Details } };
  if (code !== 0 || j['payloads.error'] !== undefined || !j.details.payloads)
    throw new Error(`the payloads section's own process ended ${code}: ${String(j['payloads.error'] ?? 'no figures')}`);
  for (const [k, v] of Object.entries(j)) if (k.startsWith('payloads.')) b.figures[k] = v as number;
  b.details.payloads = { ...j.details.payloads, process: 'its own' };
  b.say(payloadsLine(b.figures, j.details.payloads));
}
