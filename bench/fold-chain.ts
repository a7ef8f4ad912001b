/**
 * The fold and the long chain alone, measured as `npm run bench -- replay chain`
 * measures them (same runs, same baselines), for profiling the per-event
 * work of the core without the rest of the bench:
 *
 *   node --import tsx bench/fold-chain.ts [fold] [chain] [--json]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/fold-chain.ts long   (one 3,000-task run only)
 *
 * fold: a 10,000-event run folded (foldEvents, what loading a run does) and
 * replayed with checks, against JSON.parse + zod of the same events.
 * chain: per-event cost of a chain of 3,000 tasks against one of 30, live on
 * the memory store and in checked replay (1× = linear in events).
 */
import { parseDefinition } from '../src/definition/index.js';
import { EventEnvelopeSchema, type EventEnvelope } from '../src/events/index.js';
import { foldEvents, replayRun } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { MemoryEventStore } from '../src/store/index.js';

// CPU time of this process, not wall time: on a machine shared by several sessions (load 10+ on 2 cores)
// wall time mostly measures the wait for a core. npm run bench (bench/run.ts) times the same work by the wall.
const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const json = process.argv.includes('--json');
const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const want = (s: string) => named.length === 0 || named.includes(s);
const say = (line: string) => { if (!json) console.log(line); };
const results: Record<string, unknown> = {};

function def(text: string) {
  const { definition, diagnostics } = parseDefinition(text, 'bench.yaml');
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

if (want('fold') || want('fold-only')) {
  const retrying = def(`
workflow:
  id: ten-thousand
  name: Tasks retried until the history holds 10,000 events
  version: 1
  tasks:
    - id: prepare
      type: SIMPLE
${[1, 2, 3, 4].map((n) => `    - id: flaky${n}
      type: SIMPLE
      handler: flaky
      depends_on: [${n === 1 ? 'prepare' : `flaky${n - 1}`}]
      retry_policy: { max_attempts: 1000, backoff: fixed, initial_delay: 0ms }
`).join('')}    - id: finish
      type: SIMPLE
      depends_on: [flaky4]
`);
  const store = new MemoryEventStore();
  const engine = new Engine({ store });
  const view = await engine.run(retrying, {}, {
    handlers: {
      prepare: async () => ({ ok: true }),
      flaky: async (_i, ctx) => { if (ctx.attempt <= 832) throw new Error(`attempt ${ctx.attempt}`); return { attempt: ctx.attempt }; },
      finish: async () => ({ done: true }),
    },
  });
  const events = await store.read(view.runId);
  const raw = events.map((e) => JSON.stringify(e));
  // The least of several timings: on a shared machine the noise only ever adds time.
  const time = (fn: () => void, reps = 7) => {
    fn();
    let best = Infinity;
    for (let i = 0; i < reps; i++) {
      const t = now();
      fn();
      best = Math.min(best, now() - t);
    }
    return best;
  };
  if (!want('fold')) {
    // `fold-only`: the run folded many times, nothing else (what a profile of the fold wants).
    let least = Infinity;
    for (let i = 0; i < 100; i++) {
      const t = now();
      foldEvents(events);
      least = Math.min(least, now() - t);
    }
    say(`fold of one ${fmt(events.length)}-event run: ${fmt(least, 1)} ms at best of 100`);
    process.exit(0);
  }
  const parseMs = time(() => { for (const line of raw) EventEnvelopeSchema.parse(JSON.parse(line)); });
  const foldMs = time(() => { foldEvents(events); });
  const replayMs = time(() => { if (replayRun(events).divergence) throw new Error('replay diverged'); });
  results.fold = { events: events.length, parseMs, foldMs, replayMs, parseRatio: parseMs / foldMs, foldEventsPerSec: events.length / foldMs * 1000 };
  say(`fold of one ${fmt(events.length)}-event run:`);
  say(`  JSON.parse + zod   ${fmt(parseMs, 1)} ms (${fmt(events.length / parseMs * 1000)} events/s)`);
  say(`  fold               ${fmt(foldMs, 1)} ms (${fmt(events.length / foldMs * 1000)} events/s)  speed = ${fmt(parseMs / foldMs, 2)}× parsing`);
  say(`  checked replay     ${fmt(replayMs, 1)} ms (${fmt(events.length / replayMs * 1000)} events/s)  speed = ${fmt(parseMs / replayMs, 2)}× parsing`);
}

if (want('chain') || want('long')) {
  const chain = (n: number) => def(`workflow:\n  id: chain-${n}\n  name: A chain of ${n} tasks\n  version: 1\n  tasks:\n${
    Array.from({ length: n }, (_, i) => `    - { id: t${i + 1}, type: SIMPLE, handler: step${i > 0 ? `, depends_on: [t${i}]` : ''} }\n`).join('')}`);
  const measure = async (n: number, reps: number) => {
    const definition = chain(n);
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    let liveMs = 0;
    let events: EventEnvelope[] = [];
    for (let r = 0; r < reps; r++) {
      const t = now();
      const view = await engine.run(definition, {}, { handlers: { step: async () => ({ ok: true }) } });
      liveMs += now() - t;
      if (view.status !== 'COMPLETED') throw new Error(`chain of ${n}: ${view.status}`);
      events = await store.read(view.runId);
    }
    const t = now();
    for (let r = 0; r < reps; r++) if (replayRun(events).divergence) throw new Error(`chain of ${n}: replay diverged`);
    const replayMs = now() - t;
    const total = events.length * reps;
    return { tasks: n, events: events.length, liveUsPerEvent: liveMs * 1000 / total, replayUsPerEvent: replayMs * 1000 / total };
  };
  // The least per-event cost of a few rounds of each: on a shared machine the noise only ever adds time.
  const best = async (n: number, reps: number, rounds: number) => {
    let b: Awaited<ReturnType<typeof measure>> | null = null;
    for (let r = 0; r < rounds; r++) {
      const m = await measure(n, reps);
      b = b === null ? m : { ...m, liveUsPerEvent: Math.min(b.liveUsPerEvent, m.liveUsPerEvent), replayUsPerEvent: Math.min(b.replayUsPerEvent, m.replayUsPerEvent) };
    }
    return b!;
  };
  if (!want('chain')) {
    // `long`: one 3,000-task run live and replayed, nothing else (what a profile of the long chain wants).
    const long = await measure(3000, 1);
    say(`chain of 3000 tasks: live ${fmt(long.liveUsPerEvent, 1)} µs/event, replay ${fmt(long.replayUsPerEvent, 1)} µs/event`);
    process.exit(0);
  }
  await measure(30, 20);
  const short = await best(30, 100, 3);
  const long = await best(3000, 1, 3);
  results.chain = { short, long, liveRatio: long.liveUsPerEvent / short.liveUsPerEvent, replayRatio: long.replayUsPerEvent / short.replayUsPerEvent };
  say(`chain of ${long.tasks} vs ${short.tasks} tasks, per event:`);
  say(`  live    ${fmt(long.liveUsPerEvent, 1)} vs ${fmt(short.liveUsPerEvent, 1)} µs  = ${fmt(long.liveUsPerEvent / short.liveUsPerEvent, 2)}×`);
  say(`  replay  ${fmt(long.replayUsPerEvent, 1)} vs ${fmt(short.replayUsPerEvent, 1)} µs  = ${fmt(long.replayUsPerEvent / short.replayUsPerEvent, 2)}×`);
}

if (json) console.log(JSON.stringify(results));
