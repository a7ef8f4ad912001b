/**
 * Large payloads (docs/language.md#large-payloads) on the file store, in process: a run whose handler returns a 100 MB
 * output that a DECISION and a later task read a field of, timed against writing the same bytes (the output's JSON) to
 * a file and syncing it, in the same sitting (`payloads.e2e_ratio`: what the engine costs over the bytes' own write).
 * Then several such runs at once, the process's resident memory sampled while they run (`payloads.peak_rss_mb`, with
 * `payloads.in_flight` runs, 50 unless --runs N): bounded by the values in flight, not by what the store holds, and the log of
 * each run stays a few KiB (`payloads.log_bytes`).
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    b.details.payloads = { mb, runMs, fileMs, manyMs, rssBeforeMb: before / 1024 / 1024 };
    b.say(
      `payloads: a ${mb} MB output end to end ${fmt(runMs)} ms, the same bytes to a file ${fmt(fileMs)} ms (ratio ${fmt(runMs / fileMs, 2)}); its run's log ${logBytes} bytes; ${inFlight} such runs at once in ${fmt(manyMs)} ms, peak RSS ${fmt(peak / 1024 / 1024)} MB (${fmt(before / 1024 / 1024)} MB before)`,
    );
  } finally {
    discard(dir);
  }
}
