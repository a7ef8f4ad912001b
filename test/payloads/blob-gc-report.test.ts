/**
 * `blob gc --json` names at most PAYLOAD_GC_LIST_MAX blobs (docs/language.md, large payloads): with more unreferenced
 * bodies than that, the counts and bytes cover every one, `collected` names the first PAYLOAD_GC_LIST_MAX and
 * `truncated` says so; every one is deleted all the same. On NATS the same report is one reply from the engines
 * (test/authority/nats-upkeep-levels.test.ts), or the engine user's own pass (here).
 */
import { describe, expect, it } from 'vitest';
import { PAYLOAD_GC_LIST_MAX } from '../../src/executor/index.js';
import { FileEventStore, JetStreamEventStore, type EventStore } from '../../src/store/index.js';
import { cli, tempDir, type CliResult } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const MORE = PAYLOAD_GC_LIST_MAX + 15;

/** MORE bodies no run refers to, of distinct sizes: their bytes in all. */
async function orphans(store: EventStore): Promise<number> {
  let bytes = 0;
  const blobs = store.blobs!();
  for (let i = 0; i < MORE; i += 64)
    await Promise.all(
      Array.from({ length: Math.min(64, MORE - i) }, (_, k) => {
        const body = new TextEncoder().encode(JSON.stringify({ orphan: i + k, pad: 'x'.repeat(i + k) }));
        bytes += body.length;
        return blobs.put(body, 'application/json');
      }),
    );
  return bytes;
}

async function collectsEveryOne(lf: (...args: string[]) => Promise<CliResult>, bytes: number): Promise<void> {
  const dry = await lf('blob', 'gc', '--grace', '0s', '--dry-run', '--json');
  expect(dry.code, dry.stderr).toBe(0);
  const report = JSON.parse(dry.stdout) as Record<string, unknown> & { collected: unknown[] };
  expect(Object.keys(report).sort()).toEqual(
    ['bytes', 'collected', 'collectedCount', 'corrupt', 'corruptCount', 'deleted', 'kept', 'truncated', 'young'].sort(),
  );
  expect(report).toMatchObject({ collectedCount: MORE, bytes, truncated: true, deleted: false, corruptCount: 0 });
  expect(report.collected).toHaveLength(PAYLOAD_GC_LIST_MAX);

  const gc = await lf('blob', 'gc', '--grace', '0s');
  expect(gc.code, gc.stderr).toBe(0);
  expect(gc.stdout).toContain(`${MORE} unreferenced blobs (${bytes.toLocaleString('en-US')} bytes) deleted`);
  const after = JSON.parse((await lf('blob', 'gc', '--grace', '0s', '--json')).stdout) as Record<string, unknown>;
  expect(after).toMatchObject({ collected: [], collectedCount: 0, bytes: 0, truncated: false });
}

describe('blob gc names a bounded number of blobs and counts them all', () => {
  it(`embedded store: ${MORE} unreferenced bodies counted and deleted, ${PAYLOAD_GC_LIST_MAX} named`, async () => {
    const dir = tempDir('lf-blob-gc-report-');
    const store = new FileEventStore(dir);
    const bytes = await orphans(store);
    await store.close();
    await collectsEveryOne((...args) => cli(['--store', dir, ...args]), bytes);
  }, 30_000);
});

describe.skipIf(noNats)('blob gc names a bounded number of blobs and counts them all (NATS)', () => {
  const c = useCluster();

  it(`the engine user's own pass: ${MORE} counted and deleted, ${PAYLOAD_GC_LIST_MAX} named`, async () => {
    const store = new JetStreamEventStore({ servers: c.url });
    const bytes = await orphans(store);
    await store.close();
    await collectsEveryOne((...args) => cli(['--nats', c.url, ...args]), bytes);
  }, 60_000);
});
