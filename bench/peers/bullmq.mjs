// The driver of the BullMQ peer (bench/peers.ts loads it from here, where `bullmq` resolves): starts
// workflows (job s1) `concurrency` at a time, each next one when one finishes, a workflow finished when
// QueueEvents reports its s5 job completed. The worker runs in its own process (bullmq-worker.mjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';

export async function openBullmq({ port, concurrency = 64 }) {
  const connection = { host: '127.0.0.1', port };
  const worker = spawn(process.execPath, [fileURLToPath(new URL('./bullmq-worker.mjs', import.meta.url)), String(port), String(concurrency)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = () => worker.kill('SIGKILL');
  process.once('exit', kill);
  await new Promise((resolve, reject) => {
    let out = '';
    worker.stdout.setEncoding('utf8').on('data', (d) => { out += d; if (out.includes('ready')) resolve(); });
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
  let tag = 0;
  const one = async (wf) => {
    const done = new Promise((resolve) => waiting.set(wf, resolve));
    await queue.add('s1', { wf, step: 1 }, { jobId: `${wf}-s1` });
    await done;
  };
  return {
    pid: worker.pid,
    /** Workflows/s of `workflows` workflows, `inFlight` at a time. */
    async round(workflows, inFlight) {
      const r = tag++;
      let next = 0;
      const t = performance.now();
      await Promise.all(Array.from({ length: Math.min(inFlight, workflows) }, async () => {
        while (next < workflows) await one(`w${r}-${next++}`);
      }));
      return workflows / ((performance.now() - t) / 1000);
    },
    async close() {
      await Promise.allSettled([events.close(), queue.close()]);
      const gone = new Promise((r) => worker.once('exit', r));
      worker.kill('SIGTERM');
      const timer = setTimeout(() => worker.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
      process.off('exit', kill);
    },
  };
}
