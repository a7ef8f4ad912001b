/**
 * The performance caches (src/caches.ts lists them) change no result. The
 * same runs are folded with every cache off, with all runs folded at once
 * one step at a time (the caches filling as they go, each run meeting what
 * the others left), warm (already filled by every other run), and cleared
 * before every step, and must give the same events with the same
 * recorded state hashes, the same effects, views, snapshots (each run folds
 * on from its restored snapshot), stored bytes and replay reports. The runs: every coverage path
 * and seeded random events (test/compiler's differential corpus) for every
 * bundled and fixture definition, and every bundled path run on the real
 * runtime. A cache that returned a wrong value would make one mode differ.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CACHES, clearCaches, setCachesEnabled } from '../src/caches.js';
import type { MachineEvent } from '../src/compiler/index.js';
import { generatePaths, runPath, type GeneratedPath } from '../src/coverage/index.js';
import { baseInput, inputVariants, outputVariants, planDecisions } from '../src/coverage/outputs.js';
import { definitionHash, type Definition } from '../src/definition/index.js';
import { markBuiltByFold, type EventEnvelope, type PendingEvent } from '../src/events/index.js';
import {
  foldEvents,
  recordedState,
  replayRun,
  runView,
  startFold,
  step,
  type RunSnapshot,
} from '../src/runtime/index.js';
import { newRunId, snapshotOf } from '../src/executor/index.js';
import { workflowOf } from '../src/compiler/index.js';
import { stateHashCacheSize } from '../src/runtime/state-hash-cache.js';
import { checkAppend } from '../src/store/common.js';
import { DEFINITIONS } from './compiler/corpus.js';
import { prng, RandomEvents } from './compiler/random-events.js';
import { ROOT } from './helpers/cli.js';
import { def } from './helpers/engine.js';

const T0 = Date.parse('2026-03-01T09:00:00Z');
/** Seeded random runs per definition, besides its coverage paths (which are all run): a sample, new sequences beside the paths. */
const RANDOM_RUNS = 2;
const EVENTS_PER_RUN = 30;

/** Machine event (the differential corpus speaks these) → the input event a run is given. */
function toInput(ev: MachineEvent): PendingEvent {
  const time = new Date(ev.time).toISOString();
  const [kind, sub, ...rest] = ev.type.split('.');
  const task = rest.join('.');
  if (ev.type === 'run.cancel') {
    const { type: _t, time: _time, ...data } = ev as Extract<MachineEvent, { type: 'run.cancel' }>;
    return { type: 'run.cancelled', time, data };
  }
  if (kind === 'signal') {
    const { data, by } = ev as Extract<MachineEvent, { type: `signal.${string}` }>;
    return {
      type: 'signal.received',
      time,
      data: { name: ev.type.slice('signal.'.length), data, ...(by !== undefined ? { by } : {}) },
    };
  }
  if (ev.type === 'run.pause' || ev.type === 'run.resume') {
    const { type: _t, time: _time, ...data } = ev;
    return ev.type === 'run.pause' ? { type: 'run.paused', time, data } : { type: 'run.resumed', time, data };
  }
  const e = ev as { attempt: number; output?: unknown; error?: never; by?: string; comment?: string };
  if (kind === 'task') {
    if (sub === 'completed')
      return { type: 'task.completed', time, data: { task, attempt: e.attempt, output: e.output } };
    if (sub === 'failed') return { type: 'task.failed', time, data: { task, attempt: e.attempt, error: e.error! } };
    return { type: 'task.started', time, data: { task, attempt: e.attempt } };
  }
  if (kind === 'timer')
    return {
      type: 'timer.fired',
      time,
      data: { task, attempt: e.attempt, timer: sub as 'backoff' | 'timeout' | 'approval_timeout' | 'wait' },
    };
  return {
    type: 'approval.recorded',
    time,
    data: {
      task,
      decision: sub as 'approved' | 'rejected',
      by: e.by!,
      ...(e.comment !== undefined ? { comment: e.comment } : {}),
    },
  };
}

