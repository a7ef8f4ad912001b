/**
 * 1,000 schedules firing in the same second: 1,000 definitions, each with one
 * schedule trigger whose six-field cron names one instant of the year (second,
 * minute, hour, day, month), all the same instant (a thundering herd, like
 * many `0 9 * * *` jobs at 09:00:00), each run one SIMPLE task.
 *
 * - Embedded: the Scheduler with the file cursor (`<store>/schedules.json`) on
 *   a Service's tick, as `ledgerflow serve` wires them (src/cli/commands/serve.ts: the
 *   definitions from a folder through loadTriggerCatalog, embeddedScheduler,
 *   the Service driving the runs it starts), default tick of 1 s.
 * - JetStream: three ClusterEngines (KV cursor LF_SCHEDULES, default tick of
 *   1 s) and one worker, on a nats-server this module starts from nats.conf.
 *
 * The clock: Service, Engine and ClusterEngine take an injected clock; here it
 * is the wall clock plus an offset, so time flows at its real rate (the
 * latencies are real) but the bench chooses where it stands. It starts a
 * minute before the slot, so the first ticks see every schedule for the
 * first time (each starts from then: this first sight is measured too), and
 * once every cursor exists the offset jumps to 1.5 s before the slot. Nothing
 * waits for a wall-clock minute.
 *
 * Counted from the store afterwards: runs per slot (one run id per slot by
 * construction, so a duplicate would be a second run id for a slot or a second
 * run.started in a run) and handler calls per run (work done twice); the time
 * from the slot to each run's run.started (p50/p95/max), split into slot → the
 * tick that saw it (the tick's granularity) and that tick → run.started.
 * Alone: `npm run bench -- schedules` (SCHEDULES=1000 changes the count).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Definition } from '../src/definition/index.js';
import type { EventEnvelope } from '../src/events/index.js';
import type { Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { systemClock, type Clock } from '../src/executor/index.js';
import { Service } from '../src/service/index.js';
import { FileEventStore, type EventStore } from '../src/store/index.js';
import {
  embeddedScheduler,
  FileScheduleCursor,
  loadTriggerCatalog,
  scheduleCursorFile,
  Scheduler,
} from '../src/triggers/index.js';
import { ClusterClient, ClusterEngine, createWorker } from '../src/cluster/index.js';
import { startNatsServer } from '../test/helpers/nats.js';
import { discard } from './kit.js';

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`schedules bench: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The wall clock plus a settable offset (real rate, chosen position). */
class OffsetClock implements Clock {
  offset = 0;
  now = () => Date.now() + this.offset;
  setTimer = systemClock.setTimer;
  clearTimer = systemClock.clearTimer;
  /** Places the clock at `at` (ms since the epoch) now. */
  set(at: number) {
    this.offset = at - Date.now();
  }
}

