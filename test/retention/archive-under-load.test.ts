/**
 * The archive beside a busy writer (docs/retention.md): hundreds of runs of the embedded file store starting and
 * completing at once in one process while `ledgerflow archive --older-than 0s` moves settled ones, again and again,
 * from others. Afterwards every run is in exactly one place (its live log or the archive), reads exactly as it read
 * when it completed (the run API's history, and `history --json`), holds only its own events, and none is lost.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { Engine } from '../../src/local/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { cli, tempDir } from '../helpers/cli.js';

const RUNS = 320;
const LOAD_YAML = `workflow:
  id: load
  input:
    optional: [n]
  tasks:
    - { id: work, type: SIMPLE, handler: work, input: { n: "\${workflow.input.n}" } }
    - { id: book, type: SET, depends_on: [work], values: { booked: "\${work.output.n}" } }
`;

describe('archive while hundreds of runs commit (embedded store)', () => {
  it(`${RUNS} runs started and completed at once, archive rounds beside them: each run in one place, whole, as before`, async () => {
    const dir = tempDir('lf-archive-load-');
    const storeDir = join(dir, 'store');
    const { definition } = parseDefinition(LOAD_YAML, 'load.yaml');
    const store = new FileEventStore(storeDir);
    const engine = new Engine({ store });
    // Archive rounds from other processes, one after another, until the runs are done (and one more after).
    let done = false;
    let duringLoad = 0;
    // The longest runs' work also waits for a round that archived runs (a condition, not a time: on a loaded machine
    // one CLI round outlasted every run's work, and nothing was archived while others still ran).
    let archivedOnce!: () => void;
    const firstArchived = new Promise<void>((resolve) => {
      archivedOnce = resolve;
    });
    // Work of different lengths, so that runs settle all along while others start and commit.
    const handlers = {
      work: async (input: Record<string, unknown>) => {
        await new Promise((r) => setTimeout(r, (Number(input.n) % 25) * 150));
        if (Number(input.n) % 25 === 24) await firstArchived;
        return { n: input.n };
      },
    };
    const rounds: string[] = [];
    const archiver = (async () => {
      do {
        const r = await cli(['--store', storeDir, 'archive', '--older-than', '0s', '--batch', '25', '--json']);
        rounds.push(
          `${r.code}: ${r.stderr
            .split('\n')
            .filter((l) => !l.startsWith('archived'))
            .join(' ')}`,
        );
        if (r.code !== 0) return archivedOnce(); // the rounds' exit codes are checked below
        if (!done) duringLoad += (JSON.parse(r.stdout) as { archived: number }).archived;
        if (duringLoad > 0) archivedOnce();
      } while (!done);
    })();

    // Every run at once; its history (the run API's read, live or archived) kept as it reads when it completes.
    const histories = new Map<string, string>();
    const byN = new Map<number, string>();
    await Promise.all(
      Array.from({ length: RUNS }, async (_, n) => {
        const view = await engine.run(definition!, { n }, { handlers });
        expect(view.status, `run ${n}`).toBe('COMPLETED');
        histories.set(view.runId, JSON.stringify(await store.read(view.runId)));
        byN.set(n, view.runId);
      }),
    );
    done = true;
    await archiver;
    expect(
      rounds.every((r) => r.startsWith('0:')),
      rounds.join('\n'),
    ).toBe(true);
    expect(duringLoad, 'runs archived while others still ran').toBeGreaterThan(0);
    await store.close();
    // `history --json` of a few runs before the last round, as a user reads them (live or archived by now).
    const sample = [...byN.values()].slice(-3);
    const historyOf = async (id: string) => {
      const r = await cli(['--store', storeDir, 'history', id, '--json']);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout;
    };
    const before = await Promise.all(sample.map(historyOf));
    const last = await cli(['--store', storeDir, 'archive', '--older-than', '0s', '--json']);
    expect(last.code, last.stderr).toBe(0);

    const after = new FileEventStore(storeDir);
    await after.archive().recover();
    const ids = [...histories.keys()];
    expect(new Set(ids).size).toBe(RUNS);
    let archived = 0;
    for (const [n, id] of byN) {
      const live = existsSync(join(storeDir, 'runs', `${id}.jsonl`));
      const inArchive = (await after.archive().find(id)) !== null;
      expect(live !== inArchive, `run ${id}: live ${live}, archived ${inArchive}`).toBe(true);
      if (inArchive) archived++;
      const events = await after.read(id);
      expect(JSON.stringify(events), `run ${id} reads as it did when it completed`).toBe(histories.get(id));
      expect(events.map((e) => [e.runId, e.seq])).toEqual(events.map((_, i) => [id, i + 1]));
      expect(events.at(-1)!.state.status).toBe('COMPLETED');
      expect(JSON.stringify(events)).toContain(`"output":{"n":${n}}`);
    }
    expect(archived, rounds.join('\n')).toBe(RUNS); // the last round took every one left
    // Nothing but these runs anywhere: no log left behind, no stray entry in the archive.
    const logs = readdirSync(join(storeDir, 'runs')).filter((f) => f.endsWith('.jsonl'));
    for (const f of logs)
      for (const line of readFileSync(join(storeDir, 'runs', f), 'utf8')
        .split('\n')
        .filter(Boolean))
        expect(line, f).toContain(f.replace(/\.jsonl$/, ''));
    expect((await after.archive().periods()).reduce((a, p) => a + p.runs, 0)).toBe(RUNS);

    // The same `history --json` archived, and again once restored; each event as the run API read it.
    expect(await Promise.all(sample.map(historyOf))).toEqual(before);
    for (const id of sample) expect(await cli(['--store', storeDir, 'restore', id])).toMatchObject({ code: 0 });
    expect(await Promise.all(sample.map(historyOf))).toEqual(before);
    sample.forEach((id, i) => {
      const shown = JSON.parse(before[i]!) as { seq: number; type: string; data: unknown }[];
      const read = JSON.parse(histories.get(id)!) as { seq: number; type: string; data: unknown }[];
      expect(shown.map((e) => [e.seq, e.type, e.data])).toEqual(read.map((e) => [e.seq, e.type, e.data]));
    });
    await after.close();
  }, 120_000);
});
