/**
 * What a start and serve's pick-up of it read of a store, against the runs it holds (issue 65: starts cost the same on
 * a store of 100,000 waiting runs as on an empty one). Structural, never timed: every directory listed and every run
 * file opened or stat'ed through node:fs/promises is counted by the run it names; a start, and serve taking up a run
 * another process started, touch that run alone (no listing of runs/, no other run's log), however many are held.
 */
import { basename, dirname, join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { Service, type ServiceNotice } from '../../src/service/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

// Listings of runs/ and the runs whose files were opened or stat'ed (the follower's fallback poll, a sync stat of each
// parked run's log now and then, is not counted: it is spread over periods and does not come with a start).
const touched = vi.hoisted(() => ({ listings: 0, runs: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const note = (path: unknown) => {
    const p = String(path);
    if (basename(dirname(p)) !== 'runs') return;
    const m = /^(.+)\.(jsonl|driver)$/.exec(basename(p));
    if (m) touched.runs.push(m[1]!);
  };
  const counted =
    <F extends (...a: never[]) => unknown>(f: F, listing = false) =>
    (...a: Parameters<F>) => {
      if (listing && basename(String(a[0])) === 'runs') touched.listings++;
      else note(a[0]);
      return f(...a);
    };
  const wrapped = {
    readdir: counted(fs.readdir, true),
    open: counted(fs.open),
    stat: counted(fs.stat),
    readFile: counted(fs.readFile),
  };
  return { ...fs, ...wrapped, default: { ...fs, ...wrapped } };
});

const approval = def(`
workflow:
  id: start-cost
  version: 1
  tasks:
    - { id: breath, type: WAIT, duration: 10ms }
    - { id: sign_off, type: HUMAN, approvers: [alice], depends_on: [breath] }
`);

const HELD = 60;

/** A store of HELD runs waiting on an approval (the log one run leaves there, under other ids, as bench scale fills it). */
async function waitingStore(): Promise<{ dir: string; engine: Engine; ids: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'lf-start-cost-'));
  const store = new FileEventStore(dir);
  onTestFinished(() => store.close());
  const engine = new Engine({ store });
  const made = await engine.run(approval, {}, { handlers: {}, follow: false });
  expect(made.status).toBe('WAITING');
  const template = readFileSync(join(dir, 'runs', `${made.runId}.jsonl`), 'utf8');
  const ids = Array.from({ length: HELD }, (_, i) => `held${i}`);
  for (const id of ids) writeFileSync(join(dir, 'runs', `${id}.jsonl`), template.split(made.runId).join(id));
  return { dir, engine, ids: [made.runId, ...ids] };
}

/** The runs touched other than `runId` and the ids of its chain (`<id>--2`, … : caller-ids.ts looks them up). */
const others = (runId: string) => touched.runs.filter((r) => r !== runId && !r.startsWith(`${runId}--`));

describe(`starts on a store of ${HELD} waiting runs`, () => {
  it('a start under a caller-chosen id touches its own run alone, and a second start of the id is still refused', async () => {
    const { engine } = await waitingStore();
    touched.listings = 0;
    touched.runs.length = 0;
    const started = await engine.startRun(approval, {}, { runId: 'fresh' });
    expect(started.existing).toBe(false);
    expect(touched.listings).toBe(0);
    expect(others('fresh')).toEqual([]);
    // The id's uniqueness is the store's: the same id again returns the run that has it, writing nothing.
    const again = await engine.startRun(approval, {}, { runId: 'fresh' });
    expect(again).toMatchObject({ runId: 'fresh', existing: true });
    expect(others('fresh')).toEqual([]);
  });

  it("serve takes up a run another process started by reading that run alone: no scan, no other run's log", async () => {
    const { dir, engine, ids } = await waitingStore();
    const driving = new Set<string>();
    // No rescan after the first: the run started below is found by the watch of runs/ and nothing else.
    const service = new Service({
      engine,
      storeDir: dir,
      handlers: {},
      rescanMs: 3_600_000,
      onNotice: (n: ServiceNotice) => {
        if (n.kind === 'run.driving' && n.runId) driving.add(n.runId);
      },
    });
    onTestFinished(() => service.stop().then(() => undefined));
    expect(await service.start()).toBe(true);
    await waitFor('every waiting run taken up', () => ids.every((id) => driving.has(id)), { timeout: 30_000 });
    await waitFor('every waiting run parked', () => service.parkedCount === ids.length);
    // Each parked run's follow reads its log once to catch up: done once two looks 100 ms apart see no new read.
    let seen = -1;
    await waitFor(
      'the take-up done reading',
      () => {
        const now = touched.runs.length;
        const quiet = now === seen;
        seen = now;
        return quiet;
      },
      { interval: 100 },
    );
    // Another process's start: its own store and engine on the same directory.
    const other = new FileEventStore(dir);
    onTestFinished(() => other.close());
    const starter = new Engine({ store: other });
    for (const runId of ['late1', 'late2', 'late3']) {
      touched.listings = 0;
      touched.runs.length = 0;
      await starter.startRun(approval, {}, { runId });
      await waitFor(`serve takes up ${runId}`, () => driving.has(runId), { timeout: 10_000 });
      expect(touched.listings).toBe(0);
      expect(others(runId)).toEqual([]);
    }
  }, 60_000);
});
