/**
 * What one message hand-over costs on this machine, the unit the cluster
 * path's goals are made of (bench/RESULTS.md, "where the per-run goals stop"):
 * a request to another Node process and its reply (what an offer or a report
 * is, with no work at either end), and a JetStream publish with its ack
 * (what a commit is, with none of its checks), on a nats-server this script
 * starts. For each: the median time one at a time, and the CPU of all three
 * processes (this one, the responder, nats-server) per message, one at a
 * time and 64 in flight (ten times as many messages).
 *
 *   node --import tsx bench/hop-cost.ts [messages]   (default 1,000)
 */
import { fork } from 'node:child_process';
import { connect } from '@nats-io/transport-node';
import { cpuOf, fmt, median } from './kit.js';
import { startBenchNats } from './nats.js';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';

if (process.argv[2] === 'responder') {
  const nc = await connect({ servers: process.argv[3]! });
  nc.subscribe('hop.echo', { callback: (_e, m) => void m.respond(m.data) });
  await nc.flush();
  process.send!('ready');
} else {
  const n = Number(process.argv[2] ?? 1000);
  const server = await startBenchNats();
  const responder = fork(new URL(import.meta.url).pathname, ['responder', server.url], {
    execArgv: ['--import', 'tsx'],
  });
  try {
    await new Promise((resolve, reject) => {
      responder.once('message', resolve);
      responder.once('exit', reject);
    });
    const nc = await connect({ servers: server.url, noAsyncTraces: true });
    const js = jetstream(nc);
    await (await jetstreamManager(nc)).streams.add({ name: 'HOP', subjects: ['hop.log.>'] });
    const body = new Uint8Array(300);
    const kinds: Record<string, () => Promise<unknown>> = {
      'request to another Node process, and its reply': () => nc.request('hop.echo', body),
      'JetStream publish and its ack': () => js.publish('hop.log.x', body),
    };
    const pids = [process.pid, responder.pid!, server.pid];
    for (let round = 1; round <= 2; round++) {
      for (const [name, once] of Object.entries(kinds)) {
        const times: number[] = [];
        let cpu = cpuOf(pids)!;
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          await once();
          times.push(performance.now() - t);
        }
        const oneCpu = (cpuOf(pids)! - cpu) / n / 1000;
        cpu = cpuOf(pids)!;
        // Ten times as many in flight: /proc counts CPU in 10 ms ticks.
        const batches = Math.ceil((10 * n) / 64);
        for (let i = 0; i < batches; i++) await Promise.all(Array.from({ length: 64 }, once));
        const manyCpu = (cpuOf(pids)! - cpu) / (batches * 64) / 1000;
        console.log(
          `round ${round}, ${name}: ${fmt(median(times), 3)} ms one at a time (median); CPU of the three processes per message ${fmt(oneCpu, 3)} ms one at a time, ${fmt(manyCpu, 3)} ms 64 in flight`,
        );
      }
    }
    await nc.close();
  } finally {
    responder.kill();
    await server.dispose();
  }
}
