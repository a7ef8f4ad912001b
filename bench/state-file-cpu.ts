/**
 * User CPU per run of the embedded engine with the state file and the execution log kept, against the same
 * engine without, in one process, rounds alternating (each variant on a store of its own), for when the machine
 * is too loaded for `npm run bench -- statefile`'s wall-clock ratio to say much:
 *
 *   node --max-semi-space-size=64 --import tsx bench/state-file-cpu.ts [rounds] [runs a round] [variant …]
 *
 * Variants: off (no observer), both (the writer and the log, the writer's thread as a process that keeps
 * writing starts it), inline (both, the writer never starting its thread), writer, log. Per variant: the
 * process's user CPU per run (every thread: the main one, the writer's, the thread pool's), the main thread's
 * alone (/proc/self/task/<pid>/stat: what the engine's throughput waits on), and workflows/s; then the medians,
 * and each variant's median difference from the `off` round of the same round.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionLogAppender } from '../src/execution-log/index.js';
import { Engine } from '../src/local/index.js';
import { StateFileWriter } from '../src/state-file/index.js';
import { FileEventStore, observedStore, type StoreObserver } from '../src/store/index.js';
import { def, FIVE_YAML, fiveHandlers, fmt, median, now, pool } from './kit.js';

const rounds = Number(process.argv[2] ?? 6);
const runs = Number(process.argv[3] ?? 1500);
const names = process.argv.length > 4 ? process.argv.slice(4) : ['off', 'both'];
if (!names.includes('off')) names.unshift('off');
const logged = def(`${FIVE_YAML}  monitoring:\n    report_frequency: per_task\n    log_to: exec.log\n`);
const handlers = fiveHandlers();
const dir = mkdtempSync(join(tmpdir(), 'lf-sfcpu-'));

/** The main thread's user CPU (µs), from its /proc task entry (clock ticks of 10 ms). */
function mainUserUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[11]) * 1e4;
}

interface Variant {
  name: string;
  engine: Engine;
  store: FileEventStore;
  flush: () => Promise<void>;
}
function variant(name: string): Variant {
  const store = new FileEventStore(join(dir, `store-${name}`));
  const writer = new StateFileWriter(store, {
    path: join(dir, name, '.3ox', 'workflow.state.yaml'),
    keep: 50,
    warn: (m) => console.error(m),
    thread: name === 'inline' ? false : 'auto',
  });
  const log = new ExecutionLogAppender(store, { cwd: join(dir, name), warn: (m) => console.error(m) });
  const observers: StoreObserver[] =
    name === 'off' ? [] : name === 'writer' ? [writer] : name === 'log' ? [log] : [writer, log];
  const flush = async () => {
    if (observers.includes(writer)) await writer.flushNow();
    if (observers.includes(log)) await log.close();
  };
  return { name, store, flush, engine: new Engine({ store: observedStore(store, observers) }) };
}
const variants = names.map(variant);
type Round = { wfs: number; user: number; main: number };
const round = async (v: Variant): Promise<Round> => {
  const u0 = process.cpuUsage().user;
  const m0 = mainUserUs();
  const t = now();
  await pool(runs, 16, async () => {
    const r = await v.engine.run(logged, {}, { handlers });
    if (r.status !== 'COMPLETED') throw new Error(`run ${r.runId} ${r.status}`);
  });
  await v.flush(); // what the writers still owe is part of the cost
  return {
    wfs: runs / ((now() - t) / 1000),
    user: (process.cpuUsage().user - u0) / runs,
    main: (mainUserUs() - m0) / runs,
  };
};
try {
  for (const v of variants) await round(v); // warm-up
  const got = new Map<string, Round[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const line: string[] = [];
    // Each round in another order, so no variant always follows the same one.
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const x = await round(v);
      got.get(v.name)!.push(x);
      line.push(`${v.name} ${fmt(x.wfs)} wf/s user ${fmt(x.user)} main ${fmt(x.main)}`);
    }
    console.log(`round ${r + 1} (load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}): ${line.join(' | ')}`);
  }
  const off = got.get('off')!;
  for (const [name, xs] of got) {
    const m = (f: (x: Round, i: number) => number) => fmt(median(xs.map(f)));
    const diff =
      name === 'off'
        ? ''
        : `; − off: user ${m((x, i) => x.user - off[i]!.user)} µs, main ${m((x, i) => x.main - off[i]!.main)} µs, ratio ${fmt(median(xs.map((x, i) => x.wfs / off[i]!.wfs)), 2)}`;
    console.log(
      `${name}: user ${m((x) => x.user)} µs/run, main ${m((x) => x.main)} µs/run, ${m((x) => x.wfs)} wf/s${diff}`,
    );
  }
  for (const v of variants) await v.store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
