/**
 * One process of the bench's cluster: `engine <url>` or `worker <url>
 * [concurrency]`, doing what `ledgerflow engine --nats <url>` and
 * `ledgerflow worker --nats <url> --handlers <the five steps>` do (the CLI's
 * default engine options, NATS settings from the environment as the CLI
 * reads them), from the build (bench/built.mjs; the sources with LF_BENCH_SOURCES=1). It
 * prints `ready` once taking work and stops cleanly on SIGTERM.
 */
import { ClusterEngine, createWorker, natsSettings } from '../src/cluster/index.js';
import { fiveHandlers } from './kit.js';

const [role, url, concurrency] = process.argv.slice(2);
if (!url || (role !== 'engine' && role !== 'worker')) {
  console.error('usage: cluster-node.ts engine|worker <nats url> [worker concurrency]');
  process.exit(2);
}
const log = (l: string) => {
  if (process.env.BENCH_NODE_LOG) process.stderr.write(`${role} ${process.pid}: ${l}\n`);
};
const settings = natsSettings();
const part =
  role === 'engine'
    ? new ClusterEngine({
        nats: { servers: url, ...settings.store },
        settings: settings.cluster,
        snapshots: settings.snapshots,
        log,
      })
    : createWorker({
        nats: url,
        handlers: fiveHandlers(),
        settings: settings.cluster,
        concurrency: Number(concurrency ?? 64),
        log,
      });
await part.start();
process.stdout.write('ready\n');
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void part.stop().finally(() => process.exit(0));
});
