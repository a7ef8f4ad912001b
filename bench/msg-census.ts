/**
 * What crosses nats-server per run on the cluster path, by subject shape:
 * one core subscription to `>` sees every publish, request and reply (and
 * each JetStream delivery, under its stream subject), and which connection
 * asked (by its reply inbox's prefix: the bench client, the engine, the
 * worker). Where the messages of bench/cluster.ts's "at the server" figure
 * come from; run it before and after a change to the wire.
 *
 *   node --import tsx bench/msg-census.ts
 */
import { connect } from '@nats-io/transport-node';
import { clusterRig } from './cluster-rig.js';
import { startBenchNats } from './nats.js';
import { def, FIVE_YAML } from './kit.js';

const server = await startBenchNats();
const rig = await clusterRig(server, def(FIVE_YAML), {});
await rig.round(100, 64);
const nc = await connect({ servers: server.url });
const counts = new Map<string, number>();
const shape = (s: string) =>
  s.startsWith('_INBOX.')
    ? '_INBOX'
    : s.startsWith('$JS.API.DIRECT')
      ? s.split('.').slice(0, 6).join('.')
      : s
          .replace(/\.[0-9a-zA-Z_-]{16,}/g, '.*')
          .replace(/\.\d+(?=\.|$)/g, '.N')
          .split('.')
          .slice(0, 6)
          .join('.');
const who = new Map<string, Map<string, number>>();
nc.subscribe('>', {
  callback: (_e, m) => {
    if (m.reply?.startsWith('_INBOX.')) {
      const pre = m.reply.split('.')[1]!;
      const k0 = shape(m.subject);
      if (!who.has(k0)) who.set(k0, new Map());
      const w0 = who.get(k0)!;
      w0.set(pre.slice(0, 6), (w0.get(pre.slice(0, 6)) ?? 0) + 1);
    }
    const k = shape(m.subject) + (m.reply ? ' (req)' : '');
    counts.set(k, (counts.get(k) ?? 0) + 1);
  },
});
await nc.flush();
const RUNS = 500;
await rig.round(RUNS, 64);
await nc.flush();
let total = 0;
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1])) {
  total += v;
  console.log((v / RUNS).toFixed(2).padStart(7), k);
}
console.log((total / RUNS).toFixed(2).padStart(7), 'total');
for (const [k, v] of who) console.log(k, [...v].map(([x, n]) => `${x}:${(n / RUNS).toFixed(2)}`).join(' '));
await nc.close();
await rig.close();
await server.dispose();
