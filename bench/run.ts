/**
 * `npm run bench`: the numbers the core engine issue asks for, each printed
 * next to a baseline measured in the same run (ratios, not absolutes, are
 * what compare across machines).
 *
 * 1. Events and commits a typical run writes (the seed inventory workflow).
 * 2. Replay of one 10,000-event run: full checked replay vs. the floor of
 *    just parsing and validating the same events.
 * 3. Live runs on the embedded file store vs. raw appends of the same commits.
 * 3c. A 1,000-item MAP (max_concurrency 50) vs 1,000 one-task runs, and its replay (bench/map.ts).
 * 4. On a nats-server this script starts (file storage): raw windowed
 *    publishes, the naive one-event-per-append floor, ledgerflow's runs on the
 *    JetStream store and replay from it, with the issue's goal ratios
 *    (bench/jetstream.ts).
 * 5. The seed's batch claim: 10 generated folders validated by the batch
 *    workflow, by 10 sequential runs of the single one, and by a plain loop
 *    (bench/batch.ts).
 * 6. 1,000 schedules firing in the same second, on the embedded store (serve's
 *    Scheduler) and on JetStream with three engines (bench/schedules.ts).
 *
 * 7. `list` with a filter over 100,000 runs on the file store and on JetStream,
 *    cold and warm, against a readdir + stat pass / a raw stream pass (bench/list.ts).
 *
 * `npm run bench -- <section> ...` runs only the sections named (typical,
 * replay, file, chain, map, jetstream, batch, schedules, list); none named: all.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefinition } from '../src/definition/index.js';
import { EventEnvelopeSchema, type EventEnvelope } from '../src/events/index.js';
import { foldEvents, replayRun, type Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { FileEventStore, MemoryEventStore } from '../src/store/index.js';
import { FIVE_YAML } from './cluster.js';
import { benchJetStream } from './jetstream.js';
import { benchMap } from './map.js';
import { benchBatch } from './batch.js';
import { benchSchedules } from './schedules.js';
import { benchList } from './list.js';

const now = () => performance.now();
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const json = process.argv.includes('--json');
const results: Record<string, unknown> = {};
const say = (line: string) => { if (!json) console.log(line); };
const SECTIONS = ['typical', 'replay', 'file', 'chain', 'map', 'jetstream', 'batch', 'schedules', 'list'] as const;
const named = process.argv.slice(2).filter((a) => !a.startsWith('--'));
for (const n of named) {
  if (!(SECTIONS as readonly string[]).includes(n)) {
    console.error(`npm run bench: no section ${n}; the sections are ${SECTIONS.join(', ')} (none named: all)`);
    process.exit(2);
  }
}
const want = (section: (typeof SECTIONS)[number]) => named.length === 0 || named.includes(section);

function def(text: string) {
  const { definition, diagnostics } = parseDefinition(text, 'bench.yaml');
  if (!definition) throw new Error(JSON.stringify(diagnostics));
  return definition;
}

// 1. A typical run ------------------------------------------------------------
if (want('typical')) {
  const example = readFileSync(new URL('../examples/inventory-validation.workflow.yaml', import.meta.url), 'utf8');
  const inventory = def(example);
  const store = new MemoryEventStore();
  let commits = 0;
  const counting = Object.assign(Object.create(store), { append: (r: Parameters<typeof store.append>[0]) => { commits++; return store.append(r); } });
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
  results.typicalRun = { workflow: inventory.id, tasks: inventory.tasks.length, events: events.length, commits, bytes };
  say(`typical run (${inventory.id}, ${inventory.tasks.length} tasks, PASS path): ${events.length} events in ${commits} commits, ${fmt(bytes)} bytes`);
  say(`  ${events.map((e) => e.type).join(', ')}`);
}

// 2. Replay of a 10,000-event run --------------------------------------------
/** Its commits as the driver appended them, appended again to JetStream in section 4. */
const bigRunCommits: EventEnvelope[][] = [];
if (want('replay') || want('jetstream')) {
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
  const recording = Object.assign(Object.create(store), { append: (r: Parameters<typeof store.append>[0]) => { bigRunCommits.push(r.events); return store.append(r); } });
  const engine = new Engine({ store: recording });
  const t0 = now();
  const view = await engine.run(retrying, {}, {
    handlers: {
      prepare: async () => ({ ok: true }),
      // Each failed attempt adds task.started, task.failed and timer.fired: 4 × 832 of them make 9,997 events in all
      // (a task may have at most 1,000 attempts, so the retries are spread over four tasks in a row).
      flaky: async (_i, ctx) => { if (ctx.attempt <= 832) throw new Error(`attempt ${ctx.attempt}`); return { attempt: ctx.attempt }; },
      finish: async () => ({ done: true }),
    },
  });
  const liveMs = now() - t0;
  const events = await store.read(view.runId);
  const raw = events.map((e) => JSON.stringify(e));

  const time = (fn: () => void, reps = 5) => {
    fn(); // warm-up
    const t = now();
    for (let i = 0; i < reps; i++) fn();
    return (now() - t) / reps;
  };
  const parseMs = time(() => { for (const line of raw) EventEnvelopeSchema.parse(JSON.parse(line)); });
  const foldMs = time(() => { foldEvents(events); });
  let divergence: unknown = 'not run';
  const replayMs = time(() => { divergence = replayRun(events).divergence; });
  const fullMs = time(() => { replayRun(raw.map((l) => EventEnvelopeSchema.parse(JSON.parse(l)) as EventEnvelope)); });

  results.replay10k = { events: events.length, liveRunMs: liveMs, parseValidateMs: parseMs, foldMs, checkedReplayMs: replayMs, parseAndReplayMs: fullMs, divergence };
  say(`\nreplay of one ${fmt(events.length)}-event run (produced live in ${fmt(liveMs)} ms, status ${view.status}):`);
  say(`  baseline: JSON.parse + zod-validate every event  ${fmt(parseMs, 1)} ms  (${fmt(events.length / parseMs * 1000)} events/s)`);
  say(`  fold through the machine (load a run)             ${fmt(foldMs, 1)} ms  (${fmt(events.length / foldMs * 1000)} events/s)  ${fmt(foldMs / parseMs, 2)}× baseline`);
  say(`  checked replay (fold + state hash per event)      ${fmt(replayMs, 1)} ms  (${fmt(events.length / replayMs * 1000)} events/s)  ${fmt(replayMs / parseMs, 2)}× baseline`);
  say(`  parse + validate + checked replay                 ${fmt(fullMs, 1)} ms  divergence: ${divergence === null ? 'none' : JSON.stringify(divergence)}`);
}

