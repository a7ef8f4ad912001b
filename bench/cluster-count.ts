/**
 * What one run of the cluster path costs the server, counted rather than
 * timed: messages persisted per five-step run in every stream and KV bucket
 * (each stream's last sequence before and after: a work queue deletes what
 * is acked, so its message count says nothing), and the c=1 latency of the
 * cluster path against the in-process Engine.run on the same server.
 *
 *   node --max-semi-space-size=64 --import tsx bench/cluster-count.ts [--runs 300] [--latency 100]
 *
 * Same rig as bench/cluster.ts (one engine, one worker, this process).
 */
import { connect } from 'nats';
import { parseDefinition } from '../src/definition/index.js';
import type { Handlers } from '../src/runtime/index.js';
import { Engine } from '../src/local/index.js';
import { JetStreamEventStore } from '../src/store/index.js';
import { ClusterClient, ClusterEngine, createWorker } from '../src/cluster/index.js';
import { startNatsServer } from '../test/helpers/nats.js';
import { FIVE_YAML } from './cluster.js';

const arg = (name: string, d: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : d; };
const RUNS = arg('--runs', 300);
const LATENCY = arg('--latency', 100);
const { definition: five } = parseDefinition(FIVE_YAML, 'bench.yaml');
if (!five) throw new Error('bad definition');
const handlers: Handlers = Object.fromEntries(['s1', 's2', 's3', 's4', 's5'].map((s) => [s, async () => ({ step: s })]));

const server = await startNatsServer();
const nc = await connect({ servers: server.url, noAsyncTraces: true });
const jsm = await nc.jetstreamManager();
const engine = new ClusterEngine({ nats: server.url });
const worker = createWorker({ nats: server.url, handlers, concurrency: 64 });
const client = new ClusterClient(server.url);
await engine.start();
await worker.start();
await client.deploy(five);
let completed = 0;
const text = new TextDecoder();
nc.subscribe('lf.events.>', { callback: (_e, m) => { if (text.decode(m.data).includes('"status":"COMPLETED"')) completed++; } });
await nc.flush();

async function lastSeqs(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const s of jsm.streams.list()) out.set(s.config.name, s.state.last_seq);
  return out;
}
async function batch(n: number, concurrency: number): Promise<number[]> {
  const target = completed + n;
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) {
      next++;
      const t = performance.now();
      const before = completed;
      await client.start(five!.id, {});
      if (concurrency === 1) {
        while (completed === before) await new Promise((r) => setImmediate(r));
        latencies.push(performance.now() - t);
      }
    }
  }));
  while (completed < target) await new Promise((r) => setTimeout(r, 2));
  return latencies;
}
const settle = async () => { await new Promise((r) => setTimeout(r, 1500)); };

try {
  await batch(100, 64);
  await settle();
  const before = await lastSeqs();
  await batch(RUNS, 64);
  await settle();
  const after = await lastSeqs();
  const rows = [...after].map(([name, seq]) => [name, (seq - (before.get(name) ?? 0)) / RUNS] as const).filter(([, n]) => n > 0);
  const total = rows.reduce((a, [, n]) => a + n, 0);
  console.log(`persisted messages per run (${RUNS} runs, 64 at a time): ${total.toFixed(2)}`);
  for (const [name, n] of rows) console.log(`  ${name.padEnd(24)} ${n.toFixed(2)}`);

  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cluster = await batch(LATENCY, 1);
  const store = new JetStreamEventStore({ servers: server.url });
  const local = new Engine({ store });
  const inProc: number[] = [];
  for (let i = 0; i < LATENCY; i++) {
    const t = performance.now();
    const view = await local.run(five, {}, { handlers });
    if (view.status !== "COMPLETED") throw new Error(`in-process run ${view.status}`);
    inProc.push(performance.now() - t);
  }
  await store.close();
  console.log(`c=1 p50: cluster ${p50(cluster).toFixed(2)} ms, in-process Engine.run on the same server ${p50(inProc).toFixed(2)} ms = ${(p50(cluster) / p50(inProc)).toFixed(2)}×`);
} finally {
  await worker.stop();
  await engine.stop();
  await client.close();
  await nc.close();
  await server.dispose();
}
