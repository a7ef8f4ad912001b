// `node scripts/spawn-census.mjs <census file>`: the CPU of the CLI commands a test run started, summed per command
// (the first word after the global --store/--nats options: `run`, `status`, `users add` …) and per test file, from
// the file `LEDGERFLOW_TEST_SPAWNS=<census file> npx vitest run` wrote (test/helpers/spawn-census.cjs, one line per
// process: <cpu s> <wall s> <test file> <command line>). The suite is CPU-bound on 2 cores and most of its CPU is in
// these processes: what to cut is a command's own CPU (its start-up, paid by every one) or a command started more
// often than a test needs (a poll spawning one per try shows as one command line repeated in one file).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/spawn-census.mjs <file written by LEDGERFLOW_TEST_SPAWNS=<file> npx vitest run>');
  process.exit(2);
}
/** Commands whose second word is the command (`users add`, `dlq list`). */
const GROUPS = new Set(['users', 'dlq', 'secrets', 'limits', 'breaker', 'import', 'schedule']);
const byVerb = new Map();
const byFile = new Map();
const byLine = new Map();
let total = 0;
let count = 0;
const add = (map, key, cpu, wall) => {
  const s = map.get(key) ?? { cpu: 0, n: 0, wall: 0 };
  s.cpu += cpu;
  s.n += 1;
  s.wall += wall;
  map.set(key, s);
};
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const [cpuText, wallText, testFile, ...args] = line.trim().split(/\s+/);
  if (!testFile) continue;
  const cpu = Number(cpuText);
  const wall = Number(wallText);
  let verb = '?';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--nats' || args[i] === '--store') {
      i++;
      continue;
    }
    verb = GROUPS.has(args[i]) && args[i + 1] ? `${args[i]} ${args[i + 1]}` : args[i];
    break;
  }
  const nats = args.includes('--nats') ? ' (nats)' : '';
  add(byVerb, `${verb}${nats}`, cpu, wall);
  add(byFile, testFile, cpu, wall);
  add(byLine, `${testFile} ${args.join(' ').slice(0, 160)}`, cpu, wall);
  total += cpu;
  count++;
}
const table = (title, map, top, filter = () => true) => {
  console.log(`\n${title}\n   cpu-s     n  cpu-s/n  wall-s`);
  for (const [k, s] of [...map]
    .filter(([, s]) => filter(s))
    .sort((a, b) => b[1].cpu - a[1].cpu)
    .slice(0, top)) {
    console.log(
      `${s.cpu.toFixed(1).padStart(8)} ${String(s.n).padStart(5)} ${(s.cpu / s.n).toFixed(3).padStart(8)} ${s.wall.toFixed(1).padStart(7)}  ${k}`,
    );
  }
};
console.log(`${count} processes, ${total.toFixed(1)} CPU-s (${(total / Math.max(count, 1)).toFixed(3)} each)`);
table('per command', byVerb, 40);
table('per test file', byFile, 25);
table('one command line started 3 times or more in one file (polls?)', byLine, 25, (s) => s.n >= 3);
