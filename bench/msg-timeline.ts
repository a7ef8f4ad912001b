/**
 * Where one run's time goes on the cluster path at c=1 (cluster.p50_ratio):
 * the messages that cross nats-server while a single five-step run goes from
 * start to completed, each with its time since the start as this process saw
 * it (a core subscription to `>`), by subject shape. Runs 50 one at a time
 * after a warm-up and prints the run whose latency is the median, then the
 * median gap before each position of the sequence over the runs that saw the
 * most common number of messages. This process's own delays show as gaps
 * too (a stall, then a burst at once): read the medians.
 *
 *   node --import tsx bench/msg-timeline.ts
 */
import { connect } from '@nats-io/transport-node';
import { ClusterClient } from '../src/cluster/index.js';
import { clusterRig, LogWatch } from './cluster-rig.js';
import { startBenchNats } from './nats.js';
import { def, FIVE_YAML, median } from './kit.js';

const five = def(FIVE_YAML);
const server = await startBenchNats();
const rig = await clusterRig(server, five, {});
await rig.round(200, 64);
await rig.oneAtATime(20);
const nc = await connect({ servers: server.url });
const client = new ClusterClient(server.url);
const watch = await LogWatch.open(server.url);
const shape = (s: string) =>
  s.startsWith('_INBOX.')
    ? '_INBOX.' + s.split('.')[1]!.slice(0, 6)
    : s.startsWith('$JS.ACK')
      ? '$JS.ACK'
      : s
          .replace(/\.[0-9a-zA-Z_-]{16,}/g, '.*')
          .replace(/\.\d+(?=\.|$)/g, '.N')
          .split('.')
          .slice(0, 7)
          .join('.');
let trace: { t: number; what: string; bytes: number }[] | null = null;
let t0 = 0;
nc.subscribe('>', {
  callback: (_e, m) => {
    if (trace)
      trace.push({
        t: performance.now() - t0,
        what: shape(m.subject) + (m.reply ? ` (req ${shape(m.reply)})` : ''),
        bytes: m.data.length,
      });
  },
});
await nc.flush();
const RUNS = 50;
const runs: { ms: number; trace: { t: number; what: string; bytes: number }[] }[] = [];
for (let i = 0; i < RUNS; i++) {
  trace = [];
  t0 = performance.now();
  const { runId } = await client.start(five.id, {});
  await watch.next(runId, true);
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  runs.push({ ms, trace: trace.filter((x) => x.t <= ms + 0.001) });
  trace = null;
}
const sorted = [...runs].sort((a, b) => a.ms - b.ms);
const mid = sorted[Math.floor(RUNS / 2)]!;
console.log(`p50 ${mid.ms.toFixed(2)} ms, ${mid.trace.length} messages seen before completion`);
let prev = 0;
for (const x of mid.trace) {
  console.log(
    `${x.t.toFixed(3).padStart(8)} +${(x.t - prev).toFixed(3).padStart(6)}  ${String(x.bytes).padStart(5)}B  ${x.what}`,
  );
  prev = x.t;
}
// The most common number of messages (runs that saw another number are left out of this part).
const counts = new Map<number, number>();
for (const r of runs) counts.set(r.trace.length, (counts.get(r.trace.length) ?? 0) + 1);
const len = [...counts].sort((a, b) => b[1] - a[1])[0]![0];
console.log(`\nmedian gap before each position (the ${counts.get(len)} runs with ${len} messages):`);
const same = runs.filter((r) => r.trace.length === len);
for (let i = 0; i < len; i++) {
  const gaps = same.map((r) => r.trace[i]!.t - (i === 0 ? 0 : r.trace[i - 1]!.t));
  console.log(`${String(i).padStart(3)} +${median(gaps).toFixed(3).padStart(6)}  ${same[0]!.trace[i]!.what}`);
}
await nc.close();
await client.close();
await watch.close();
await rig.close();
await server.dispose();