/** One run: a label, its input, and where its inputs come from (a list, or the random corpus given the state), afresh each time it is run. */
interface Run {
  label: string;
  def: Definition;
  input: Record<string, unknown>;
  inputs: () => (snapshot: RunSnapshot, i: number) => PendingEvent | null;
}

function runsOf(name: string, def: Definition, paths: GeneratedPath[]): Run[] {
  const runs: Run[] = paths.map((p) => {
    // The runtime writes each task.started itself; a path's other events are the inputs.
    const inputs = p.events.filter((e) => e.type !== 'task.started');
    return { label: `${name}: path "${p.name}"`, def, input: p.input, inputs: () => (_s, i) => inputs[i] ?? null };
  });
  const plan = planDecisions(def, baseInput(def));
  const inputs = inputVariants(baseInput(def), plan);
  const outputs = outputVariants(def, plan);
  for (let r = 0; r < RANDOM_RUNS; r++) {
    const seed = 1000 * r + name.length;
    const input = new RandomEvents(prng(seed), def, outputs, T0).pick(inputs);
    runs.push({
      label: `${name}: random run ${r} (seed ${seed})`,
      def,
      input,
      inputs: () => {
        const events = new RandomEvents(prng(seed), def, outputs, T0);
        return (s, i) => (i < EVENTS_PER_RUN && s.status === 'active' ? toInput(events.next(s.context)) : null);
      },
    });
  }
  return runs;
}

/**
 * Everything a run gives, as text, in order: what every mode must agree on.
 * It yields before each step of the work (an event folded, a snapshot taken
 * or restored, a replay), where the caller clears the caches or turns to
 * another run.
 */
function* record(run: Run, runId: string): Generator<void, string[]> {
  const out: string[] = [];
  const { def } = run;
  yield;
  const hash = definitionHash(def);
  const compiled = workflowOf(def, hash);
  const time = new Date(T0).toISOString();
  let snapshot = startFold(compiled, { runId, time, input: run.input });
  const started = {
    runId,
    workflowId: def.id,
    version: def.version,
    seq: 1,
    time,
    state: recordedState(snapshot),
    type: 'run.started',
    data: { definition: def as unknown as Record<string, unknown>, definitionHash: hash, input: run.input },
  } as EventEnvelope;
  const log: EventEnvelope[] = [started];
  const next = run.inputs();
  let s = step(compiled, snapshot, 1, [], T0);
  // The start commit as a store writes it: the fold's own list, and the same events handed in as a caller would (parsed by zod).
  yield;
  out.push(
    checkAppend({ runId, expectedSeq: 0, dedupId: 'start', events: markBuiltByFold([started, ...s.events]) }).json,
  );
  yield;
  out.push(
    checkAppend({ runId, expectedSeq: 0, dedupId: 'start', events: JSON.parse(JSON.stringify([started, ...s.events])) })
      .json,
  );
  for (let i = 0; ; i++) {
    log.push(...s.events);
    snapshot = s.snapshot;
    yield;
    const stored = snapshotOf(compiled, snapshot, s.seq, null, T0);
    yield;
    const restored = compiled.interpreter.restore(stored.fold as never);
    out.push(
      JSON.stringify({
        events: s.events,
        effects: s.effects,
        stale: s.stale,
        view: runView(snapshot, s.seq),
        stored,
        restored: recordedState(restored),
      }),
    );
    const input = next(snapshot, i);
    if (!input) break;
    yield;
    // On from the restored snapshot, which must fold on exactly as the original.
    s = step(compiled, restored, s.seq, [input], Date.parse(input.time));
  }
  // Replayed to the first event, the middle one and the last: each a replay of its own from the start (compiled afresh with
  // caches off or cleared), so replaying to every event made the record quadratic in a run's length and cost more than the rest.
  for (const ev of new Set([log[0]!, log[log.length >> 1]!, log[log.length - 1]!])) {
    yield;
    out.push(JSON.stringify(replayRun(log, { to: ev.seq })));
  }
  yield;
  out.push(JSON.stringify(replayRun(log, { candidate: def })));
  yield;
  out.push(JSON.stringify(runView(foldEvents(log).snapshot, log.length)));
  return out;
}

