/**
 * The file store's journal writes zeros ahead of its records (src/store/journal.ts), so that a sync overwrites bytes
 * already on disk instead of growing the file. What that must not change: every commit is found where a writer, a
 * recovery, the journal witness and the store's change mark look for it, whichever process wrote it.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileEventStore, storeChangeMark } from '../../src/store/index.js';
import { parseSegment, recordsEndSync, zerosFrom } from '../../src/store/journal.js';
import { ev, evs } from './helpers.js';

const dirs: string[] = [];
const stores: FileEventStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lf-journal-space-'));
  dirs.push(dir);
  return dir;
}
function open(dir: string, warnings?: string[]): FileEventStore {
  const s = new FileEventStore(dir, warnings ? { onWarning: (m) => warnings.push(m) } : {});
  stores.push(s);
  return s;
}
const segmentsOf = (dir: string) =>
  readdirSync(join(dir, 'journal'))
    .filter((n) => /^\d{12}\.log$/.test(n))
    .sort()
    .map((n) => join(dir, 'journal', n));
/** The commit records the journal holds, as `runId@offset`. */
const recordsOf = (dir: string) =>
  segmentsOf(dir).flatMap((p) =>
    parseSegment(readFileSync(p))
      .records.filter((r) => r.kind === 'C')
      .map((r) => `${r.runId}@${r.offset}`),
  );
const start = (s: FileEventStore, runId: string) =>
  s.append({ runId, expectedSeq: 0, dedupId: `${runId}/1`, events: [ev(runId, 1)] });
const step = (s: FileEventStore, runId: string, seq: number) =>
  s.append({ runId, expectedSeq: seq - 1, dedupId: `${runId}/${seq}`, events: [ev(runId, seq)] });

describe('the journal writes zeros ahead of its records', () => {
  it("keeps a segment's size while its records grow, and a store opened again writes on where they end", async () => {
    const dir = newDir();
    const a = open(dir);
    for (let i = 0; i < 20; i++) await start(a, `r${i}`);
    const [segment] = segmentsOf(dir);
    const size = statSync(segment!).size;
    const end = recordsEndSync(segment!)!;
    expect(end).toBeLessThan(size);
    expect(zerosFrom(readFileSync(segment!), end)).toBe(true);
    for (let i = 0; i < 20; i++) await step(a, `r${i}`, 2);
    // Forty commits later the file is as long as it was: the syncs overwrote zeros.
    expect(statSync(segment!).size).toBe(size);
    expect(recordsEndSync(segment!)!).toBeGreaterThan(end);
    await a.close();

    const b = open(dir);
    for (let i = 0; i < 20; i++) await step(b, `r${i}`, 3);
    expect(recordsOf(dir)).toHaveLength(60);
    for (let i = 0; i < 20; i++) expect(await b.read(`r${i}`)).toEqual(evs(`r${i}`, 1, 3));
  });

  it('two stores on one folder taking turns (two processes) never write a commit over the other one', async () => {
    const dir = newDir();
    const a = open(dir);
    const b = open(dir);
    // Each keeps its journal open between turns: the one that writes next sees what the other added since.
    for (let seq = 1; seq <= 6; seq++) {
      for (let i = 0; i < 10; i++) {
        const s = i % 2 === 0 ? a : b;
        await (seq === 1 ? start(s, `r${i}`) : step(s, `r${i}`, seq));
      }
    }
    expect(recordsOf(dir)).toHaveLength(60);
    for (let i = 0; i < 10; i++) {
      expect(await a.read(`r${i}`)).toEqual(evs(`r${i}`, 1, 6));
      expect(await b.read(`r${i}`)).toEqual(evs(`r${i}`, 1, 6));
    }
  });

  it('a recovery reads segments that end in zeros as whole: nothing called unreadable', async () => {
    const dir = newDir();
    const a = open(dir);
    for (let i = 0; i < 5; i++) await start(a, `r${i}`);
    await a.close();
    // An older segment, as one not yet dropped when its writer died, beside the newest; then the dead writer's lock.
    const [newest] = segmentsOf(dir);
    copyFileSync(newest!, join(dir, 'journal', '000000000000.log'));
    const deadPid = 2 ** 22 + 1; // above pid_max's default: no process has it
    const { writeFileSync, readlinkSync } = await import('node:fs');
    writeFileSync(
      join(dir, 'journal', 'writer.lock'),
      JSON.stringify({
        pid: deadPid,
        time: new Date().toISOString(),
        host: (await import('node:os')).hostname(),
        pidns: readlinkSync('/proc/self/ns/pid'),
      }),
    );
    const warnings: string[] = [];
    const b = open(dir, warnings);
    await step(b, 'r0', 2);
    expect(await b.read('r0')).toEqual(evs('r0', 1, 2));
    expect(warnings).toEqual([]);
  });

  it("the store's change mark changes with every commit, even where the file's size and time stay (coarse clocks)", async () => {
    const dir = newDir();
    const a = open(dir);
    await start(a, 'r0');
    const [segment] = segmentsOf(dir);
    const at = new Date('2026-01-01T00:00:00Z');
    utimesSync(segment!, at, at);
    const size = statSync(segment!).size;
    const before = await storeChangeMark(dir);
    await step(a, 'r0', 2);
    utimesSync(segment!, at, at);
    expect(statSync(segment!).size).toBe(size);
    expect(await storeChangeMark(dir)).not.toBe(before);
  });
});