/** Every call of Scheduler.fireDue in this process: its `now`, when it ended (clock time) and how many slots it fired. */
interface Tick {
  at: number;
  endedAt: number;
  fired: number;
  firer: Scheduler;
}
const ticks: Tick[] = [];
let tickClock: () => number = Date.now;
/** Records every fireDue call in `ticks` until the returned function is called. */
function recordTicks(): () => void {
  const original = Scheduler.prototype.fireDue;
  Scheduler.prototype.fireDue = async function (this: Scheduler, at: number) {
    const report = await original.call(this, at);
    ticks.push({ at, endedAt: tickClock(), fired: report.fired.length, firer: this });
    return report;
  };
  return () => {
    Scheduler.prototype.fireDue = original;
  };
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The slot: the next whole minute at least 3 minutes ahead (the virtual clock stays near the wall clock). */
function chooseSlot(): number {
  return Math.ceil((Date.now() + 180_000) / 60_000) * 60_000;
}

function definitionYaml(i: number, slot: number): string {
  const d = new Date(slot);
  const cron = `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
  return `workflow:
  id: sched-${String(i).padStart(4, '0')}
  name: Scheduled ${i}
  version: 1
  triggers:
    - schedule: "${cron}"
      timezone: UTC
      input: { n: ${i} }
  input:
    optional:
      - n: { type: number }
  tasks:
    - { id: work, type: SIMPLE, handler: work, input: { n: "\${workflow.input.n}" } }
`;
}

export interface ScheduleSide {
  schedules: number;
  firstSightMs: number;
  slotsFired: number;
  runs: number;
  duplicateRuns: number;
  duplicateStarts: number;
  duplicateWork: number;
  completed: number;
  lagMs: { p50: number; p95: number; max: number };
  tickLagMs: { p50: number; p95: number; max: number };
  afterTickMs: { p50: number; p95: number; max: number };
  allStartedMs: number;
  idleTickMs: number;
  /** Embedded: serve's scans of the store (each lists every run) from 1.5 s before the slot until every run completed (herdMs). */
  scans?: { count: number; ms: number; herdMs: number };
  allCompletedMs: number;
  firers: number[];
}

/** What the store holds for the slot, and the handler calls per run. */
async function count(store: EventStore, slot: number, calls: Map<string, number>, ticksOf: Tick[], idleFrom: number) {
  const slotIso = new Date(slot).toISOString();
  const perSlot = new Map<string, number>();
  let duplicateStarts = 0;
  let completed = 0;
  const lags: number[] = [];
  const afterTick: number[] = [];
  let lastStart = 0;
  let lastDone = 0;
  // The first tick (of any firer) whose now is at or past the slot saw it first.
  const done = new Set((await store.listRuns({ status: 'COMPLETED' })).map((r) => r.runId));
  const seen = ticksOf.filter((t) => t.at >= slot).sort((a, b) => a.at - b.at)[0];
  for await (const { events } of store.readAll()) {
    const starts = events.filter((e): e is Extract<EventEnvelope, { type: 'run.started' }> => e.type === 'run.started');
    const s = starts[0]?.data.source?.schedule;
    if (!s) continue;
    duplicateStarts += starts.length - 1;
    const key = `${events[0]!.workflowId}|${s.trigger}|${s.slot}`;
    perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
    if (s.slot !== slotIso) continue;
    const started = Date.parse(starts[0]!.time);
    lags.push(started - slot);
    if (seen) afterTick.push(started - seen.at);
    lastStart = Math.max(lastStart, started);
    if (done.has(events[0]!.runId)) {
      completed++;
      lastDone = Math.max(lastDone, Date.parse(events.at(-1)!.time));
    }
  }
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50: percentile(s, 0.5), p95: percentile(s, 0.95), max: s.at(-1) ?? NaN };
  };
  const duplicateRuns = [...perSlot.values()].reduce((n, c) => n + c - 1, 0);
  const duplicateWork = [...calls.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
  const tickLag = seen ? seen.at - slot : NaN;
  // Ticks after the first ones and before the slot: nothing due, every schedule looked at.
  const idle = ticksOf
    .filter((t) => t.at > idleFrom && t.at < slot && t.fired === 0)
    .slice(-5)
    .map((t) => t.endedAt - t.at)
    .sort((a, b) => a - b);
  return {
    slotsFired: perSlot.size,
    runs: [...perSlot.values()].reduce((a, b) => a + b, 0),
    duplicateRuns,
    duplicateStarts,
    duplicateWork,
    completed,
    lagMs: stats(lags),
    tickLagMs: { p50: tickLag, p95: tickLag, max: tickLag },
    afterTickMs: stats(afterTick),
    allStartedMs: lastStart - slot,
    allCompletedMs: lastDone - slot,
    idleTickMs: percentile(idle, 0.5),
  };
}

function handlersCounting(calls: Map<string, number>): Handlers {
  return {
    work: async (input, ctx) => {
      calls.set(ctx.runId, (calls.get(ctx.runId) ?? 0) + 1);
      return { n: input.n };
    },
  };
}

async function embedded(n: number): Promise<ScheduleSide> {
  const dir = mkdtempSync(join(tmpdir(), 'lf-bench-sched-'));
  const clock = new OffsetClock();
  tickClock = clock.now;
  ticks.length = 0;
  const slot = chooseSlot();
  clock.set(slot - 60_000);
  const defsDir = join(dir, 'definitions');
  mkdirSync(defsDir);
  mkdirSync(join(dir, 'events'));
  for (let i = 0; i < n; i++)
    writeFileSync(join(defsDir, `sched-${String(i).padStart(4, '0')}.yaml`), definitionYaml(i, slot));
  const storeDir = join(dir, 'store');
  const store = new FileEventStore(storeDir);
  const engine = new Engine({ store, clock });
  // serve's store scans (each lists every run of the store): counted from the jump to the slot on.
  const scans = { count: 0, ms: 0, on: false };
  const list = engine.list.bind(engine);
  engine.list = async (...a: Parameters<Engine['list']>) => {
    const t = now();
    try {
      return await list(...a);
    } finally {
      if (scans.on) {
        scans.count++;
        scans.ms += now() - t;
      }
    }
  };
  const calls = new Map<string, number>();
  const errors: string[] = [];
  const service = new Service({
    engine,
    storeDir,
    handlers: handlersCounting(calls),
    clock,
    onNotice: (x) => {
      if (x.kind === 'run.error' || x.kind === 'tick.error') errors.push(x.message);
    },
  });
  // As src/cli/commands/serve.ts: the definitions folder through the trigger catalog, the embedded scheduler on the tick.
  const loaded = loadTriggerCatalog({ definitionsDir: defsDir, eventsDir: join(dir, 'events') }).loaded;
  const scheduler = embeddedScheduler({ storeDir, engine, definitions: () => loaded });
  service.addTickHook(async (at) => {
    await scheduler.fireDue(at.getTime());
  });
  try {
    const t0 = now();
    await service.start();
    await until('the first sight of every schedule', () => ticks.length > 0, 600_000, 20);
    const firstSightMs = now() - t0;
    if ((await new FileScheduleCursor(scheduleCursorFile(storeDir)).all()).size !== n)
      throw new Error('schedules bench: the first tick did not see every schedule');
    await until('idle ticks', () => ticks.length >= 3, 120_000);
    const idleFrom = clock.now();
    clock.set(slot - 1500);
    scans.on = true;
    const herd = now();
    await until('a run per slot', () => calls.size >= n, 300_000, 100);
    await until(
      'every run completed',
      async () => (await store.listRuns({ status: 'COMPLETED' })).length >= n,
      300_000,
      250,
    );
    scans.on = false;
    const herdMs = now() - herd;
    // One tick more, to see that none fires a slot again.
    const seen = ticks.length;
    await until('one more tick', () => ticks.length > seen, 30_000);
    const c = await count(store, slot, calls, ticks, idleFrom);
    if (errors.length) throw new Error(`serve reported: ${errors.slice(0, 3).join('; ')}`);
    return { schedules: n, firstSightMs, ...c, firers: [c.slotsFired], scans: { ...scans, herdMs } };
  } finally {
    await service.stop();
    await store.close();
    discard(dir);
  }
}

async function jetstream(n: number): Promise<ScheduleSide> {
  const server = await startNatsServer();
  const clock = new OffsetClock();
  tickClock = clock.now;
  ticks.length = 0;
  const slot = chooseSlot();
  clock.set(slot - 60_000);
  const calls = new Map<string, number>();
  const errors: string[] = [];
  const engines = [0, 1, 2].map(
    () =>
      new ClusterEngine({
        nats: server.url,
        now: clock.now,
        concurrency: 64,
        log: (l) => {
          if (/schedule.*(trying again|could not)/.test(l)) errors.push(l);
        },
      }),
  );
  const worker = createWorker({ nats: server.url, handlers: handlersCounting(calls), concurrency: 64 });
  const client = new ClusterClient(server.url);
  const store = new (await import('../src/store/index.js')).JetStreamEventStore({ servers: server.url });
  try {
    // Deployed before the engines start: each reads the deployed definitions at its first tick.
    const defs: Definition[] = [];
    const { parseDefinition } = await import('../src/definition/index.js');
    for (let i = 0; i < n; i++) {
      const { definition } = parseDefinition(definitionYaml(i, slot), `sched-${i}.yaml`);
      if (!definition) throw new Error('bad bench definition');
      defs.push(definition);
    }
    for (const d of defs) await client.deploy(d);
    const t0 = now();
    await Promise.all(engines.map((e) => e.start()));
    await worker.start();
    // After an engine's first whole tick every cursor exists (it created each or saw another engine's).
    await until('the first sight of every schedule', () => engines.some((e) => e.stats.scheduleTicks > 0), 600_000, 20);
    const firstSightMs = now() - t0;
    const idleFrom = clock.now();
    await until('idle ticks', () => engines.every((e) => e.stats.scheduleTicks >= 2), 120_000);
    clock.set(slot - 1500);
    await until('a run per slot', () => calls.size >= n, 300_000, 100);
    // Runs complete when the engines record the worker's outcomes; one more tick of every engine after that.
    await until(
      'every run completed',
      async () => (await store.listRuns({ status: 'COMPLETED' })).length >= n,
      300_000,
      250,
    );
    const seen = engines.map((e) => e.stats.scheduleTicks);
    await until(
      'one more tick of each engine',
      () => engines.every((e, i) => e.stats.scheduleTicks > seen[i]!),
      30_000,
    );
    const c = await count(store, slot, calls, ticks, idleFrom);
    if (errors.length) throw new Error(`the engines reported: ${errors.slice(0, 3).join('; ')}`);
    return { schedules: n, firstSightMs, ...c, firers: engines.map((e) => e.stats.scheduled) };
  } finally {
    await worker.stop().catch(() => undefined);
    await Promise.all(engines.map((e) => e.stop().catch(() => undefined)));
    await client.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await server.dispose();
  }
}

export async function benchSchedules(opts: {
  say: (line: string) => void;
  fmt: (n: number, d?: number) => string;
  schedules?: number;
}): Promise<{ embedded: ScheduleSide; jetstream: ScheduleSide }> {
  const { say, fmt } = opts;
  const n = opts.schedules ?? 1000;
  say(
    `\n${fmt(n)} schedules firing in the same second (one definition each, six-field cron naming that second; virtual clock = wall clock + an offset):`,
  );
  const line = (name: string, r: ScheduleSide) => {
    say(
      `  ${name}: first sight of all ${fmt(n)} ${fmt(r.firstSightMs)} ms; slots fired ${fmt(r.slotsFired)}, runs ${fmt(r.runs)}, duplicates ${r.duplicateRuns + r.duplicateStarts} (work done twice ${r.duplicateWork}), completed ${fmt(r.completed)}${r.firers.length > 1 ? `, started per engine ${r.firers.join('/')}` : ''}`,
    );
    if (r.scans)
      say(
        `    serve's store scans meanwhile: ${r.scans.count}, ${fmt(r.scans.ms)} ms in all (of ${fmt(r.scans.herdMs)} ms); each lists every run in the store`,
      );
    say(`    an idle tick (nothing due, ${fmt(n)} schedules looked at) ${fmt(r.idleTickMs)} ms`);
    say(
      `    slot → run.started  p50 ${fmt(r.lagMs.p50)} ms, p95 ${fmt(r.lagMs.p95)} ms, max ${fmt(r.lagMs.max)} ms  (slot → the tick that saw it ${fmt(r.tickLagMs.p50)} ms; that tick → run.started p50 ${fmt(r.afterTickMs.p50)}, max ${fmt(r.afterTickMs.max)} ms); all completed ${fmt(r.allCompletedMs)} ms after the slot`,
    );
  };
  const restore = recordTicks();
  try {
    const e = await embedded(n);
    line('embedded (serve: Service + file cursor)', e);
    const j = await jetstream(n);
    line('JetStream, three engines (KV cursor)   ', j);
    return { embedded: e, jetstream: j };
  } finally {
    restore();
  }
}
