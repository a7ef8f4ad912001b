/**
 * `npm run bench -- file`: five-step workflows on the embedded file store,
 * 16 runs in flight, ÷ the raw per-append-durable baseline: plain node
 * writing the same number of commits per run, each commit's JSON line
 * appended to the run's own file and fdatasync'd before the next (what "each
 * step durable before it acts" costs at least without group commit), also
 * 16 runs at a time. Rounds interleaved, best of each; p50/p99 of every
 * engine run's start-to-complete over all rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/local/index.js';
import { FileEventStore, type AppendRequest } from '../src/store/index.js';
import { def, FIVE_YAML, fiveHandlers, fmt, list, now, percentile, pool, progress, type Bench } from './kit.js';

const CONCURRENCY = 16;

export async function benchFile(b: Bench): Promise<void> {
  const { say, figures } = b;
  const five = def(FIVE_YAML);
  const handlers = fiveHandlers();
  const runs = b.runs ?? (b.quick ? 32 : 400);
  const rounds = b.rounds ?? (b.quick ? 1 : 3);
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-file-'));
  try {
    const store = new FileEventStore(join(dir, 'engine'));
    const commits: AppendRequest[] = [];
    let appended = 0;
    const counting = Object.assign(Object.create(store), { append: (r: AppendRequest) => { appended++; if (commits.length < 64) commits.push(r); return store.append(r); } });
    const engine = new Engine({ store: counting });
    const latencies: number[] = [];
    const engineRound = async () => {
      const t = now();
      await pool(runs, CONCURRENCY, async () => {
        const s = now();
        const v = await engine.run(five, {}, { handlers });
        if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ${v.status}`);
        latencies.push(now() - s);
      });
      return runs / ((now() - t) / 1000);
    };
    progress('file: warm-up');
    await engineRound();
    latencies.length = 0;
    const before = appended;
    const rates: number[] = [];

    // The baseline writes what the engine wrote: a run's commits as JSON lines (the first run's, repeated by position).
    const firstRun = commits[0]!.runId;
    const lines = commits.filter((c) => c.runId === firstRun).map((c) => `${JSON.stringify(c.events)}\n`);
    const commitsPerRun = Math.round(appended / (runs * 1)); // measured over the warm-up round
    while (lines.length < commitsPerRun) lines.push(lines.at(-1)!);
    let tag = 0;
    const rawRound = async () => {
      const r = tag++;
      const t = now();
      await pool(runs, CONCURRENCY, async (i) => {
        const fh = await open(join(dir, `raw-${r}-${i}.jsonl`), 'a');
        try {
          for (let c = 0; c < commitsPerRun; c++) {
            await fh.write(lines[c]!);
            await fh.datasync();
          }
        } finally {
          await fh.close();
        }
      });
      return runs / ((now() - t) / 1000);
    };
    await rawRound();
    const rawRates: number[] = [];
    for (let r = 0; r < rounds; r++) {
      progress(`file: round ${r + 1}/${rounds}`);
      rawRates.push(await rawRound());
      rates.push(await engineRound());
    }
    await store.close();
    const measuredCommits = (appended - before) / (runs * rounds);
    latencies.sort((x, y) => x - y);
    const best = Math.max(...rates);
    const bestRaw = Math.max(...rawRates);
    Object.assign(figures, {
      'file.workflows_per_sec': best,
      'file.raw_workflows_per_sec': bestRaw,
      'file.raw_ratio': best / bestRaw,
      'file.p50_ms': percentile(latencies, 0.5),
      'file.p99_ms': percentile(latencies, 0.99),
    });
    b.details.file = { runsPerRound: runs, concurrency: CONCURRENCY, commitsPerRun: measuredCommits, rawCommitsPerRun: commitsPerRun, rounds: rates, rawRounds: rawRates };
    say(`\n${fmt(runs)} five-step runs per round on the embedded file store, ${CONCURRENCY} in flight; best of ${rounds} interleaved rounds:`);
    say(`  baseline: plain node, ${commitsPerRun} appends + fdatasync per run (its commits), ${CONCURRENCY} runs at a time  ${fmt(bestRaw, 1)} workflows/s  ${list(rawRates, 1)}`);
    say(`  ledgerflow Engine.run on FileEventStore (${fmt(measuredCommits, 1)} commits per run)              ${fmt(best, 1)} workflows/s  ${list(rates, 1)}`);
    say(`    = ${fmt(best / bestRaw, 2)}× baseline (goal ≥ 3 and ≥ 1,000 workflows/s); p50 ${fmt(percentile(latencies, 0.5), 1)} ms, p99 ${fmt(percentile(latencies, 0.99), 1)} ms per run`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
