/**
 * `npm run bench -- fold`: loading a run (foldEvents: the run's events
 * through its machine, what an engine does with a run it has not cached)
 * in events/s, ÷ JSON.parse + zod validation of the same events (what
 * reading them costs at least), on the ~10,000-event run of bench/bigrun.ts.
 * Both sides are CPU-bound in this process: timed by its CPU time
 * (kit.ts cpuNow), rounds interleaved, the best round of each side.
 *
 * To profile the fold: `node --cpu-prof --cpu-prof-dir=/tmp/prof
 * --max-semi-space-size=64 --no-allocation-site-pretenuring --import tsx bench/run.ts fold --rounds 100`
 * (the parse rounds and the making of the run show apart in the profile).
 */
import { EventEnvelopeSchema } from '../src/events/index.js';
import { foldEvents } from '../src/runtime/index.js';
import type { BigRun } from './bigrun.js';
import { cpuNow, fmt, list, progress, type Bench } from './kit.js';

export async function benchFold(b: Bench, big: BigRun): Promise<void> {
  const { say, figures } = b;
  const rounds = b.rounds ?? (b.quick ? 3 : 9);
  const { events } = big;
  const raw = events.map((e) => JSON.stringify(e));
  const parse = () => {
    for (const line of raw) EventEnvelopeSchema.parse(JSON.parse(line));
  };
  const fold = () => {
    foldEvents(events);
  };
  // At least a microsecond, the clock's grain: a zero would make the rate Infinity, null in --json.
  const rate = (fn: () => void) => {
    const t = cpuNow();
    fn();
    return events.length / (Math.max(cpuNow() - t, 0.001) / 1000);
  };
  progress(`fold: ${rounds} rounds over ${fmt(events.length)} events`);
  parse();
  fold(); // warm-up (and the machine compiled once, as an engine's cache keeps it)
  const parseRates: number[] = [];
  const foldRates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    parseRates.push(rate(parse));
    foldRates.push(rate(fold));
  }
  const p = Math.max(...parseRates);
  const f = Math.max(...foldRates);
  Object.assign(figures, { 'fold.events_per_sec': f, 'fold.parse_events_per_sec': p, 'fold.parse_ratio': f / p });
  b.details.fold = { events: events.length, timedBy: 'cpu', rounds: foldRates, parseRounds: parseRates };
  say(
    `\nloading a run: fold of one ${fmt(events.length)}-event run (foldEvents), CPU time, best of ${rounds} interleaved rounds:`,
  );
  say(`  baseline: JSON.parse + zod of the same events   ${fmt(p)} events/s  ${list(parseRates)}`);
  say(
    `  fold through the machine                       ${fmt(f)} events/s  ${list(foldRates)}  = ${fmt(f / p, 2)}× baseline (goal ≥ 1.0)`,
  );
}
