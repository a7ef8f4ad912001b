/**
 * `npm run bench -- statefile`: what the state file and the execution log
 * (docs/state-file.md) cost the embedded engine. Five-step workflows whose
 * definition has `monitoring: { log_to }`, 16 runs in flight, on the file
 * store with both kept (the store watched as the CLI watches it:
 * store/observed.ts) ÷ the same without, each side on a store of its own
 * (which grows as a real one does), the side that goes first alternating
 * round by round; the ratio is the median of the estimates of pairs of
 * rounds (see below). A round is about four seconds of the plain
 * engine's work (3,000 runs at least, as many as the warm-up's rate does in
 * four seconds; `--runs` sets it): it
 * starts with a write (the last was long ago) and ends with one (what the
 * writers owe is part of its cost), which rounds of two seconds weighed as if
 * the file were written half again as often as a serving engine writes it
 * (once a second). The goal is ≥ 0.9: a
 * projection may not cost the engine more than a tenth. Then `state-file
 * --rebuild` (buildProjection) over a store of 10,000 settled runs (1,000
 * with --quick), timed cold (nothing folded before) and warm (the writer's
 * second write).
 */
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppendRequest, FileEventStore } from '../src/store/index.js';
import { def, FIVE_YAML, fiveHandlers, fmt, now, pairedRatio, pool, progress, type Bench, discard } from './kit.js';

/**
 * The code measured is the build's (dist/, the modules `ledgerflow` runs), not the sources through tsx, as the
 * other sections do: tsx compiles with keepNames (a `__name` call for every closure made, which the shipped build
 * does not pay) and starts the writer's thread through its loader hooks (about a second of CPU for its modules),
 * costs that fall on the rounds with the files kept alone. Built, the engine's main thread spends about a third
 * less per run than under tsx (bench/state-file-cpu.ts measures the sources: give it dist/ paths to compare).
 */
async function built() {
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const marker = join(dist, 'state-file', 'index.js');
  if (!existsSync(marker)) throw new Error('the statefile section measures the build: run `npm run build` first');
  const newestSource = Math.max(
    ...readdirSync(src, { recursive: true }).map((f) => statSync(join(src, String(f))).mtimeMs),
  );
  if (newestSource > statSync(marker).mtimeMs)
    throw new Error('dist/ is older than src/: run `npm run build` first (the statefile section measures the build)');
  const at = (p: string) => new URL(`../dist/${p}`, import.meta.url).href;
  return {
    ...((await import(at('execution-log/index.js'))) as typeof import('../src/execution-log/index.js')),
    ...((await import(at('local/index.js'))) as typeof import('../src/local/index.js')),
    ...((await import(at('state-file/index.js'))) as typeof import('../src/state-file/index.js')),
    ...((await import(at('store/index.js'))) as typeof import('../src/store/index.js')),
  };
}

const CONCURRENCY = 16;
/** How long a round runs the plain engine (its run count set from the warm-up's rate). */
const ROUND_SECONDS = 4;