/** Two definitions whose task ids, in order, are one the start of the other's: a cache keyed on the last run's tasks must tell them apart. */
const PREFIXED: [string, Definition][] = ['a, b, c', 'a, b'].map((ids, n) => [
  `tasks ${ids}`,
  def(`
workflow:
  id: prefixed-${n}
  name: Tasks ${ids}
  version: 1
  tasks:
${ids
  .split(', ')
  .map(
    (id, i) =>
      `    - { id: ${id}, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s }${i > 0 ? ', depends_on: [a]' : ''} }`,
  )
  .join('\n')}
`),
]);

const corpus = [...DEFINITIONS, ...PREFIXED].map(([name, def]) => ({ name, def, paths: generatePaths(def).paths }));
const runs = corpus.flatMap(({ name, def, paths }) => runsOf(name, def, paths));
/** Run ids fixed by position, so every mode names the same run alike. */
const recorder = (run: Run) => record(run, `run-${runs.indexOf(run)}`);

/** Every run's record, one run after another, calling `between` at each step of the work. */
function recordAll(order: Run[], between: () => void = () => {}): Map<string, string[]> {
  const results = new Map<string, string[]>();
  for (const run of order) {
    const r = recorder(run);
    for (let n = r.next(); ; n = r.next()) {
      if (n.done) {
        results.set(run.label, n.value);
        break;
      }
      between();
    }
  }
  return results;
}

/** Every run's record, all runs advanced one step of the work at a time in turn, as an engine folds many runs at once. */
function recordInterleaved(order: Run[]): Map<string, string[]> {
  const results = new Map<string, string[]>();
  let active = order.map((run) => ({ run, r: recorder(run) }));
  while (active.length > 0) {
    active = active.filter(({ run, r }) => {
      const n = r.next();
      if (n.done) results.set(run.label, n.value);
      return !n.done;
    });
  }
  return results;
}

function expectSame(mode: string, actual: Map<string, string[]>, expected: Map<string, string[]>): void {
  expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [label, want] of expected) {
    const got = actual.get(label)!;
    const at = want.findIndex((w, i) => got[i] !== w);
    if (at >= 0 || got.length !== want.length) {
      const i = at >= 0 ? at : Math.min(got.length, want.length);
      expect.fail(
        `${label}, ${mode}: item ${i} differs from what it is with caches off\n  ${mode}: ${got[i]?.slice(0, 2000)}\n  off: ${want[i]?.slice(0, 2000)}`,
      );
    }
  }
}

function withCachesOff<T>(fn: () => T): T {
  setCachesEnabled(false);
  try {
    return fn();
  } finally {
    setCachesEnabled(true);
  }
}

