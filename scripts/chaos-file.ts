/**
 * `npm run chaos:file`: the embedded store (the default) under hundreds of runs committing at once, with
 * kills. Each round a process of a user's (the library, as docs/library-api.md shows it) starts and drives
 * `--runs` new runs at once while a `ledgerflow serve` of the same store takes over what it can; at seeded
 * random moments either is SIGKILLed. Then one serve is given `--settle-seconds` to finish every run, and
 * the store is judged from its files, never from what the processes said:
 *
 * - foreign: a line in a run's log that belongs to another run (the group commit once wrote commits into
 *   other runs' logs when a batch held more runs than the logs it kept open);
 * - unreadable: a run whose log cannot be read, or whose replay diverges from what it recorded;
 * - stuck: a run started but not COMPLETED when the settle time is up.
 *
 * Exit 0 when all three are zero, 1 otherwise, 2 on bad flags. Not part of `npm test`; the standing tests
 * of the same invariant are test/store/scale/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileEventStore } from '../src/store/index.js';
import { replayRun } from '../src/runtime/index.js';
import { prng } from '../test/compiler/random-events.js';
import { BIN, ROOT } from '../test/helpers/cli.js';
import { foreignLines } from '../test/store/scale/foreign-lines.js';

const USAGE = 'usage: npm run chaos:file -- [--rounds 6] [--runs 300] [--seed <n>] [--settle-seconds 120] [--json]';
let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      rounds: { type: 'string', default: '6' },
      runs: { type: 'string', default: '300' },
      seed: { type: 'string', default: String(Date.now() % 1_000_000) },
      'settle-seconds': { type: 'string', default: '120' },
      json: { type: 'boolean', default: false },
    },
  });
}
try {
  args = parse();
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
const num = (name: 'rounds' | 'runs' | 'seed' | 'settle-seconds') => {
  const v = Number(args.values[name]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`--${name} takes a whole number\n${USAGE}`);
    process.exit(2);
  }
  return v;
};
const rounds = num('rounds');
const runs = num('runs');
const seed = num('seed');
const settleMs = num('settle-seconds') * 1000;
const rand = prng(seed);
const say = (line: string) => {
  if (!args.values.json) console.error(`[chaos:file ${new Date().toISOString().slice(11, 19)}] ${line}`);
};

const dir = mkdtempSync(join(tmpdir(), 'lf-chaos-file-'));
const storeDir = join(dir, '.ledgerflow');
writeFileSync(
  join(dir, 'orders.yaml'),
  `workflow:
  id: orders
  handlers: ./handlers.mjs
  input:
    required:
      - n: { type: number }
  tasks:
    - { id: reserve, type: SIMPLE }
    - { id: charge, type: SIMPLE, depends_on: [reserve] }
    - { id: ship, type: SIMPLE, depends_on: [charge] }
`,
);
writeFileSync(
  join(dir, 'handlers.mjs'),
  `import { setTimeout as sleep } from 'node:timers/promises';
export default {
  reserve: async (_i, ctx) => { await sleep(ctx.workflowInput.n % 7); return { held: ctx.workflowInput.n }; },
  charge: async (_i, ctx) => { await sleep(ctx.workflowInput.n % 11); return { paid: true }; },
  ship: async () => ({ sent: true }),
};
`,
);

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
function start(argv: string[]): ChildProcess {
  const c = spawn(process.execPath, argv, {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, LEDGERFLOW_STATE_FILE: '' },
  });
  live.add(c);
  c.once('exit', () => live.delete(c));
  return c;
}
const exited = (c: ChildProcess) =>
  new Promise<void>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) r();
    else c.once('exit', () => r());
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const serveArgs = [BIN, '--store', storeDir, 'serve', '--handlers', 'handlers.mjs'];

async function completed(): Promise<{ total: number; done: number }> {
  const store = new FileEventStore(storeDir);
  try {
    // A corrupt log is counted by the judgment below (unreadable); here it is only not a completed run.
    const all = await store.listRuns({ onCorrupt: () => undefined });
    return { total: all.length, done: all.filter((r) => r.status === 'COMPLETED').length };
  } finally {
    await store.close();
  }
}

const kills = { driver: 0, serve: 0 };
const t0 = performance.now();
say(`seed ${seed}: ${rounds} rounds of ${runs} runs at once in ${dir}`);
for (let round = 0; round < rounds; round++) {
  const driver = start([
    join(ROOT, 'test', 'store', 'scale', 'drive-many.mjs'),
    ROOT,
    join(dir, 'orders.yaml'),
    storeDir,
    String(runs),
    `r${round}`,
  ]);
  const serve = start(serveArgs);
  const victim = rand() < 0.5 ? 'driver' : 'serve';
  await sleep(500 + Math.floor(rand() * 4000));
  (victim === 'driver' ? driver : serve).kill('SIGKILL');
  kills[victim]++;
  await sleep(100 + Math.floor(rand() * 1000));
  driver.kill('SIGKILL');
  serve.kill('SIGKILL');
  await Promise.all([exited(driver), exited(serve)]);
  say(`round ${round + 1}: ${victim} killed first, then both`);
}

const settler = start(serveArgs);
// Every run that was started (a driver killed while starting its runs started fewer) must complete.
let seen = await completed();
const deadline = performance.now() + settleMs;
while (seen.done < seen.total && performance.now() < deadline) {
  await sleep(500);
  seen = await completed();
}
settler.kill('SIGTERM');
await exited(settler);

const foreign = (await foreignLines(storeDir)).foreign;
const unreadable: string[] = [];
const store = new FileEventStore(storeDir);
for (const id of await store.runIds()) {
  try {
    const report = replayRun(await store.read(id));
    if (report.divergence) unreadable.push(`${id}: diverges at ${report.divergence.seq}`);
  } catch (err) {
    unreadable.push(`${id}: ${(err as Error).message.split('\n')[0]}`);
  }
}
await store.close();
const result = {
  seed,
  rounds,
  runsPerRound: runs,
  runs: seen.total,
  completed: seen.done,
  stuck: seen.total - seen.done,
  foreign: foreign.length,
  unreadable: unreadable.length,
  kills,
  seconds: Math.round((performance.now() - t0) / 1000),
};
const bad = result.stuck + result.foreign + result.unreadable > 0;
if (args.values.json)
  console.log(
    JSON.stringify({ ...result, findings: { foreign: foreign.slice(0, 20), unreadable: unreadable.slice(0, 20) } }),
  );
else {
  console.log(
    `runs ${result.runs}, completed ${result.completed}, stuck ${result.stuck}, foreign lines ${result.foreign}, unreadable ${result.unreadable}; kills: driver ${kills.driver}, serve ${kills.serve}; ${result.seconds} s`,
  );
  for (const f of [...foreign, ...unreadable].slice(0, 20)) console.log(`  ${f}`);
}
if (bad) {
  say(`kept ${dir} for a look`);
  process.exit(1);
}
rmSync(dir, { recursive: true, force: true });
