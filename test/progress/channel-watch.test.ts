/**
 * ProgressChannel.watch on both stores, through the encryption decorator as `ui` and `watch` use it: a value put is
 * pushed (its sealed message opened for a reader with the key, `[encrypted]` for one without), a later one replaces
 * it, and the attempt's end (a removed file; on NATS a DEL, or a PURGE) takes it away. On NATS, one watch is one
 * consumer on KV_LF_PROGRESS however many values come.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProgressBucket } from '../../src/cluster/transport/progress-bucket.js';
import { KeyRing, sealedProgress } from '../../src/encryption/index.js';
import {
  FileProgressChannel,
  instanceToken,
  type LiveProgress,
  type ProgressChannel,
} from '../../src/progress/index.js';
import { Kvm } from '@nats-io/kv';
import { noNats, useCluster } from '../helpers/cluster.js';
import { tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const key = randomBytes(32).toString('base64');
const withKey = new KeyRing(async (name) => (name === 'LF_DATA_KEY' ? key : undefined));
const withoutKey = new KeyRing(async () => undefined);

const value = (runId: string, fraction: number, attempt = 1): LiveProgress => ({
  runId,
  task: 'scan',
  instance: 'scan',
  attempt,
  startedAt: '2026-01-01T00:00:00.000Z',
  fraction,
  message: `scanned ${fraction * 10} of 10 invoices`,
  at: new Date().toISOString(),
});

/** Watches `runId` on `channel`; `seen` is the last values pushed. */
function watching(channel: ProgressChannel, runId: string) {
  let seen: LiveProgress[] | null = null;
  const stop = channel.watch(runId, (v) => (seen = v));
  return {
    stop,
    until: (what: string, ok: (v: LiveProgress[]) => boolean) =>
      waitFor(what, () => (seen && ok(seen) ? seen : null), { timeout: 5000, detail: () => JSON.stringify(seen) }),
  };
}

describe('the embedded store: an fs.watch of the run folder', () => {
  it('pushes each value (opened with the key), and nothing once the attempt ended', async () => {
    const dir = tempDir('lf-progress-watch-');
    const below = FileProgressChannel.under(dir);
    const channel = sealedProgress(below, withKey);
    const w = watching(channel, 'r1');
    const blind = watching(sealedProgress(below, withoutKey), 'r1');
    await w.until('the first (empty) push', (v) => v.length === 0);
    await channel.put(value('r1', 0.2));
    await w.until('0.2', (v) => v[0]?.fraction === 0.2);
    // Sealed at rest; opened for the reader with the key, shown as unreadable to the one without.
    const file = join(dir, 'progress', 'r1', readdirSync(join(dir, 'progress', 'r1'))[0]!);
    expect(readFileSync(file, 'utf8')).not.toContain('invoices');
    expect((await w.until('0.2', (v) => v.length === 1))[0]!.message).toBe('scanned 2 of 10 invoices');
    expect((await blind.until('0.2 blind', (v) => v.length === 1))[0]!.message).toBe('[encrypted]');
    await channel.put(value('r1', 0.5));
    await w.until('0.5', (v) => v[0]?.fraction === 0.5 && v[0].message === 'scanned 5 of 10 invoices');
    await channel.remove(value('r1', 0.5));
    await w.until('no value once the attempt ended', (v) => v.length === 0);
    // The folder comes back with the next attempt's value: watched again.
    await channel.put(value('r1', 0.1, 2));
    await w.until('attempt 2', (v) => v[0]?.attempt === 2);
    w.stop();
    blind.stop();
  });
});

describe.skipIf(noNats)('NATS: one KV watch of the run keys', () => {
  const c = useCluster();

  it('pushes each value (opened with the key); DEL and PURGE take it away; one consumer for it all', async () => {
    const nc = await c.admin();
    await ProgressBucket.ensure(await c.jsm());
    const channel = sealedProgress(new ProgressBucket(nc), withKey);
    const runId = `w${randomBytes(4).toString('hex')}`;
    const created: string[] = [];
    const advisories = nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.CREATED.KV_LF_PROGRESS.>', {
      callback: (_e, m) => void created.push(m.subject),
    });
    await nc.flush();
    const w = watching(channel, runId);
    const other = watching(channel, `${runId}x`);
    await w.until('the first (empty) push', (v) => v.length === 0);
    for (let i = 1; i <= 5; i++) {
      await channel.put(value(runId, i / 10));
      const seen = await w.until(`value ${i}`, (v) => v[0]?.fraction === i / 10);
      expect(seen[0]!.message).toBe(`scanned ${i} of 10 invoices`);
    }
    await channel.remove(value(runId, 0.5));
    await w.until('no value after the DEL', (v) => v.length === 0);
    await channel.put(value(runId, 0.7, 2));
    await w.until('attempt 2', (v) => v[0]?.attempt === 2);
    const kv = await new Kvm(nc).open('LF_PROGRESS');
    await kv.purge(`${runId}.${instanceToken('scan')}`);
    await w.until('no value after the PURGE', (v) => v.length === 0);
    // Another run's values are not this one's.
    const others = await other.until('the other run: none', (v) => v.length === 0);
    expect(others).toEqual([]);
    await nc.flush();
    // Two watches (this run's and the other's): nothing per value.
    expect(created.length).toBeGreaterThan(0); // the advisories are seen: the watch's own consumer
    expect(created.length).toBeLessThanOrEqual(2);
    advisories.unsubscribe();
    w.stop();
    other.stop();
  });
});
