/**
 * Run by cold-records.test.ts in a process of its own (node --expose-gc): the heap a live file run
 * index holds for each settled run. Indexes over a small and a large store are opened one after the
 * other; the difference of the heap each adds, over the difference of their runs, is printed as JSON.
 */
import { FileEventStore } from '../../src/store/index.js';
import { FileRunIndex } from '../../src/query/index.js';

const [small, large, smallRuns, largeRuns] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc!;
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed; };
const hold = async (dir: string) => {
  const index = new FileRunIndex(new FileEventStore(dir), { live: true, pollMs: 600_000, sweepMs: 600_000 });
  if ((await index.query({ limit: 50 })).runs.length !== 50) throw new Error('held-heap: no page of 50');
  return index;
};
const base = heap();
const a = await hold(small!);
const mid = heap();
const b = await hold(large!);
const end = heap();
process.stdout.write(`${JSON.stringify({ perRun: (end - mid - (mid - base)) / (Number(largeRuns) - Number(smallRuns)), small: mid - base, large: end - mid })}\n`);
await a.close();
await b.close();