describe('performance caches change no result', () => {
  it('folds every coverage path and seeded random run alike with caches off, warm, warm with runs interleaved, and cleared before every event', () => {
    expect(runs.length).toBeGreaterThan(100);
    const off = withCachesOff(() => recordAll(runs));
    expect([...off.values()].reduce((n, items) => n + items.length, 0)).toBeGreaterThan(2_000);
    // All runs at once, one step each in turn, as an engine folds them: the caches fill as they go, each run meeting what
    // the others' steps so far left there. That fills every cache with every run (no pass of its own just to fill them).
    expectSame('runs interleaved, caches filling', recordInterleaved(runs), off);
    expect(stateHashCacheSize()).toBeGreaterThan(0);
    // Backwards, so each run meets caches filled by all the others (and by itself).
    expectSame('warm', recordAll([...runs].reverse()), off);
    expectSame('cleared before every event', recordAll(runs, clearCaches), off);
    // Every run of the corpus four times over: the corpus grows with each construct (loops' paths are long) and with each bundled
    // workflow. Most of the time is the two passes that compile afresh for every replay (off, cleared), hence replays to a
    // sample of points rather than to every event.
  }, 300_000);

  it('generates the same coverage paths (with their model states) with caches off', () => {
    const off = withCachesOff(() => corpus.map(({ def }) => generatePaths(def).paths));
    expect(off).toEqual(corpus.map((c) => c.paths));
  });

  it('runs every path of every bundled definition on the real runtime alike with caches warm and off', async () => {
    const bundled = corpus.filter((c) => c.name.startsWith('definitions/'));
    // Every definitions/*.yaml (the corpus reads them all): counted from the folder, so a new bundled workflow needs no edit here.
    expect(bundled.length).toBe(readdirSync(join(ROOT, 'definitions')).filter((f) => f.endsWith('.yaml')).length);
    const runAll = async () => {
      const results = [];
      for (const { def, paths } of bundled) for (const p of paths) results.push(await runPath(def, p));
      return results;
    };
    const warm = await runAll();
    for (const r of warm) expect(r.failure, r.name).toBeNull();
    setCachesEnabled(false);
    try {
      expect(await runAll()).toEqual(warm);
    } finally {
      setCachesEnabled(true);
    }
  }, 120_000); // 7-8 s alone, pure CPU: past vitest's 30 s once on a machine loaded by two suites (2026-11-27)

  it('begins run ids alike with caches warm, cleared and off', () => {
    const times = Array.from({ length: 200 }, (_, i) => T0 + i * 377);
    const stamps = () => times.map((t) => newRunId(t).slice(0, 15));
    const warm = stamps();
    expect(new Set(warm).size).toBeGreaterThan(50);
    expect(
      times.map((t) => {
        clearCaches();
        return newRunId(t).slice(0, 15);
      }),
    ).toEqual(warm);
    expect(withCachesOff(stamps)).toEqual(warm);
  });
});

