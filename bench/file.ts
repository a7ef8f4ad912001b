/**
 * `npm run bench -- file`: five-step workflows on the embedded file store,
 * 16 runs in flight, ÷ the raw per-append-durable baseline: plain node
 * writing the same number of commits per run, each commit's JSON line
 * appended to the run's own file and fdatasync'd before the next (what "each
 * step durable before it acts" costs at least without group commit), also
 * 16 runs at a time. Also the same runs on the memory store: the ceiling
 * the engine's own CPU sets, what group commit can approach at best. Rounds
 * interleaved, raw and file in turn first (as bench/crypt.ts: the side that
 * runs first in a round is the slower), then memory; the ratio is the median
 * over pairs of rounds of their ratios' geometric mean (kit.ts pairedRatio),
 * the rates the best of each side (three best-of rounds of 0.3 s read 0.70
 * to 1.03 from one sitting to the next, 2026-12-04); p50/p99 of every file-store
 * run's start-to-complete over all rounds; CPU of this process per run
 * (process.cpuUsage over a round, the least of the rounds) for each side,
 * and the commits per run the store was asked to append.
 */
import { mkdtempSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileEventStore, MemoryEventStore, type AppendRequest } from '../src/store/index.js';
import { engineDriver } from './modes.js';
import {
  cpuNow,
  def,
  FIVE_YAML,
  fiveHandlers,
  fmt,
  list,
  now,
  pairedRatio,
  percentile,
  pool,
  progress,
  type Bench,
  discard,
} from './kit.js';

const CONCURRENCY = 16;

export async function benchFile(b: Bench): Promise<void> {
  const { say, figures } = b;
  const five = def(FIVE_YAML);
  const handlers = fiveHandlers();
  const runs = b.runs ?? (b.quick ? 32 : 400);
  // An even number: rounds go in pairs (one of each order).
  const rounds = Math.max(2, 2 * Math.ceil((b.rounds ?? (b.quick ? 2 : 10)) / 2));
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-file-'));
  try {
    const store = new FileEventStore(join(dir, 'engine'));
    const commits: AppendRequest[] = [];
    let appended = 0;
    const counting = Object.assign(Object.create(store), {
      append: (r: AppendRequest) => {
        appended++;
        if (commits.length < 64) commits.push(r);
        return store.append(r);
      },
    });
    const onFile = engineDriver(counting, five, handlers);
    const latencies: number[] = [];
    // A fresh memory store a round: the runs of earlier rounds would otherwise grow what it holds.
    const memoryRound = () => engineDriver(new MemoryEventStore(), five, handlers).round(runs, CONCURRENCY);
    progress('file: warm-up');
    await onFile.round(runs, CONCURRENCY);
    await memoryRound();
    const before = appended;

    // The baseline writes what the engine wrote: a run's commits as JSON lines (the first run's, repeated by position).
    const firstRun = commits[0]!.runId;
    const lines = commits.filter((c) => c.runId === firstRun).map((c) => `${JSON.stringify(c.events)}\n`);
    const commitsPerRun = Math.round(appended / (runs * 1)); // measured over the warm-up round
    while (lines.length < commitsPerRun) lines.push(lines.at(-1)!);
    let tag = 0;
    const rawRound = async () => {
      const r = tag++;
      const t = now();
      const cpu = cpuNow();
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
      return { rate: runs / ((now() - t) / 1000), cpuMsPerRun: (cpuNow() - cpu) / runs };
    };
    await rawRound();
    const raws: { rate: number; cpuMsPerRun: number }[] = [];
    const files: typeof raws = [];
    const memories: typeof raws = [];
    for (let r = 0; r < rounds; r++) {
      progress(`file: round ${r + 1}/${rounds}`);
      if (r % 2 === 0) {
        raws.push(await rawRound());
        files.push(await onFile.round(runs, CONCURRENCY, latencies));
      } else {
        files.push(await onFile.round(runs, CONCURRENCY, latencies));
        raws.push(await rawRound());
      }
      memories.push(await memoryRound());
    }
    await store.close();
    const measuredCommits = (appended - before) / (runs * rounds);
    latencies.sort((x, y) => x - y);
    const best = (xs: typeof raws) => ({
      rate: Math.max(...xs.map((x) => x.rate)),
      cpuMsPerRun: Math.min(...xs.map((x) => x.cpuMsPerRun)),
      rates: xs.map((x) => x.rate),
    });
    const file = best(files);
    const raw = best(raws);
    const memory = best(memories);
    // Round 2k had raw first, round 2k+1 file first: the geometric mean of their ratios cancels what going first does.
    const paired = pairedRatio(
      raws.map((x) => x.rate),
      files.map((x) => x.rate),
    );
    Object.assign(figures, {
      'file.workflows_per_sec': file.rate,
      'file.raw_workflows_per_sec': raw.rate,
      'file.raw_ratio': paired.ratio,
      'file.p50_ms': percentile(latencies, 0.5),
      'file.p99_ms': percentile(latencies, 0.99),
      'file.commits_per_run': measuredCommits,
      'file.cpu_ms_per_run': file.cpuMsPerRun,
      'file.raw_cpu_ms_per_run': raw.cpuMsPerRun,
      'file.memory_workflows_per_sec': memory.rate,
      'file.memory_cpu_ms_per_run': memory.cpuMsPerRun,
    });
    b.details.file = {
      runsPerRound: runs,
      concurrency: CONCURRENCY,
      commitsPerRun: measuredCommits,
      rawCommitsPerRun: commitsPerRun,
      rounds: file.rates,
      rawRounds: raw.rates,
      pairs: paired.pairs,
      memoryRounds: memory.rates,
      cpuMsPerRun: {
        file: files.map((x) => x.cpuMsPerRun),
        raw: raws.map((x) => x.cpuMsPerRun),
        memory: memories.map((x) => x.cpuMsPerRun),
      },
    };
    say(
      `\n${fmt(runs)} five-step runs per round on the embedded file store, ${CONCURRENCY} in flight; ${rounds} interleaved rounds (ratio: the median of the pairs' ratios; rates: the best) (CPU of this process per run: the least):`,
    );
    say(
      `  baseline: plain node, ${commitsPerRun} appends + fdatasync per run (its commits), ${CONCURRENCY} runs at a time  ${fmt(raw.rate, 1)} workflows/s  ${list(raw.rates, 1)}  ${fmt(raw.cpuMsPerRun, 2)} ms CPU/run`,
    );
    say(
      `  ledgerflow Engine.run on FileEventStore (${fmt(measuredCommits, 1)} commits per run)              ${fmt(file.rate, 1)} workflows/s  ${list(file.rates, 1)}  ${fmt(file.cpuMsPerRun, 2)} ms CPU/run`,
    );
    say(
      `    = ${fmt(paired.ratio, 2)}× baseline (pairs ${list(paired.pairs, 2)}) (goal ≥ 1); p50 ${fmt(percentile(latencies, 0.5), 1)} ms, p99 ${fmt(percentile(latencies, 0.99), 1)} ms per run`,
    );
    say(
      `  ceiling: the same on MemoryEventStore (the engine's own CPU)                        ${fmt(memory.rate, 1)} workflows/s  ${list(memory.rates, 1)}  ${fmt(memory.cpuMsPerRun, 2)} ms CPU/run`,
    );
  } finally {
    discard(dir);
  }
}
