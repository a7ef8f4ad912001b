/**
 * The in-process sections of `npm run bench`:
 * - typical: events and commits of a typical run (the seed inventory workflow);
 * - replay: checked replay of the ~10,000-event run against parsing and
 *   validating its events;
 * - chain: per-event cost of a 3,000-task chain ÷ that of a 30-task chain,
 *   live and in checked replay (1× = linear in events).
 * replay and chain are CPU-bound in this process: timed by its CPU time
 * (kit.ts cpuNow), the best of several rounds.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { installDigest } from '../src/digest/index.js';
import { useNativeDigest } from '../src/executor/index.js';
import { EventEnvelopeSchema, type EventEnvelope } from '../src/events/index.js';
import { foldEvents, replayRun, type Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { MemoryEventStore, type AppendRequest } from '../src/store/index.js';
import type { BigRun } from './bigrun.js';
import { cpuNow, def, fmt, progress, type Bench } from './kit.js';

export async function benchTypical(b: Bench): Promise<void> {
  const example = readFileSync(new URL('../examples/inventory-validation.workflow.yaml', import.meta.url), 'utf8');
  const inventory = def(example);
  const store = new MemoryEventStore();
  let commits = 0;
  const counting = Object.assign(Object.create(store), {
    append: (r: AppendRequest) => {
      commits++;
      return store.append(r);
    },
  });
  const engine = new Engine({ store: counting });
  const handlers: Handlers = {
    scan_files: async () => ({ file_list: ['README.md'], scan_timestamp: 't' }),
    load_policy: async () => ({ policy_rules: { required_files: ['README.md'] } }),
    validate_compliance: async () => ({ compliance_status: 'PASS', violations: [] }),
    generate_receipt: async () => ({ validation_receipt: 'r' }),
  };
  const view = await engine.run(inventory, { target_folder: 'x', policy_file: 'p' }, { handlers });
  const events = await store.read(view.runId);
  const bytes = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
  b.details.typical = { workflow: inventory.id, tasks: inventory.tasks.length, events: events.length, commits, bytes };
  b.say(
    `typical run (${inventory.id}, ${inventory.tasks.length} tasks, PASS path): ${events.length} events in ${commits} commits, ${fmt(bytes)} bytes`,
  );
  b.say(`  ${events.map((e) => e.type).join(', ')}`);
}

export async function benchReplay(b: Bench, big: BigRun): Promise<void> {
  const { events } = big;
  const raw = events.map((e) => JSON.stringify(e));
  const rounds = b.rounds ?? (b.quick ? 1 : 5);
  const time = (fn: () => void) => {
    fn(); // warm-up
    let best = Infinity;
    for (let i = 0; i < rounds; i++) {
      const t = cpuNow();
      fn();
      best = Math.min(best, cpuNow() - t);
    }
    return best;
  };
  progress('replay: parse, fold, checked replay');
  const parseMs = time(() => {
    for (const line of raw) EventEnvelopeSchema.parse(JSON.parse(line));
  });
  const foldMs = time(() => {
    foldEvents(events);
  });
  let divergence: unknown = 'not run';
  const replayMs = time(() => {
    divergence = replayRun(events).divergence;
  });
  const fullMs = time(() => {
    replayRun(raw.map((l) => EventEnvelopeSchema.parse(JSON.parse(l)) as EventEnvelope));
  });
  b.details.replay = {
    events: events.length,
    timedBy: 'cpu',
    rounds,
    liveRunMs: big.liveMs,
    parseValidateMs: parseMs,
    foldMs,
    checkedReplayMs: replayMs,
    parseAndReplayMs: fullMs,
    divergence,
  };
  b.figures['replay.checked_parse_ratio'] = parseMs / replayMs;
  b.say(
    `\nreplay of one ${fmt(events.length)}-event run (produced live in ${fmt(big.liveMs)} ms, status ${big.status}), CPU time, best of ${rounds} rounds:`,
  );
  b.say(
    `  baseline: JSON.parse + zod-validate every event  ${fmt(parseMs, 1)} ms  (${fmt((events.length / parseMs) * 1000)} events/s)`,
  );
  b.say(
    `  fold through the machine (load a run)             ${fmt(foldMs, 1)} ms  (${fmt((events.length / foldMs) * 1000)} events/s)  ${fmt(foldMs / parseMs, 2)}× baseline`,
  );
  b.say(
    `  checked replay (fold + state hash per event)      ${fmt(replayMs, 1)} ms  (${fmt((events.length / replayMs) * 1000)} events/s)  ${fmt(replayMs / parseMs, 2)}× baseline`,
  );
  b.say(
    `  parse + validate + checked replay                 ${fmt(fullMs, 1)} ms  divergence: ${divergence === null ? 'none' : JSON.stringify(divergence)}`,
  );
}

/** Per-event cost of a chain of `long` tasks (each depends on the one before) ÷ that of a chain of 30, live on the memory store and in checked replay. */
export async function benchChain(b: Bench): Promise<void> {
  const longTasks = b.quick ? 300 : 3_000;
  const shortRuns = b.quick ? 20 : 100;
  const rounds = b.rounds ?? (b.quick ? 1 : 3);
  const chain = (n: number) =>
    def(
      `workflow:\n  id: chain-${n}\n  name: A chain of ${n} tasks\n  version: 1\n  tasks:\n${Array.from(
        { length: n },
        (_, i) => `    - { id: t${i + 1}, type: SIMPLE, handler: step${i > 0 ? `, depends_on: [t${i}]` : ''} }\n`,
      ).join('')}`,
    );
  const measure = async (n: number, reps: number) => {
    const definition = chain(n);
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    let liveMs = 0;
    const ids: string[] = [];
    for (let r = 0; r < reps; r++) {
      const t = cpuNow();
      const view = await engine.run(definition, {}, { handlers: { step: async () => ({ ok: true }) } });
      liveMs += cpuNow() - t;
      if (view.status !== 'COMPLETED') throw new Error(`chain of ${n}: ${view.status}`);
      ids.push(view.runId);
    }
    // Each pass reads the runs afresh, as `ledgerflow replay` reads a run: no two passes share event objects, and each
    // run is replayed once (the short chain's hundred replays were of one run's events, warm after the first).
    const read = () => Promise.all(ids.map((id) => store.read(id)));
    // An untimed pass first: it collects what the live runs left on the heap, their cost and not a replay's (a user's
    // replay runs in a process of its own). Timed first, the long chain's one replay paid that whole, 10-15 µs an
    // event, and the short chain's hundred shared it (2026-11-29).
    for (const events of await read()) replayRun(events);
    const replays = await read();
    const t = cpuNow();
    for (const events of replays) if (replayRun(events).divergence) throw new Error(`chain of ${n}: replay diverged`);
    const replayMs = cpuNow() - t;
    // The same fold without the check (foldEvents, as a run is loaded): what the replay costs less the state hash
    // it recomputes at each event, the goal's arithmetic (goal-arithmetic.ts).
    const folds = await read();
    const f = cpuNow();
    for (const events of folds) foldEvents(events);
    const foldMs = cpuNow() - f;
    const events = replays[0]!;
    const total = events.length * reps;
    // What the check hashes, in one more pass, untimed (counting is not free): the goal's arithmetic.
    const counted = await read();
    const hashed = hashedBy(() => {
      for (const evs of counted) replayRun(evs);
    });
    return {
      tasks: n,
      events: events.length,
      liveUsPerEvent: (liveMs * 1000) / total,
      replayUsPerEvent: (replayMs * 1000) / total,
      foldUsPerEvent: (foldMs * 1000) / total,
      hashedBytesPerEvent: hashed.bytes / total,
      hashCallsPerEvent: hashed.calls / total,
    };
  };
  type Measured = Awaited<ReturnType<typeof measure>>;
  const least = (ms: Measured[]): Measured => ({
    ...ms[0]!,
    liveUsPerEvent: Math.min(...ms.map((m) => m.liveUsPerEvent)),
    replayUsPerEvent: Math.min(...ms.map((m) => m.replayUsPerEvent)),
    foldUsPerEvent: Math.min(...ms.map((m) => m.foldUsPerEvent)),
  });
  progress(`chain: ${rounds} rounds of 30 tasks (${shortRuns} runs) and ${fmt(longTasks)} tasks (1 run)`);
  // Warm-up of both sides: a long chain's tasks are kept in chunked tables (chunk-hash.ts), code the short chain's
  // warm-up does not run, and its first replays in a process ran 1.5-2.5× its settled cost (the swing of this ratio).
  await measure(30, 20);
  await measure(longTasks, 1);
  const shorts: Measured[] = [];
  const longs: Measured[] = [];
  for (let r = 0; r < rounds; r++) {
    shorts.push(await measure(30, shortRuns));
    longs.push(await measure(longTasks, 1));
  }
  const short = least(shorts);
  const long = least(longs);
  const live = long.liveUsPerEvent / short.liveUsPerEvent;
  const replay = long.replayUsPerEvent / short.replayUsPerEvent;
  Object.assign(b.figures, {
    'chain.live_ratio': live,
    'chain.replay_ratio': replay,
    'chain.short_live_us_per_event': short.liveUsPerEvent,
    'chain.long_live_us_per_event': long.liveUsPerEvent,
    'chain.short_replay_us_per_event': short.replayUsPerEvent,
    'chain.long_replay_us_per_event': long.replayUsPerEvent,
    'chain.short_fold_us_per_event': short.foldUsPerEvent,
    'chain.long_fold_us_per_event': long.foldUsPerEvent,
    'chain.short_hashed_bytes_per_event': short.hashedBytesPerEvent,
    'chain.long_hashed_bytes_per_event': long.hashedBytesPerEvent,
    'chain.long_hash_calls_per_event': long.hashCallsPerEvent,
  });
  b.details.chain = { timedBy: 'cpu', short, long, rounds: { short: shorts, long: longs } };
  b.say(
    `\nper-event cost of a chain of ${fmt(long.tasks)} tasks vs a chain of ${short.tasks} (1× = linear in events; one long run, ${shortRuns} short ones a round), CPU time, best of ${rounds} interleaved rounds:`,
  );
  b.say(
    `  baseline: ${short.tasks} tasks, live ${fmt(short.liveUsPerEvent, 1)} µs/event, checked replay ${fmt(short.replayUsPerEvent, 1)} µs/event`,
  );
  b.say(
    `  ${fmt(long.tasks)} tasks, live (memory store)   ${fmt(long.liveUsPerEvent, 1)} µs/event  = ${fmt(live, 2)}× baseline (goal ≤ 1.3)`,
  );
  b.say(
    `  ${fmt(long.tasks)} tasks, checked replay         ${fmt(long.replayUsPerEvent, 1)} µs/event  = ${fmt(replay, 2)}× baseline (goal ≤ 1.3)`,
  );
  b.say(
    `  the same folds without the check (no state hash): ${fmt(short.foldUsPerEvent, 1)} → ${fmt(long.foldUsPerEvent, 1)} µs/event = ${fmt(long.foldUsPerEvent / short.foldUsPerEvent, 2)}×`,
  );
  b.say(
    `  what the check hashes an event: ${fmt(short.hashedBytesPerEvent)} → ${fmt(long.hashedBytesPerEvent)} bytes (${fmt(long.hashCallsPerEvent, 1)} sha256 calls in the long chain)`,
  );
}

/**
 * The bytes and sha256 calls the core's digest port (src/digest) is asked for while `fn` runs: node:crypto's sha256
 * counted, then the executors' native one installed again. The same digests, so a replay's check is unchanged.
 */
function hashedBy(fn: () => void): { bytes: number; calls: number } {
  let bytes = 0;
  let calls = 0;
  const counted = (text: string) => {
    bytes += Buffer.byteLength(text);
    return text;
  };
  installDigest({
    hex: (text) => {
      calls++;
      return createHash('sha256').update(counted(text)).digest('hex');
    },
    create: () => {
      calls++;
      const h = createHash('sha256');
      const self = {
        update: (text: string) => {
          h.update(counted(text));
          return self;
        },
        hex: () => h.digest('hex'),
      };
      return self;
    },
  });
  try {
    fn();
  } finally {
    useNativeDigest();
  }
  return { bytes, calls };
}
