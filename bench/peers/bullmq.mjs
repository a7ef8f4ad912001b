// The BullMQ side of `npm run bench -- peers` (a process of its own; protocol.mjs says how the bench drives it),
// on the redis-server at 127.0.0.1:argv[2]: starts workflows (job s1), each finished when QueueEvents reports
// its s5 job completed. The worker runs in a process of its own as ledgerflow's does (bullmq-worker.mjs, one
// Worker with concurrency argv[3]), each job's processor adding the next job s2..s5.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { serveDriver } from './protocol.mjs';

const [port, concurrency = '64'] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port) };
const worker = spawn(
  process.execPath,
  [fileURLToPath(new URL('./bullmq-worker.mjs', import.meta.url)), port, concurrency],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
process.once('exit', () => worker.kill('SIGKILL'));
await new Promise((resolve, reject) => {
  let out = '';
  worker.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    if (out.includes('ready')) resolve();
  });
  worker.once('exit', (code) => reject(new Error(`the BullMQ worker exited (${code}) before it was ready`)));
});
const queue = new Queue('wf', { connection });
const events = new QueueEvents('wf', { connection });
await events.waitUntilReady();
const waiting = new Map();
events.on('completed', ({ jobId }) => {
  if (!jobId.endsWith('-s5')) return;
  const wf = jobId.slice(0, -3);
  waiting.get(wf)?.();
  waiting.delete(wf);
});
await serveDriver({
  one: async (wf) => {
    const done = new Promise((resolve) => waiting.set(wf, resolve));
    await queue.add('s1', { wf, step: 1 }, { jobId: `${wf}-s1` });
    await done;
  },
  close: async () => {
    await Promise.allSettled([events.close(), queue.close()]);
    const gone = new Promise((r) => worker.once('exit', r));
    worker.kill('SIGTERM');
    const timer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  },
});
