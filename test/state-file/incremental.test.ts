/**
 * The live writer keeps what it built between writes (docs/state-file.md: a
 * write costs what changed): each run's block of the file, the newest settled
 * runs in order, the summaries of settled runs. Kept or not, the file must be
 * what a rebuild from the logs writes, and the YAML document it always was.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { Engine } from '../../src/local/index.js';
import {
  buildProjection,
  RunEntries,
  RunSummaries,
  shownRuns,
  STATE_FILE_HEADER,
  StateFileWriter,
} from '../../src/state-file/index.js';
import { FileEventStore, observedStore } from '../../src/store/index.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/cli.js';
import { def } from '../helpers/engine.js';

const STEPS = def(`
workflow:
  id: two-steps
  name: Two steps
  input: { required: [i] }
  tasks:
    - { id: first, type: SIMPLE }
    - { id: sign_off, type: HUMAN, depends_on: [first] }
`);
const handlers = { first: async (input: unknown) => ({ got: input, quoted: 'a: "b"\n#c' }) };

describe('the state file, built incrementally', () => {
  it('is byte for byte a rebuild as runs (none observed: as if another process made them) start, settle and are deleted', async () => {
    const dir = tempDir('lf-sf-incr-');
    const store = new FileEventStore(join(dir, 'store'));
    const engine = new Engine({ store });
    const entries = new RunEntries();
    const summaries = new RunSummaries();
    const live = async () => (await buildProjection(store, 3, entries, undefined, summaries)).text;
    const rebuild = async () => (await buildProjection(store, 3)).text;
    const waiting: string[] = [];
    for (let i = 0; i < 6; i++) waiting.push((await engine.run(STEPS, { i }, { handlers })).runId);
    expect(await live()).toBe(await rebuild());
    // Settling one at a time: the newest three settled are kept in order as they come.
    for (const id of waiting.slice(0, 5)) {
      await engine.decide(id, 'sign_off', 'approved', 'alice');
      expect(await live()).toBe(await rebuild());
    }
    const text = await live();
    const doc = parse(text) as Record<string, { status: string }>;
    // Each run's block on its own is the one YAML document the whole file always was.
    expect(text).toBe(STATE_FILE_HEADER + stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 }));
    expect(
      Object.values(doc)
        .map((e) => e.status)
        .sort(),
    ).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'WAITING']);
    // The newest settled ones deleted from the store: the file ranks the rest again.
    for (const id of waiting.slice(3, 5)) await rm(join(dir, 'store', 'runs', `${id}.jsonl`));
    expect(await live()).toBe(await rebuild());
    expect(Object.keys(parse(await live()) as object).sort()).toEqual(
      [waiting[0], waiting[1], waiting[2], waiting[5]].sort(),
    );
    await store.close();
  });

  it('keeps the newest settled runs as shownRuns picks them from all, whatever order they settle in', async () => {
    const summaries = new RunSummaries();
    const runs = Array.from({ length: 40 }, (_, i) => ({
      runId: `r${String(i).padStart(2, '0')}`,
      workflowId: 'w',
      version: 1,
      status: i % 7 === 0 ? 'RUNNING' : 'COMPLETED',
      startedAt: '2026-01-01T00:00:00.000Z',
      completedAt: i % 7 === 0 ? null : `2026-01-01T00:00:${String(i % 13).padStart(2, '0')}.000Z`,
      lastSeq: 2,
    })) as never[];
    const store = { listRuns: async () => runs } as never;
    const shown = await summaries.shown(store, 5);
    const ids = (xs: { runId: string }[]) => xs.map((r) => r.runId).sort();
    expect(ids(shown)).toEqual(ids(shownRuns(runs, 5)));
  });
});

describe('the live writer under a steady load of its own', () => {
  it('shows a run another process made while this one keeps writing (it lists the store again once another process wrote)', async () => {
    const dir = tempDir('lf-sf-foreign-');
    const mine = new FileEventStore(join(dir, 'store'));
    const theirs = new FileEventStore(join(dir, 'store')); // another process's store on the same folder
    const path = join(dir, '.3ox', 'workflow.state.yaml');
    const writer = new StateFileWriter(mine, {
      path,
      keep: 5,
      warn: (m) => {
        throw new Error(m);
      },
      intervalMs: 20,
    });
    const engine = new Engine({ store: observedStore(mine, [writer]) });
    const quick = def(`
workflow:
  id: quick
  tasks:
    - { id: first, type: SIMPLE }
`);
    let busy = true;
    const load = (async () => {
      while (busy)
        await Promise.all(
          Array.from({ length: 8 }, () => engine.run(quick, {}, { handlers: { first: async () => ({}) } })),
        );
    })();
    try {
      await waitFor('this process writing the file', () => existsSync(path));
      const { runId } = await new Engine({ store: theirs }).run(STEPS, { i: 1 }, { handlers });
      await waitFor(`${runId} (the other process's) in the file`, () => readFileSync(path, 'utf8').includes(runId), {
        timeout: 20_000,
      });
      expect(busy).toBe(true);
    } finally {
      busy = false;
      await load;
      await writer.close();
      await theirs.close();
      await mine.close();
    }
  });
});
