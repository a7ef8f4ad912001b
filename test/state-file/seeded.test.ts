/**
 * docs/state-file.md, "After a crash": a process that opens a store whose state file was written whole from it, with
 * nothing committed since, starts from what the file shows (the record kept in `<store>/state-files/`) instead of
 * reading every run's log, and what it writes is still byte for byte what a rebuild from the logs writes: after its own
 * commits, after another process's, and after the newest settled runs are deleted (then it lists the store whole).
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { buildProjection, StateFileWriter } from '../../src/state-file/index.js';
import { FileEventStore, observedStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';

const STEPS = def(`
workflow:
  id: two-steps
  input: { required: [i] }
  tasks:
    - { id: first, type: SIMPLE }
    - { id: sign_off, type: HUMAN, depends_on: [first] }
`);
const handlers = { first: async () => ({ ok: true }) };
const KEEP = 5;

/** A process on the store: its store, counted reads of run summaries, and its state file's writer. */
function processOn(dir: string, path: string) {
  const store = new FileEventStore(join(dir, 'store'));
  const reads = { summaries: 0, listings: 0 };
  const summary = store.summary.bind(store);
  store.summary = (runId) => {
    reads.summaries++;
    return summary(runId);
  };
  const listRuns = store.listRuns.bind(store);
  store.listRuns = (filter) => {
    reads.listings++;
    return listRuns(filter);
  };
  const writer = new StateFileWriter(store, { path, keep: KEEP, warn: (m) => expect.fail(m) });
  writer.catchUp();
  const engine = new Engine({ store: observedStore(store, [writer]) });
  const close = async () => {
    await writer.close();
    await store.close();
  };
  return { store, reads, writer, engine, close };
}

describe('a state file found current when a process opens the store', () => {
  it('is not rebuilt from every log, and what the process writes is what a rebuild writes', async () => {
    const dir = tempDir('lf-sf-seed-');
    const path = join(dir, '.3ox', 'workflow.state.yaml');
    const rebuild = async (store: FileEventStore) => (await buildProjection(store, KEEP)).text;

    // 60 runs, 50 of them settled, by a process that keeps the file.
    const first = processOn(dir, path);
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) ids.push((await first.engine.run(STEPS, { i }, { handlers })).runId);
    for (const id of ids.slice(0, 50)) await first.engine.decide(id, 'sign_off', 'approved', 'alice');
    await first.close();

    // A reader: nothing to write, and no run's log read to know it.
    const reader = processOn(dir, path);
    await reader.writer.flush();
    expect(reader.reads).toEqual({ summaries: 0, listings: 0 });
    expect(readFileSync(path, 'utf8')).toBe(await rebuild(reader.store));
    await reader.close();

    // A process that approves one run: it reads the runs not settled (10), not the 50 settled.
    const approver = processOn(dir, path);
    await approver.engine.decide(ids[55]!, 'sign_off', 'approved', 'alice');
    await approver.writer.flush();
    expect(approver.reads.listings).toBe(0);
    expect(approver.reads.summaries).toBeLessThanOrEqual(10);
    expect(readFileSync(path, 'utf8')).toBe(await rebuild(approver.store));

    // Another process's run meanwhile, then the newest settled deleted: still what a rebuild writes.
    const other = new FileEventStore(join(dir, 'store'));
    const { runId } = await new Engine({ store: other }).run(STEPS, { i: 99 }, { handlers });
    await other.close();
    await approver.engine.decide(ids[56]!, 'sign_off', 'approved', 'alice');
    await approver.writer.flush();
    const text = readFileSync(path, 'utf8');
    expect(text).toContain(runId);
    expect(text).toBe(await rebuild(approver.store));
    for (const id of [ids[55]!, ids[56]!]) await rm(join(dir, 'store', 'runs', `${id}.jsonl`));
    await approver.engine.decide(ids[57]!, 'sign_off', 'approved', 'alice');
    await approver.writer.flush();
    expect(readFileSync(path, 'utf8')).toBe(await rebuild(approver.store));
    await approver.close();
  }, 60_000);
});
