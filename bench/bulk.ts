/**
 * Bulk actions (docs/operations.md "Bulk actions"): `retry --query` of
 * 10,000 FAILED runs on the embedded file store, one process, next to what
 * an operator does without it: one `ledgerflow retry <id>` per run. The
 * per-run baseline is measured on a smaller sample (each is a process of its
 * own that also drives its new run, as `retry` does; a few seconds for a few
 * runs), in the same sitting and on the same store, and the two are compared
 * as runs per second. Figure: `ops.bulk_ratio` = bulk runs/s ÷ per-run
 * runs/s. The failed runs end in a TERMINATE (status FAILED): no handler, so
 * the retry's own work is nothing and the figure is the cost of the calls.
 * Both spawn the built bin/ledgerflow.js (`npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinition } from '../src/definition/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore } from '../src/store/index.js';
import { fmt, now, pool, progress, type Bench, discard } from './kit.js';
import { BIN, binNodeFlags } from './bin-flags.js';

function def() {
  const { definition, diagnostics } = parseDefinition(
    `
workflow:
  id: bench-bulk
  version: 1
  tasks:
    - { id: stop, type: TERMINATE, status: FAILED, reason: bench }
`,
    'bench.yaml',
  );
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

/** `ok`: the exit codes that are not a failure (a single retry exits 1: its new run FAILED, as `run` does). */
function ledgerflow(dir: string, args: string[], ok: number[] = [0]): string {
  const r = spawnSync(process.execPath, [...binNodeFlags(args), BIN, ...args], {
    cwd: dir,
    env: { ...process.env, LEDGERFLOW_STORE: join(dir, 'store') },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (!ok.includes(r.status ?? -1)) throw new Error(`ledgerflow ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export async function benchBulk(b: Bench): Promise<void> {
  const runs = b.runs ?? (b.quick ? 300 : 10_000);
  const sample = b.quick ? 5 : 20;
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-bulk-'));
  const store = new FileEventStore(join(dir, 'store'));
  try {
    const d = def();
    const engine = new Engine({ store });
    const ids: string[] = [];
    const t0 = now();
    await pool(runs, 8, async () => {
      ids.push((await engine.run(d, {}, { handlers: {} })).runId);
    });
    await store.close();
    progress(`bulk: ${runs} FAILED runs made in ${fmt((now() - t0) / 1000, 1)} s`);
    // The baseline: one `retry <id>` process per run, on a sample of them.
    const t1 = now();
    for (const id of ids.slice(0, sample)) ledgerflow(dir, ['retry', id, '--json'], [0, 1]);
    const singleSecs = (now() - t1) / 1000;
    const singleRate = sample / singleSecs;
    // Bulk: one process, every FAILED run: the sample's have a retry run (counted as already), their retry runs
    // FAILED in turn and are retried, the rest are retried: `runs` retries.
    const t2 = now();
    const answer = JSON.parse(
      ledgerflow(dir, ['retry', '--query', 'workflow=bench-bulk status=FAILED', '--yes', '--json']),
    ) as { retried: string[]; already: string[]; refused: unknown[] };
    const bulkSecs = (now() - t2) / 1000;
    if (answer.refused.length > 0 || answer.already.length !== sample || answer.retried.length !== runs)
      throw new Error(
        `bulk retry: ${answer.retried.length} retried, ${answer.already.length} already, ${answer.refused.length} refused of ${runs}`,
      );
    const bulkRate = answer.retried.length / bulkSecs;
    const ratio = bulkRate / singleRate;
    b.figures['ops.bulk_ratio'] = ratio;
    b.figures['ops.bulk_runs_per_s'] = bulkRate;
    b.figures['ops.bulk_single_runs_per_s'] = singleRate;
    b.details.bulk = {
      runs,
      sample,
      bulkSecs,
      singleSecs,
      retried: answer.retried.length,
      already: answer.already.length,
    };
    b.say(
      `bulk: retry --query of ${answer.retried.length} FAILED runs in ${fmt(bulkSecs, 1)} s (${fmt(bulkRate)} runs/s) vs one \`retry <id>\` per run, ${sample} runs in ${fmt(singleSecs, 1)} s (${fmt(singleRate, 1)} runs/s): ×${fmt(ratio, 1)}`,
    );
  } finally {
    await store.close();
    discard(dir);
  }
}
