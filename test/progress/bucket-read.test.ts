/**
 * NATS: a run's progress read once (`status`, the first event of the dashboard's progress stream) while attempts end
 * around it. Reading a run's keys as its attempt's value is removed hung about one read in ten (the KV client's key
 * listing waited for ever), and the dashboard's stream then sent nothing at all. Every read must answer within a few
 * seconds, with the value when it is there.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ProgressBucket } from '../../src/cluster/transport/progress-bucket.js';
import type { LiveProgress } from '../../src/progress/index.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const value = (runId: string, fraction: number): LiveProgress => ({
  runId,
  task: 'scan',
  instance: 'scan',
  attempt: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  fraction,
  message: `scanned ${Math.round(fraction * 10)} of 10 invoices`,
  at: new Date().toISOString(),
});

describe.skipIf(noNats)('NATS: a run’s progress read as attempts end', () => {
  const c = useCluster();

  it('every read answers within seconds while values are put and removed around it', async () => {
    const nc = await c.admin();
    await ProgressBucket.ensure(await c.jsm());
    const bucket = new ProgressBucket(nc);
    const tag = randomBytes(4).toString('hex');
    // Other runs' attempts report and end all the time (a busy cluster).
    let busy = true;
    const others = (async () => {
      for (let i = 0; busy; i++) {
        const v = value(`o${tag}${i % 20}`, (i % 10) / 10);
        await bucket.put(v);
        if (i % 3 === 0) await bucket.remove(v);
        if (i % 5 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const slow: string[] = [];
    try {
      for (let k = 0; k < 40; k++) {
        const runId = `r${tag}${k}`;
        const mine = value(runId, 0.4);
        await bucket.put(mine);
        // The attempt ends within moments of the read: its value removed as the keys are listed.
        const removed = new Promise<void>((r) => setTimeout(() => void bucket.remove(mine).then(r), k % 7));
        const began = Date.now();
        const read = await Promise.race([
          bucket.read(runId),
          new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
        ]);
        const ms = Date.now() - began;
        if (read === 'hung' || ms > 5000) slow.push(`read ${k}: ${read === 'hung' ? 'no answer in 10 s' : `${ms} ms`}`);
        else for (const v of read) expect(v).toMatchObject({ runId, fraction: 0.4 });
        await removed;
      }
    } finally {
      busy = false;
      await others;
    }
    expect(slow).toEqual([]);
    // A run whose value stays is read with it.
    const kept = value(`k${tag}`, 0.7);
    await bucket.put(kept);
    await nc.flush();
    expect(await bucket.read(kept.runId)).toMatchObject([{ runId: kept.runId, fraction: 0.7 }]);
  }, 120_000);
});