// 3. Live runs on the embedded file store -------------------------------------
const five = def(FIVE_YAML); // the same five steps the cluster case runs
const handlers: Handlers = Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));
if (want('file')) {
  const runs = 200;
  const concurrency = 16;

  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-'));
  const fileStore = new FileEventStore(join(dir, 'engine'));
  let appended = 0;
  const engine = new Engine({ store: Object.assign(Object.create(fileStore), { append: (r: Parameters<typeof fileStore.append>[0]) => { appended++; return fileStore.append(r); } }) });
  const t0 = now();
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < runs) {
      next++;
      const s = now();
      const v = await engine.run(five, {}, { handlers });
      if (v.status !== 'COMPLETED') throw new Error(`run ${v.runId} ${v.status}`);
      latencies.push(now() - s);
    }
  }));
  const engineMs = now() - t0;
  const commitsPerRun = Math.round(appended / runs); // as the engine appended them (see section 1 for what they hold)

  // Baseline: the same number of commits per run, appended one at a time to the same kind of store.
  const raw = new FileEventStore(join(dir, 'raw'));
  const sample = await engine.store.read((await engine.store.listRuns())[0]!.runId);
  const t1 = now();
  next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < runs) {
      const runId = `raw-${next++}`;
      for (let c = 0; c < commitsPerRun; c++) {
        const ev = { ...sample[Math.min(c, sample.length - 1)]!, runId, seq: c + 1 };
        await raw.append({ runId, expectedSeq: c, dedupId: `${runId}/${c + 1}`, events: [ev] });
      }
    }
  }));
  const rawMs = now() - t1;
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  const wfs = runs / engineMs * 1000;
  const rawWfs = runs / rawMs * 1000;
  results.fileStore = { runs, concurrency, engineMs, workflowsPerSec: wfs, rawAppendWorkflowsPerSec: rawWfs, ratio: wfs / rawWfs, p50Ms: p(0.5), p99Ms: p(0.99) };
  say(`\n${runs} runs of a 5-step workflow on the embedded file store, ${concurrency} at a time:`);
  say(`  baseline: ${commitsPerRun} raw durable appends per run     ${fmt(rawWfs, 1)} workflows/s`);
  say(`  ledgerflow (fold + appends + handlers)    ${fmt(wfs, 1)} workflows/s  = ${fmt(wfs / rawWfs, 2)}× baseline; p50 ${fmt(p(0.5), 1)} ms, p99 ${fmt(p(0.99), 1)} ms per run`);
  await Promise.all([fileStore.close(), raw.close()]);
  rmSync(dir, { recursive: true, force: true });
}