describe('the caches are fenced', () => {
  const src = join(ROOT, 'src');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    );
  const all = files(src).map((f) => relative(src, f));

  it('every *-cache.ts module is listed in src/caches.ts, and every listed one exists', () => {
    expect(CACHES.map((c) => c.module).sort()).toEqual(all.filter((f) => f.endsWith('-cache.ts')).sort());
  });

  it('no other module keeps state of its own between calls (module-level let, or a Map or Set filled later)', () => {
    // The random pool's read position is not a cache of any result; nor is the once-per-process registration
    // of Node's resolvers (and its hook thread's target) that lets handler modules import the running ledgerflow;
    // nor is the digest implementation an executor installs (every implementation gives the same digests);
    // nor are tsx's registration and the JetStream adapter the CLI loads on demand (once per process, like Node's resolvers);
    // nor is admission's in-process queue of decisions per (workflow, key), a lock's queue, not a result (limits/admission-batch.ts);
    // nor are the wake-ups of this process's waiters for a task gate, listeners, not results (limits/task-gate.ts);
    // nor are the @nats-io packages once loaded (store/jetstream/nats-lib.ts), as the JetStream adapter above;
    // nor is the JetStream domain each connection was opened with (store/jetstream/nats-lib.ts), a setting of that
    // connection kept beside it, not a result (docs/nats.md#stations);
    // nor is the state file a CLI process keeps, its writers and its execution log: the command's own
    // setting, chosen once per process like the store it opens (cli/state-file-choice.ts);
    // nor are jq's and QuickJS's threads and the jq and QuickJS modules validate compiles with (transform/index.ts, transform/js.ts), once per process like the @nats-io packages;
    // nor is the process's one watchdog of its COMMAND programs (handlers/orphan-guard.ts), a child process, not a result;
    // nor is whether a long-running command was asked to stop (cli/signals.ts), a signal to the process, not a result.
    // nor are the large payloads' values loaded in this process (executor/payloads.ts), keyed by the digest of their bytes
    // (a digest's value never changes, so which are loaded changes no result, only how often a body is read), the blob
    // stores read on a miss, and the resolver the core reads them through (expressions/payloads.ts), installed as digest/'s is;
    // nor the turn-taking of the bodies read at once there (how many, who waits, which reads are shared): when a value is read, not what it is;
    // nor which of this process's stdout and stderr lost their reader, and the runs it drives meanwhile
    // (cli/render/closed-output.ts): the process's own streams, as whether it was asked to stop (cli/signals.ts).
    const allowed = new Set([
      'handlers/orphan-guard.ts: let watchdog: ChildProcess | null = null;',
      'executor/ids.ts: let offset = pool.length;',
      'digest/index.ts: let current: DigestImplementation = portableDigest;',
      'handlers/self-resolve.ts: let patched = false;',
      'handlers/self-resolve.ts: let hooked = false;',
      "handlers/self-resolve.ts: let checking = false; // resolvesFrom asks how the project resolves, without this module's fallback",
      'handlers/self-resolve-hooks.ts: let target: string | null = null;',
      'handlers/typescript.ts: let registered: Promise<void> | undefined;',
      'handlers/typescript.ts: let cjsRegistered = false;',
      'cli/open-store.ts: let natsStore: NatsStore | undefined;',
      'cli/signals.ts: let asked: Promise<void> | null = null;',
      'limits/admission-batch.ts: const queues = new WeakMap<EventStore, Map<string, Queue>>();',
      'limits/task-gate.ts: const kicks = new Map<string, Set<() => void>>();',
      'store/jetstream/nats-lib.ts: let coreMod: typeof Core | undefined;',
      'store/jetstream/nats-lib.ts: let jsMod: typeof Js | undefined;',
      'store/jetstream/nats-lib.ts: let kvMod: typeof Kv | undefined;',
      'store/jetstream/nats-lib.ts: let objMod: typeof Obj | undefined;',
      'store/jetstream/nats-lib.ts: let jsMsgOf: ((m: Core.Msg, ackTimeout?: number) => Js.JsMsg) | undefined;',
      'store/jetstream/nats-lib.ts: const domains = new WeakMap<object, string>();',
      'cli/state-file-choice.ts: let chosen: { path: string; keep: number } | null | undefined;',
      'cli/state-file-choice.ts: const writers = new Map<string, StateFileWriter>();',
      'cli/state-file-choice.ts: let executionLog: ExecutionLogAppender | undefined;',
      'transform/index.ts: let loading: Promise<JqHandle> | undefined;',
      'transform/index.ts: let thread: ReturnType<typeof jqThread> | undefined;',
      'transform/index.ts: let scripts: ReturnType<typeof jsThread> | undefined;',
      'transform/js.ts: let loading: Promise<QuickJs> | undefined;',
      'executor/payloads.ts: const loaded = new Map<string, { value: unknown; size: number }>();',
      'executor/payloads.ts: let loadedBytes = 0;',
      'executor/payloads.ts: const sources = new Set<BlobStore>();',
      'executor/payloads.ts: let loading = 0;',
      'executor/payloads.ts: const waitingLoads: (() => void)[] = [];',
      'executor/payloads.ts: const inFlight = new Map<string, Promise<unknown>>();',
      'expressions/payloads.ts: let current: PayloadResolver = notLoaded;',
      'encryption/cipher.ts: let ivPool: Buffer = Buffer.alloc(0);',
      'encryption/cipher.ts: let ivAt = 0;',
      'encryption/cipher.ts: const keyObjects = new WeakMap<DataKey, KeyObject>();',
      'cli/render/closed-output.ts: const closed = new Set<NodeJS.WritableStream>();',
      'cli/render/closed-output.ts: const driving = new Set<(stream: NodeJS.WritableStream) => void>();',
    ]);
    // server/web/ is the browser app: its module state is the page's (one page, one user), not the engine's.
    const found = all
      .filter((f) => !f.endsWith('-cache.ts') && !f.startsWith('server/web/'))
      .flatMap((f) =>
        readFileSync(join(src, f), 'utf8')
          .split('\n')
          .filter(
            (line) =>
              /^(export )?let /.test(line) ||
              /^(export )?const \w+(: [^=]+)? = new (Weak)?(Map|Set)(<.*>)?\(\)/.test(line),
          )
          .map((line) => `${f}: ${line}`),
      );
    expect(found.filter((l) => !allowed.has(l))).toEqual([]);
  });
});
