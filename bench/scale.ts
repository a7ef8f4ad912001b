/**
 * `npm run bench -- scale`: flat as the work grows (issue 65). Cost against the amount of work held, each figure a
 * ratio against the same measure on a small store in the same run (flat is 1):
 *
 * - waiting (bench/scale-waiting.ts): `--runs` (100,000) runs waiting on a HUMAN task, held by one `ledgerflow serve`
 *   (embedded store) and by one `ledgerflow engine` (NATS): the holder's peak memory (scale.waiting_rss_mb, the larger
 *   of the two; KB per waiting run beside it), approve to completed p50 ÷ the same holding 1,000
 *   (scale.approve_p50_ratio, the larger of the two), starts per second taken up by the holder ÷ on an empty store
 *   (scale.start_ratio, the smaller);
 * - settled (bench/scale-settled.ts, scale-settled-nats.ts): `--runs` settled runs in the embedded store and on NATS:
 *   `list`, `status`, `stats` and the ui's `/api/runs` p50 ÷ on 1,000 settled (scale.file_list_p50_ratio and
 *   scale.nats_list_p50_ratio, and so on; scale.list_p50_ratio, status_, stats_, api_runs_p50_ratio the larger of the
 *   two), the peak memory of `serve` (embedded) or the engine (NATS) and of `ui` on the large store
 *   (scale.serve_rss_mb, the largest);
 * - batch: one engine (Engine.run, in this process) with 1,000 five-step runs started and driven at once, its
 *   throughput ÷ the same 1,000 runs 100 at a time (the group commit at scale), on the file store and on JetStream
 *   (in-process, its own nats-server): scale.batch_ratio, the smaller of the two; best of `--rounds` (6 here) interleaved.
 *
 * Flags: --runs N (the large size), --quick (2,000 runs, 100 small, a proof it runs); SCALE_PARTS=waiting,settled,batch
 * picks parts. Linux only (memory from /proc).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileEventStore, JetStreamEventStore, MemoryEventStore } from '../src/store/index.js';
import { def, FIVE_YAML, fiveHandlers, fmt, list, progress, type Bench, discard } from './kit.js';
import { engineDriver } from './modes.js';
import { startBenchNats } from './nats.js';
import { settledAt, type SettledMeasured } from './scale-settled.js';
import { settledOnNatsAt } from './scale-settled-nats.js';
import { waitingOnEngine, waitingOnServe } from './scale-waiting.js';

/** Round `r` of a pair: `a` then `b` in even rounds, `b` then `a` in odd ones (neither always gets the warmer turn). */
async function inTurn(r: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<void> {
  if (r % 2 === 0) await a().then(b);
  else await b().then(a);
}

async function batchRatios(
  rounds: number,
  runs: number,
): Promise<{
  ratios: Record<'file' | 'jetstream', { many: number[]; few: number[] }>;
  engineCpu: { many: number[]; few: number[] };
}> {
  const five = def(FIVE_YAML);
  const handlers = fiveHandlers();
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-scale-batch-'));
  const server = await startBenchNats();
  const file = new FileEventStore(join(dir, 'file'));
  const js = new JetStreamEventStore({
    servers: server.url,
    stream: 'BENCH_SCALE',
    subjectPrefix: 'bench.scale',
    name: 'ledgerflow-bench-scale',
  });
  try {
    const out = {} as Record<'file' | 'jetstream', { many: number[]; few: number[] }>;
    for (const [key, store] of [
      ['file', file],
      ['jetstream', js],
    ] as const) {
      const d = engineDriver(store, five, handlers, { follow: false });
      // Warm-up: one round of each shape, so neither side's first measured round pays for the JIT's tiers and the
      // heap's growth that the other's did not (measured 2026-11-28: the 1,000-at-once rounds, first in each pair,
      // went 1,047 → 1,529 → 2,681 workflows/s on JetStream while 100 at once went 1,437 → 1,918).
      await d.round(runs, runs);
      await d.round(runs, 100);
      progress(`scale: batch on ${key}: ${runs} at once against 100 at once, ${rounds} rounds`);
      // A round is a third of a second here: each pair alternates which side goes first, so a slow stretch of the
      // shared machine does not always fall on the same side.
      const many: number[] = [];
      const few: number[] = [];
      for (let r = 0; r < rounds; r++)
        await inTurn(
          r,
          async () => many.push((await d.round(runs, runs)).rate),
          async () => few.push((await d.round(runs, 100)).rate),
        );
      out[key] = { many, few };
    }
    // The engine's own CPU a run at each shape, with no store (a fresh memory store a round): what the store's group
    // commit has to make up for at 1,000 at once (goal-arithmetic.ts).
    const engineCpu = { many: [] as number[], few: [] as number[] };
    const memory = () => engineDriver(new MemoryEventStore(), five, handlers, { follow: false });
    for (let r = 0; r < rounds; r++)
      await inTurn(
        r,
        async () => engineCpu.many.push((await memory().round(runs, runs)).cpuMsPerRun),
        async () => engineCpu.few.push((await memory().round(runs, 100)).cpuMsPerRun),
      );
    return { ratios: out, engineCpu };
  } finally {
    await js.close().catch(() => undefined);
    await file.close().catch(() => undefined);
    await server.dispose();
    discard(dir);
  }
}

export async function benchScale(b: Bench): Promise<void> {
  const { say, figures } = b;
  if (process.platform !== 'linux') {
    figures['scale.skipped'] = 'memory is read from /proc (Linux)';
    return;
  }
  const large = b.runs ?? (b.quick ? 2_000 : 100_000);
  const small = Math.min(b.quick ? 100 : 1_000, Math.floor(large / 2));
  const parts = (process.env.SCALE_PARTS ?? 'waiting,settled,batch').split(',').map((p) => p.trim());
  const max = (xs: number[]) => Math.max(...xs);
  const min = (xs: number[]) => Math.min(...xs);

  if (parts.includes('waiting')) {
    const sizes = { small, large, starts: b.quick ? 50 : 500, approvals: b.quick ? 5 : 21 };
    say(
      `\n${fmt(large)} runs waiting on a HUMAN task, held by one process (÷ ${fmt(small)} waiting; starts ÷ an empty store):`,
    );
    const held = { serve: await waitingOnServe(sizes), engine: await waitingOnEngine(sizes) };
    for (const [who, m] of Object.entries(held))
      say(
        `  ${(who === 'serve' ? 'serve (embedded store)' : 'engine (NATS)').padEnd(24)} peak ${fmt(m.peakMb)} MB (resident ${fmt(m.smallRssMb)} → ${fmt(m.largeRssMb)} MB: ${fmt(m.kbPerWaitingRun, 2)} KB a waiting run); approve p50 ${fmt(m.smallApproveP50Ms, 1)} → ${fmt(m.largeApproveP50Ms, 1)} ms (${fmt(m.largeApproveP50Ms / m.smallApproveP50Ms, 2)}×); starts ${fmt(m.emptyStartsPerSec)} → ${fmt(m.largeStartsPerSec)}/s (${fmt(m.largeStartsPerSec / m.emptyStartsPerSec, 2)}×)`,
      );
    const ms = Object.values(held);
    Object.assign(figures, {
      'scale.waiting_rss_mb': max(ms.map((m) => m.peakMb)),
      'scale.waiting_serve_rss_mb': held.serve.peakMb,
      'scale.waiting_engine_rss_mb': held.engine.peakMb,
      'scale.waiting_kb_per_run': max(ms.map((m) => m.kbPerWaitingRun)),
      'scale.approve_p50_ratio': max(ms.map((m) => m.largeApproveP50Ms / m.smallApproveP50Ms)),
      'scale.start_ratio': min(ms.map((m) => m.largeStartsPerSec / m.emptyStartsPerSec)),
    });
    b.details.scaleWaiting = { sizes, ...held };
  }

  if (parts.includes('settled')) {
    const reps = b.quick ? 3 : 7;
    const stores = { file: settledAt, nats: settledOnNatsAt };
    const measured = {} as Record<keyof typeof stores, { small: SettledMeasured; large: SettledMeasured }>;
    for (const [store, at] of Object.entries(stores) as [keyof typeof stores, typeof settledAt][]) {
      say(
        `\n${fmt(large)} settled runs ${store === 'file' ? 'in the embedded store' : 'on NATS'} (÷ ${fmt(small)} settled), p50 of ${reps} each, the CLI start to exit:`,
      );
      const s = await at(small, reps);
      const l = await at(large, reps);
      measured[store] = { small: s, large: l };
      const row = (what: string, a: number, z: number, unit = 'ms') =>
        say(`  ${what.padEnd(22)} ${fmt(a, 1).padStart(8)} → ${fmt(z, 1).padStart(8)} ${unit}  ${fmt(z / a, 2)}×`);
      row('list', s.listP50Ms, l.listP50Ms);
      row('status <id>', s.statusP50Ms, l.statusP50Ms);
      row('stats <workflow>', s.statsP50Ms, l.statsP50Ms);
      row('ui /api/runs?limit=50', s.apiRunsP50Ms, l.apiRunsP50Ms);
      row(store === 'file' ? 'serve peak' : 'engine peak', s.serveMb, l.serveMb, 'MB');
      row('ui peak', s.uiMb, l.uiMb, 'MB');
      Object.assign(figures, {
        [`scale.${store}_list_p50_ratio`]: l.listP50Ms / s.listP50Ms,
        [`scale.${store}_status_p50_ratio`]: l.statusP50Ms / s.statusP50Ms,
        [`scale.${store}_stats_p50_ratio`]: l.statsP50Ms / s.statsP50Ms,
        [`scale.${store}_api_runs_p50_ratio`]: l.apiRunsP50Ms / s.apiRunsP50Ms,
        [`scale.${store}_serve_rss_mb`]: Math.max(l.serveMb, l.uiMb),
      });
    }
    // The goals' figures: the larger of the two stores (flat on both, as the issue asks).
    const worst = (f: (m: { small: SettledMeasured; large: SettledMeasured }) => number) =>
      max(Object.values(measured).map(f));
    Object.assign(figures, {
      'scale.list_p50_ratio': worst((m) => m.large.listP50Ms / m.small.listP50Ms),
      'scale.status_p50_ratio': worst((m) => m.large.statusP50Ms / m.small.statusP50Ms),
      'scale.stats_p50_ratio': worst((m) => m.large.statsP50Ms / m.small.statsP50Ms),
      'scale.api_runs_p50_ratio': worst((m) => m.large.apiRunsP50Ms / m.small.apiRunsP50Ms),
      'scale.serve_rss_mb': worst((m) => Math.max(m.large.serveMb, m.large.uiMb)),
      'scale.serve_memory_ratio': worst((m) =>
        Math.max(m.large.serveMb / m.small.serveMb, m.large.uiMb / m.small.uiMb),
      ),
    });
    b.details.scaleSettled = measured;
  }

  if (parts.includes('batch')) {
    const rounds = b.rounds ?? (b.quick ? 1 : 6);
    const runs = b.quick ? 300 : 1_000;
    const { ratios: r, engineCpu } = await batchRatios(rounds, runs);
    say(`\none engine, ${fmt(runs)} five-step runs at once ÷ 100 at once (workflows/s, best of ${rounds}):`);
    const ratios = Object.entries(r).map(([store, { many, few }]) => {
      say(
        `  ${store.padEnd(10)} ${fmt(max(many))} ${list(many)} ÷ ${fmt(max(few))} ${list(few)} = ${fmt(max(many) / max(few), 2)}×`,
      );
      figures[`scale.batch_${store}_ratio`] = max(many) / max(few);
      return max(many) / max(few);
    });
    figures['scale.batch_ratio'] = min(ratios);
    figures['scale.batch_engine_cpu_ms_many'] = min(engineCpu.many);
    figures['scale.batch_engine_cpu_ms_few'] = min(engineCpu.few);
    say(
      `  the engine's own CPU a run, no store: ${fmt(min(engineCpu.many), 3)} ms ${fmt(runs)} at once ÷ ${fmt(min(engineCpu.few), 3)} ms 100 at once = ${fmt(min(engineCpu.many) / min(engineCpu.few), 2)}× (least of ${rounds})`,
    );
    b.details.scaleBatch = { runs, ...r, engineCpuMsPerRun: engineCpu };
  }
}