export async function benchStateFile(b: Bench): Promise<void> {
  const { say, figures } = b;
  const logged = def(`${FIVE_YAML}  monitoring:\n    report_frequency: per_task\n    log_to: exec.log\n`);
  const handlers = fiveHandlers();
  let runs = b.runs ?? (b.quick ? 32 : 3_000);
  const rounds = b.rounds ?? (b.quick ? 1 : 6);
  const {
    buildProjection,
    Engine,
    ExecutionLogAppender,
    FileEventStore,
    observedStore,
    RunEntries,
    RunSummaries,
    StateFileWriter,
  } = await built();
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-statefile-'));
  const stores: InstanceType<typeof FileEventStore>[] = [];
  const opened = (s: InstanceType<typeof FileEventStore>) => {
    stores.push(s);
    return s;
  };
  try {
    // Each engine on a store of its own: the writer of a store sees every commit made to it, as in a project whose
    // processes all keep the file. On one shared store the writer would also read, at each write, the runs the
    // plain engine made meanwhile (a round's worth), a cost of a process that keeps no file, not of the file.
    const plainStore = opened(new FileEventStore(join(dir, 'store-off')));
    const store = opened(new FileEventStore(join(dir, 'store-on')));
    const writer = new StateFileWriter(store, {
      path: join(dir, '.3ox', 'workflow.state.yaml'),
      keep: 50,
      warn: (m) => progress(`statefile: ${m}`),
    });
    const log = new ExecutionLogAppender(store, { cwd: dir, warn: (m) => progress(`statefile: ${m}`) });
    const plain = new Engine({ store: plainStore });
    const watched = new Engine({ store: observedStore(store, [writer, log]) });
    const round = async (engine: InstanceType<typeof Engine>, after?: () => Promise<void>) => {
      const t = now();
      await pool(runs, CONCURRENCY, async () => {
        const v = await engine.run(logged, {}, { handlers });
        if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ${v.status}`);
      });
      await after?.(); // what the writers still owe is part of the cost
      return runs / ((now() - t) / 1000);
    };
    const flush = async () => {
      await writer.flushNow();
      await log.close();
    };
    progress('statefile: warm-up');
    await round(plain);
    await round(watched, flush);
    const warmRate = await round(plain); // warm now: the rate a round's size is set from
    // A round is about ROUND_SECONDS of the plain engine's work, whatever its speed: a round of 3,000 runs lasted four
    // seconds when it was chosen, and 1.6 once the engine had got faster, which weighed the writes at its ends (a
    // round starts and ends with one) twice as heavily as a serving engine's once a second.
    if (b.runs === undefined && !b.quick) runs = Math.max(3_000, Math.round((warmRate * ROUND_SECONDS) / 500) * 500);
    // Rounds alternate which side goes first (off first in even rounds, on first in odd ones): the side that runs
    // first in a round is the slower (it follows the other's garbage; measured by the crypt section's A/A, 4–8%), so
    // with off always first the ratio leaned toward on. A pair of rounds, one in each order, gives one estimate, the
    // geometric mean of its two ratios, in which going first cancels; the figure is the median of the estimates (a
    // slow stretch of a shared machine spoils one, not the figure). STATEFILE_AA=1 measures the method itself: the
    // same rounds with a plain engine on a third store in place of the watched one (a ratio of 1 expected).
    const alternating = async (
      label: string,
      a: () => Promise<number>,
      bSide: () => Promise<number>,
    ): Promise<{ a: number[]; b: number[]; pairs: number[]; ratio: number }> => {
      const xs: number[] = [];
      const ys: number[] = [];
      for (let r = 0; r < rounds; r++) {
        progress(`statefile: ${label} round ${r + 1}/${rounds}`);
        if (r % 2 === 0) {
          xs.push(await a());
          ys.push(await bSide());
        } else {
          ys.push(await bSide());
          xs.push(await a());
        }
        progress(`statefile: ${label} ${fmt(xs.at(-1)!)} against ${fmt(ys.at(-1)!)}`);
      }
      return { a: xs, b: ys, ...pairedRatio(xs, ys) };
    };
    const measured = await alternating(
      'off/on',
      () => round(plain),
      () => round(watched, flush),
    );
    const { a: off, b: on, ratio } = measured;
    const bestOff = Math.max(...off);
    const bestOn = Math.max(...on);
    Object.assign(figures, {
      'statefile.on_off_ratio': ratio,
      'statefile.on_workflows_per_sec': bestOn,
      'statefile.off_workflows_per_sec': bestOff,
    });
    b.details.statefile = { runsPerRound: runs, off, on, pairs: measured.pairs };
    say(
      `\nthe state file and the execution log on ÷ off, five-step workflows on the file store, ${CONCURRENCY} in flight, ${runs} a round, ${rounds} rounds (the order alternating):`,
    );
    say(
      `  off ${fmt(bestOff)} workflows/s, on ${fmt(bestOn)} workflows/s at best; each pair of rounds on ÷ off ${measured.pairs.map((x) => fmt(x, 2)).join(', ')}: median ${fmt(ratio, 2)} (goal ≥ 0.9)`,
    );
    if (process.env.STATEFILE_AA === '1') {
      const twinStore = opened(new FileEventStore(join(dir, 'store-twin')));
      const twin = new Engine({ store: twinStore });
      await round(twin);
      const aa = await alternating(
        'A/A',
        () => round(plain),
        () => round(twin),
      );
      await twinStore.close();
      figures['statefile.aa_ratio'] = aa.ratio;
      (b.details.statefile as Record<string, unknown>).aaPairs = aa.pairs;
      say(
        `  the same method with both sides plain (STATEFILE_AA=1): each pair ${aa.pairs.map((x) => fmt(x, 2)).join(', ')}: median ${fmt(aa.ratio, 2)}`,
      );
    }
    // What a process sharing the store pays for the runs another made: its next write reads each one's summary once.
    // The other process's store is an instance of its own on the folder (its own writer lock holds, as in another process).
    const other = opened(new FileEventStore(join(dir, 'store-on')));
    await round(new Engine({ store: other }));
    await other.close();
    const tf = now();
    writer.touch();
    await writer.flushNow();
    const foreign = now() - tf;
    figures['statefile.foreign_runs_write_ms'] = foreign;
    say(`  the write after ${fmt(runs)} runs another process made on the store: ${fmt(foreign)} ms (each read once)`);

    const many = b.quick ? 1_000 : 10_000;
    progress(`statefile: a store of ${fmt(many)} settled runs`);
    const big = opened(new FileEventStore(join(dir, 'big')));
    await fill(big, many);
    const entries = new RunEntries();
    const summaries = new RunSummaries();
    const t0 = now();
    const { text } = await buildProjection(big, 50, entries, undefined, summaries);
    const cold = now() - t0;
    const t1 = now();
    await buildProjection(big, 50, entries, undefined, summaries);
    const warm = now() - t1;
    Object.assign(figures, { 'statefile.rebuild_10k_ms': cold, 'statefile.rewrite_10k_ms': warm });
    say(
      `  state-file --rebuild over ${fmt(many)} settled runs: ${fmt(cold)} ms (${fmt(text.length / 1024)} KiB written); the live writer's next write over them: ${fmt(warm)} ms`,
    );
  } finally {
    // Closed whatever happened: a section that threw with its stores open left their handles to the garbage collector.
    for (const s of stores.splice(0)) await s.close().catch(() => undefined);
    discard(dir);
  }
}

/** `runs` completed five-step runs in `store`: one real run's commits, each under a run id of its own. */
async function fill(store: FileEventStore, runs: number): Promise<void> {
  const { Engine, MemoryEventStore } = await built();
  const memory = new MemoryEventStore();
  const template: AppendRequest[] = [];
  const recording = Object.assign(Object.create(memory), {
    append: (r: AppendRequest) => {
      template.push(r);
      return memory.append(r);
    },
  });
  await new Engine({ store: recording }).run(def(FIVE_YAML), {}, { handlers: fiveHandlers() });
  await pool(runs, 64, async (i) => {
    const runId = `filler-${String(i).padStart(6, '0')}`;
    for (const c of template) {
      const events = c.events.map((e) => ({ ...e, runId }));
      await store.append({ runId, expectedSeq: events[0]!.seq - 1, dedupId: `${runId}/${events[0]!.seq}`, events });
    }
  });
}
