// The BullMQ side of `npm run bench -- peers`, a process of its own as ledgerflow's worker is: one Worker,
// `concurrency` jobs at a time; a workflow is five chained jobs s1..s5, each job's processor adding the next
// (as an engine hands the next step on). Prints `ready` once it takes jobs; stops on SIGTERM.
import { Queue, Worker } from 'bullmq';

const [port, concurrency] = process.argv.slice(2);
const connection = { host: '127.0.0.1', port: Number(port) };
const queue = new Queue('wf', { connection });
const worker = new Worker(
  'wf',
  async (job) => {
    const { wf, step } = job.data;
    if (step < 5) await queue.add(`s${step + 1}`, { wf, step: step + 1 }, { jobId: `${wf}-s${step + 1}` });
    return { step: `s${step}` };
  },
  { connection, concurrency: Number(concurrency ?? 64) },
);
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void Promise.allSettled([worker.close(), queue.close()]).finally(() => process.exit(0));
});
