/**
 * `npm run bench -- crypt`: the encrypted store's throughput against the clear one (docs/security.md; goal ≥ 0.9).
 * Five-step workflows on the embedded file store, 16 in flight, the same runs with LF_DATA_KEY (every input and
 * output sealed on append, opened on read) and without, rounds interleaved in one sitting (which side goes first
 * alternating). The ratio is the median of the rounds' own ratios (each pair run back to back): on a shared machine the
 * best of each side came from different moments and swung from 0.6 to 1.4. Also on the memory store, where nothing but
 * the engine's CPU is measured, so the cipher's own cost shows whole, and the CPU a run costs more.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing, encryptedStore, sealEvent } from '../src/encryption/index.js';
import type { EventEnvelope } from '../src/events/index.js';
import { FileEventStore, MemoryEventStore, type EventStore } from '../src/store/index.js';
import { def, FIVE_YAML, fiveHandlers, fmt, list, progress, type Bench, discard } from './kit.js';
import { engineDriver } from './modes.js';

const CONCURRENCY = 16;

export async function benchCrypt(b: Bench): Promise<void> {
  const { say, figures } = b;
  const five = def(FIVE_YAML);
  const handlers = fiveHandlers();
  // 500 a round: at 200 a round lasted a fifth of a second on the file store, and the same build read 0.74 to 0.98 in
  // four sittings of one quarter hour (2026-11-28); a round of half a second or more is what the file section uses.
  const runs = b.runs ?? (b.quick ? 32 : 500);
  const rounds = b.rounds ?? (b.quick ? 1 : 9);
  const key = randomBytes(32).toString('base64');
  const ring = () => new KeyRing(async (n) => (n === 'LF_DATA_KEY' ? key : undefined));
  const sealed = (s: EventStore) => encryptedStore(s, ring());
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-crypt-'));
  try {
    const clearFile = new FileEventStore(join(dir, 'clear'));
    const sealedFile = sealed(new FileEventStore(join(dir, 'sealed')));
    const drivers = {
      clear: engineDriver(clearFile, five, handlers),
      sealed: engineDriver(sealedFile, five, handlers),
    };
    // A fresh memory store a round, as bench/file.ts does.
    const memory = (wrap: boolean) => {
      const s = new MemoryEventStore();
      return engineDriver(wrap ? sealed(s) : s, five, handlers).round(runs, CONCURRENCY);
    };
    progress('crypt: warm-up');
    await drivers.clear.round(runs, CONCURRENCY);
    await drivers.sealed.round(runs, CONCURRENCY);
    const r = { clear: [] as number[], sealed: [] as number[], memClear: [] as number[], memSealed: [] as number[] };
    const cpu = { clear: [] as number[], sealed: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      progress(`crypt: round ${i + 1}/${rounds}`);
      // Alternating which goes first, so neither always runs on the warmer disk cache.
      const order = i % 2 === 0 ? (['clear', 'sealed'] as const) : (['sealed', 'clear'] as const);
      for (const side of order) {
        const x = await drivers[side].round(runs, CONCURRENCY);
        r[side].push(x.rate);
        cpu[side].push(x.cpuMsPerRun);
      }
      r.memClear.push((await memory(false)).rate);
      r.memSealed.push((await memory(true)).rate);
    }
    await clearFile.close();
    await sealedFile.close();
    const tightUs = sealInATightLoop(await ring().current());
    const best = (xs: number[]) => Math.max(...xs);
    const least = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const paired = (a: number[], c: number[]) => median(a.map((x, i) => x / c[i]!));
    const fileRatio = paired(r.sealed, r.clear);
    const memoryRatio = paired(r.memSealed, r.memClear);
    Object.assign(figures, {
      'crypt.file_ratio': fileRatio,
      'crypt.memory_ratio': memoryRatio,
      'crypt.sealed_workflows_per_sec': best(r.sealed),
      'crypt.clear_workflows_per_sec': best(r.clear),
      'crypt.cpu_ms_per_run_added': least(cpu.sealed) - least(cpu.clear),
      'crypt.clear_cpu_ms_per_run': least(cpu.clear),
      // The cipher's own cost a run: on the memory store nothing but the engine's CPU is timed (goal-arithmetic.ts).
      'crypt.memory_seal_ms_per_run': 1000 / best(r.memSealed) - 1000 / best(r.memClear),
      // One task.completed sealed (one AES-GCM seal) again and again: the cipher with its caches warm, the floor of a field.
      'crypt.tight_seal_us': tightUs,
    });
    b.details.crypt = { runsPerRound: runs, concurrency: CONCURRENCY, rounds: r, cpuMsPerRun: cpu };
    say(
      `\n${fmt(runs)} five-step runs per round, ${CONCURRENCY} in flight, encrypted at rest (LF_DATA_KEY) against clear; ${rounds} interleaved rounds (best; ratio: the median of the rounds' ratios):`,
    );
    say(
      `  file store, clear       ${fmt(best(r.clear), 1)} workflows/s  ${list(r.clear, 1)}  ${fmt(least(cpu.clear), 2)} ms CPU/run`,
    );
    say(
      `  file store, encrypted   ${fmt(best(r.sealed), 1)} workflows/s  ${list(r.sealed, 1)}  ${fmt(least(cpu.sealed), 2)} ms CPU/run`,
    );
    say(
      `    = ${fmt(fileRatio, 2)}× clear (goal ≥ 0.9); ${fmt(least(cpu.sealed) - least(cpu.clear), 3)} ms CPU more per run`,
    );
    say(
      `  memory store (the engine's CPU alone): clear ${fmt(best(r.memClear), 1)}, encrypted ${fmt(best(r.memSealed), 1)} workflows/s = ${fmt(memoryRatio, 2)}×`,
    );
    say(`  one field sealed again and again (caches warm): ${fmt(tightUs, 2)} µs a seal`);
  } finally {
    discard(dir);
  }
}

/** µs of CPU to seal one task.completed's output (sealEvent: one AES-GCM seal), 20,000 times in a row after a warm-up. */
function sealInATightLoop(key: Awaited<ReturnType<KeyRing['current']>>): number {
  if (!key) throw new Error('crypt: the bench key did not load');
  const ev = {
    type: 'task.completed',
    runId: 'r-bench-tight-seal',
    seq: 7,
    at: '2026-11-29T20:00:00.000Z',
    data: { taskId: 's1', instance: 's1', attempt: 1, output: { step: 's1' } },
  } as unknown as EventEnvelope;
  const n = 20_000;
  for (let i = 0; i < 2_000; i++) sealEvent(ev, key);
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) sealEvent(ev, key);
  const u = process.cpuUsage(t);
  return (u.user + u.system) / n;
}
