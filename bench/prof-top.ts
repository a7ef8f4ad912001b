/**
 * The top self-time entries of a V8 .cpuprofile (what `node --cpu-prof`
 * writes), as a share of the samples that were not idle, and the inclusive
 * share of any functions named on the command line:
 *
 *   node --import tsx bench/prof-top.ts /tmp/prof/CPU…cpuprofile [--top 30] [--last s [--skip-end s]] [name …]
 *
 * --last s: only the samples of the profile's last s seconds (a phase the process ended with), but for the final
 * --skip-end seconds (its shutdown).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const file = args.shift()!;
const topAt = args.indexOf('--top');
const TOP = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
const lastAt = args.indexOf('--last');
const LAST_US = lastAt >= 0 ? Number(args.splice(lastAt, 2)[1]) * 1e6 : Infinity;
const skipAt = args.indexOf('--skip-end');
const SKIP_US = skipAt >= 0 ? Number(args.splice(skipAt, 2)[1]) * 1e6 : 0;
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
if (Number.isFinite(LAST_US)) {
  // Sample i was taken at the sum of the deltas up to it; keep those within LAST_US of the last.
  const at: number[] = [];
  let t = 0;
  for (const d of prof.timeDeltas) at.push((t += d));
  const from = t - LAST_US;
  prof.samples = prof.samples.filter((_, i) => at[i]! >= from && at[i]! <= t - SKIP_US);
}
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
for (const s of prof.samples) self.set(s, (self.get(s) ?? 0) + 1);
const idle = new Set(['(idle)', '(program)', '(garbage collector)']);
let busy = 0;
let gc = 0;
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/)?/, '')}:${n.callFrame.lineNumber + 1}`;
const bySelf = new Map<string, number>();
for (const [id, count] of self) {
  const n = byId.get(id)!;
  if (n.callFrame.functionName === '(garbage collector)') gc += count;
  if (idle.has(n.callFrame.functionName) && n.callFrame.functionName !== '(garbage collector)') continue;
  busy += count;
  bySelf.set(label(n), (bySelf.get(label(n)) ?? 0) + count);
}
console.log(`${busy} busy samples (GC ${((gc / busy) * 100).toFixed(1)}%)`);
for (const [k, v] of [...bySelf].sort((a, b) => b[1] - a[1]).slice(0, TOP))
  console.log(`${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
for (const name of args) {
  let incl = 0;
  for (const [id, count] of self) {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (byId.get(at)!.callFrame.functionName === name) {
        incl += count;
        break;
      }
    }
  }
  console.log(`inclusive ${name}: ${((incl / busy) * 100).toFixed(1)}%`);
}
