/**
 * The archive's promise under kill -9 (docs/retention.md#what-a-crash-does): several hundred settled runs, `ledgerflow
 * archive` and `ledgerflow restore` processes SIGKILLed at random points again and again (some right as a batch
 * starts), and after each the next call's recovery: every run is then in exactly one place (its live log or the
 * archive's index), reads exactly as it did before anything moved, and `archive list` (its summary) counts exactly
 * what the full pass over the index counts. Seeded, so a failure repeats.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { ArchiveShards } from '../../src/store/archive/shards.js';
import { ArchiveSummary } from '../../src/store/archive/summary.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { INVOICE_YAML } from './docs-scenario.js';
import { fileFullPass } from './full-pass.js';
import { killed, killedOnceWritten, prng } from './kills.js';

const RUNS = 360;
const ROUNDS = 14;

const procs: ChildProcess[] = [];
afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

describe('archive and restore killed with SIGKILL at random points (embedded store)', () => {
  it(`${RUNS} runs: after every kill and recovery, each run is live or archived, never both nor neither, and reads as before`, async () => {
    const dir = tempDir('lf-archive-chaos-');
    const storeDir = join(dir, 'store');
    const { definition } = parseDefinition(INVOICE_YAML, 'invoice.yaml');
    const setup = new FileEventStore(storeDir);
    const engine = new Engine({ store: setup });
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i++) runIds.push((await engine.run(definition!, { amount: i }, { handlers: {} })).runId);
    const before = new Map<string, string>();
    for (const id of runIds) before.set(id, JSON.stringify(await setup.read(id)));
    await setup.close();

    const random = prng(63);
    let intentsLeft = 0;
    const outcomes: string[] = [];
    const intentLeft = () => (existsSync(join(storeDir, 'archive', 'intent.json')) ? 1 : 0);
    const archiveDir = join(storeDir, 'archive');
    const summary = new ArchiveSummary(archiveDir, new ArchiveShards(join(archiveDir, 'index')));
    let summaryCurrent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Work for the archive again: most runs brought back (uninterrupted), then a few restores killed at random.
      const live = runIds.filter((id) => existsSync(join(storeDir, 'runs', `${id}.jsonl`)));
      if (live.length < RUNS / 3) {
        const store = new FileEventStore(storeDir);
        const archived = [];
        for (const id of runIds) if (await store.archive().find(id)) archived.push(id);
        for (const id of archived.slice(0, Math.floor(archived.length * 0.7))) await store.archive().restore(id);
        await store.close();
        for (const id of archived.slice(-3)) {
          const at = Math.floor(random() * 500);
          outcomes.push(
            `restore ${await killed(procs, ['--store', storeDir, 'restore', id], at, false)} after ${at} ms`,
          );
          intentsLeft += intentLeft();
        }
      }
      // Killed at a random time, or right after a random batch's progress line (as the next batch starts), or, every
      // third round, as soon as it has written its intent (mid-move on any machine: timed kills on a loaded one can
      // all land between moves).
      const args = ['--store', storeDir, 'archive', '--older-than', '0s', '--batch', '20'];
      if (round % 3 === 1) {
        const intent = join(storeDir, 'archive', 'intent.json');
        outcomes.push(`archive ${await killedOnceWritten(procs, args, intent)} once its intent was written`);
      } else {
        const afterBatches = random() < 0.5 ? 1 + Math.floor(random() * 6) : 0;
        const at = Math.floor(afterBatches > 0 ? random() * 40 : 200 + random() * 1200);
        outcomes.push(
          `archive ${await killed(procs, args, at, afterBatches)} ${afterBatches > 0 ? `${at} ms after batch ${afterBatches}` : `after ${at} ms`}`,
        );
      }
      intentsLeft += intentLeft();

      // Recovery, as the next call does it; then every run is in exactly one place and reads as before.
      const store = new FileEventStore(storeDir);
      await store.archive().recover();
      for (const id of runIds) {
        const live = existsSync(join(storeDir, 'runs', `${id}.jsonl`));
        const archived = (await store.archive().find(id)) !== null;
        expect(
          live !== archived,
          `round ${round} (${outcomes.at(-1)}): run ${id} live ${live}, archived ${archived}`,
        ).toBe(true);
        expect(JSON.stringify(await store.read(id)), `round ${round}: run ${id} reads as before`).toBe(before.get(id));
      }
      // The summary, whether the kill left it current or `archive list` counts again, says what the full pass says.
      if (await summary.read()) summaryCurrent++;
      expect(await store.archive().periods(), `round ${round} (${outcomes.at(-1)}): archive list`).toEqual(
        await fileFullPass(storeDir),
      );
      await store.close();
    }
    // The kills landed mid-move at least once (an intent left for recovery), and some processes finished.
    expect(intentsLeft, outcomes.join('\n')).toBeGreaterThan(0);
    expect(summaryCurrent, outcomes.join('\n')).toBeGreaterThan(0);

    // Archived to the end: list is empty, archive list counts every run, each reads as before.
    const done = await cli(['--store', storeDir, 'archive', '--older-than', '0s']);
    expect(done.code, done.stderr).toBe(0);
    expect(JSON.parse((await cli(['--store', storeDir, 'list', '--json'])).stdout)).toEqual([]);
    const list = JSON.parse((await cli(['--store', storeDir, 'archive', 'list', '--json'])).stdout) as {
      periods: { runs: number }[];
    };
    expect(list.periods.reduce((n, p) => n + p.runs, 0)).toBe(RUNS);
    const store = new FileEventStore(storeDir);
    for (const id of runIds) expect(JSON.stringify(await store.read(id))).toBe(before.get(id));
    await store.close();
  }, 400_000);
});