// 3b. A long chain of tasks ---------------------------------------------------
// Per-event cost of a chain of 3,000 tasks (each depends on the one before) against that of a
// chain of 30: about 1× means a run's cost grows with its events, not with events × tasks.
if (want('chain')) {
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
  await measure(30, 20); // warm-up
  const short = await measure(30, 100);
  const long = await measure(3000, 1);
  const live = long.liveUsPerEvent / short.liveUsPerEvent;
  const replay = long.replayUsPerEvent / short.replayUsPerEvent;
  results.longChain = { short, long, liveRatio: live, replayRatio: replay };
  say(`\nper-event cost of a chain of ${fmt(long.tasks)} tasks vs a chain of ${short.tasks} (1× = linear in events):`);
  say(`  baseline: ${short.tasks} tasks, live ${fmt(short.liveUsPerEvent, 1)} µs/event, checked replay ${fmt(short.replayUsPerEvent, 1)} µs/event`);
  say(`  ${fmt(long.tasks)} tasks, live (memory store)   ${fmt(long.liveUsPerEvent, 1)} µs/event  = ${fmt(live, 2)}× baseline`);
  say(`  ${fmt(long.tasks)} tasks, checked replay         ${fmt(long.replayUsPerEvent, 1)} µs/event  = ${fmt(replay, 2)}× baseline (hashing the whole state per event is linear in tasks)`);
}

// 3c. A 1,000-item MAP ----------------------------------------------------------
if (want('map')) results.map = await benchMap({ say, fmt });

// 4. On NATS JetStream ----------------------------------------------------------
if (want('jetstream')) results.jetstream = await benchJetStream({ five, handlers, bigRunCommits, say, fmt });

// 5. The seed's batch claim -------------------------------------------------------
if (want('batch')) {
  const env = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  results.batch = await benchBatch({ say, fmt, ...(env('FOLDERS') ? { folders: env('FOLDERS') } : {}), ...(env('FILES') ? { files: env('FILES') } : {}), ...(env('ROUNDS') ? { rounds: env('ROUNDS') } : {}) });
}

// 6. 1,000 schedules in the same second ---------------------------------------------
if (want('schedules')) results.schedules = await benchSchedules({ say, fmt, ...(process.env.SCHEDULES ? { schedules: Number(process.env.SCHEDULES) } : {}) });

// 7. list with a filter over 100,000 runs ---------------------------------------------
if (want('list')) results.list = await benchList({ say, fmt, ...(process.env.RUNS ? { runs: Number(process.env.RUNS) } : {}), fileOnly: process.env.LIST_STORES === 'file' });

if (json) console.log(JSON.stringify(results, null, 2));
