/**
 * The embedded store at the scale users reach: several hundred runs committing at once through one engine
 * (docs/library-api.md's `startRun` then `drive`). Every run's log holds its own events and nothing else,
 * and every run replays. The group commit writes a batch of runs while only some of their logs are kept
 * open (open-logs.ts: 1,024 at most): a log closed while another run of the batch is about to write it must
 * never have its descriptor number reused for another run's line. More runs than that are driven here, so
 * logs are closed as on a store with many runs committing (kills.test.ts drives the same under `ulimit -n 48`).
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, FileEventStore, parseDefinition, replayRun } from '../../../src/index.js';
import { foreignLines } from './foreign-lines.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const { definition } = parseDefinition(`workflow:
  id: two-steps
  tasks:
    - { id: first, type: SIMPLE }
    - { id: second, type: SIMPLE, depends_on: [first] }
`);
/** More than the logs kept open (open-logs.ts KEPT, 1,024), so that some are closed while others are written. */
const RUNS = 1_200;
const handlers = { first: async () => ({ n: 1 }), second: async () => ({ n: 2 }) };

describe('several hundred runs committing at once on the embedded store', () => {
  it('startRun 1,200 runs, drive them all at once: every log holds only its own run, and every run completes and replays', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'lf-many-'));
    dirs.push(storeDir);
    const store = new FileEventStore(storeDir);
    const engine = createEngine({ store, storeDir });
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) ids.push((await engine.startRun(definition!, {}, { runId: `order-${i}` })).runId);
    const driven = await Promise.allSettled(ids.map((id) => engine.drive(id, { handlers })));
    expect(driven.filter((d) => d.status === 'rejected')).toEqual([]);
    expect(driven.map((d) => (d.status === 'fulfilled' ? d.value.status : d.reason))).toEqual(
      ids.map(() => 'COMPLETED'),
    );
    await store.close();

    const { foreign, lines } = await foreignLines(storeDir);
    expect(foreign).toEqual([]);
    expect(lines).toBeGreaterThan(RUNS);
    const reopened = new FileEventStore(storeDir);
    const again = createEngine({ store: reopened, storeDir });
    for (const id of ids) {
      const events = await again.events(id);
      expect(events.every((e) => e.runId === id)).toBe(true);
      const report = replayRun(events);
      expect([report.view.status, report.divergence]).toEqual(['COMPLETED', null]);
    }
    await reopened.close();
  }, 120_000);
});
