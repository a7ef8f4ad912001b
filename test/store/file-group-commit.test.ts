/**
 * The file store's group commit: appends of many runs share the journal's
 * fdatasync (journal.ts, group-commit.ts), none is acknowledged before one
 * that began after it was made has finished, a conflict or a duplicate in a
 * batch touches only its own append, a failed sync fails its whole batch and
 * leaves nothing, and the journal puts back what a run log lacks after a
 * crash (journal-recovery.ts). The journal's syncs are watched (and made to
 * fail) by wrapping node:fs/promises.
 */
import { mkdtempSync } from 'node:fs';
import { appendFile, open as openFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppendConflictError, StoreError } from '../../src/errors/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { BOOT, encodeRecord, recordsEndSync } from '../../src/store/journal.js';
import { ev, evs, outcome } from './helpers.js';

const journalSyncs = vi.hoisted(() => ({ log: [] as { done: boolean }[], failNext: 0 }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (path, ...rest) => {
    const fh = await real.open(path, ...rest);
    if (/journal[\\/]\d+\.log$/.test(String(path))) {
      const datasync = fh.datasync.bind(fh);
      Object.assign(fh, {
        datasync: async () => {
          const entry = { done: false };
          journalSyncs.log.push(entry);
          if (journalSyncs.failNext > 0) {
            journalSyncs.failNext--;
            throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', syscall: 'fdatasync' });
          }
          await datasync();
          entry.done = true;
        },
      });
    }
    return fh;
  };
  return { ...real, open, default: { ...real, open } };
});

const dirs: string[] = [];
const stores: FileEventStore[] = [];
afterEach(async () => {
  journalSyncs.failNext = 0;
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lf-group-'));
  dirs.push(dir);
  return dir;
}
function open(dir: string): FileEventStore {
  const s = new FileEventStore(dir);
  stores.push(s);
  return s;
}
const logOf = (dir: string, runId: string) => join(dir, 'runs', `${runId}.jsonl`);
const segments = async (dir: string) => (await readdir(join(dir, 'journal'))).filter((n) => n.endsWith('.log')).sort();
/** A lock file as a process on this host that has since died leaves it (kill -9 while it held the writer lock). */
async function leaveDeadLock(dir: string): Promise<void> {
  const deadPid = await new Promise<number>((res) => {
    const c = spawn(process.execPath, ['-e', '']);
    c.on('exit', () => res(c.pid!));
  });
  const ns = await import('node:fs').then((fs) => fs.readlinkSync('/proc/self/ns/pid'));
  await writeFile(
    join(dir, 'journal', 'writer.lock'),
    JSON.stringify({
      pid: deadPid,
      time: new Date().toISOString(),
      host: (await import('node:os')).hostname(),
      pidns: ns,
    }),
  );
}

describe('file store: group commit', () => {
  it("acknowledges appends of many runs made at once only after a journal sync begun after them, keeps every run's commits in order, and shares syncs between runs", async () => {
    const dir = newDir();
    const store = open(dir);
    const runs = Array.from({ length: 24 }, (_, i) => `run-${i}`);
    const commits = 8;
    const unsyncedAcks: string[] = [];
    const before = journalSyncs.log.length;
    await Promise.all(
      runs.map(async (runId) => {
        for (let s = 1; s <= commits; s++) {
          const startedBefore = journalSyncs.log.length;
          const r = await store.append({ runId, expectedSeq: s - 1, dedupId: `${runId}/${s}`, events: [ev(runId, s)] });
          expect(outcome(r)).toEqual({ firstSeq: s, lastSeq: s, duplicate: false });
          if (!journalSyncs.log.slice(startedBefore).some((sync) => sync.done)) unsyncedAcks.push(`${runId}/${s}`);
        }
      }),
    );
    expect(unsyncedAcks).toEqual([]);
    const syncs = journalSyncs.log.length - before;
    expect(syncs).toBeLessThan((runs.length * commits) / 4);
    const fresh = open(dir);
    for (const runId of runs) expect(await fresh.read(runId)).toEqual(evs(runId, 1, commits));
  });

  it('fails only the conflicting append of a batch: the other runs in it are written, a duplicate gets its original seqs', async () => {
    const dir = newDir();
    const store = open(dir);
    for (const runId of ['a', 'b', 'c'])
      await store.append({ runId, expectedSeq: 0, dedupId: `${runId}/1`, events: [ev(runId, 1)] });
    const before = journalSyncs.log.length;
    // Made in one tick: one batch, one sync.
    const results = await Promise.allSettled([
      store.append({ runId: 'a', expectedSeq: 0, dedupId: 'a/late', events: [ev('a', 1)] }),
      store.append({ runId: 'b', expectedSeq: 1, dedupId: 'b/2', events: [ev('b', 2)] }),
      store.append({ runId: 'c', expectedSeq: 1, dedupId: 'c/2', events: [ev('c', 2)] }),
      store.append({ runId: 'c', expectedSeq: 0, dedupId: 'c/1', events: [ev('c', 1)] }),
      store.append({ runId: 'b', expectedSeq: 1, dedupId: 'b/2', events: [ev('b', 2)] }),
    ]);
    expect(journalSyncs.log.length - before).toBe(1);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: expect.any(AppendConflictError) });
    expect((results[0] as PromiseRejectedResult).reason.meta).toEqual({ runId: 'a', expectedSeq: 0, actualSeq: 1 });
    expect(results.slice(1).map((r) => r.status === 'fulfilled' && outcome(r.value))).toEqual([
      { firstSeq: 2, lastSeq: 2, duplicate: false },
      { firstSeq: 2, lastSeq: 2, duplicate: false },
      { firstSeq: 1, lastSeq: 1, duplicate: true },
      { firstSeq: 2, lastSeq: 2, duplicate: true },
    ]);
    const fresh = open(dir);
    expect(await fresh.read('a')).toEqual([ev('a', 1)]);
    expect(await fresh.read('b')).toEqual(evs('b', 1, 2));
    expect(await fresh.read('c')).toEqual(evs('c', 1, 2));
  });

  it('rejects every append of a batch whose journal sync fails, and writes nothing of them: not to the logs, not for a recovery to put back', async () => {
    const dir = newDir();
    const store = open(dir);
    await store.append({ runId: 'old', expectedSeq: 0, dedupId: 'old/1', events: [ev('old', 1)] });
    journalSyncs.failNext = 1;
    const results = await Promise.allSettled([
      store.append({ runId: 'x', expectedSeq: 0, dedupId: 'x/1', events: evs('x', 1, 2) }),
      store.append({ runId: 'y', expectedSeq: 0, dedupId: 'y/1', events: [ev('y', 1)] }),
      store.append({ runId: 'old', expectedSeq: 1, dedupId: 'old/2', events: [ev('old', 2)] }),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(StoreError);
      expect(((r as PromiseRejectedResult).reason as Error).message).toMatch(
        /cannot append to the journal .*EIO.*; nothing was recorded/,
      );
    }
    expect((await readdir(join(dir, 'runs'))).sort()).toEqual(['old.jsonl']);
    expect(await store.read('old')).toEqual([ev('old', 1)]);

    // Even a recovery (the next writer finds the lock of a dead one) finds nothing of them in the journal.
    await store.close();
    await leaveDeadLock(dir);
    const next = open(dir);
    await next.append({ runId: 'z', expectedSeq: 0, dedupId: 'z/1', events: [ev('z', 1)] });
    expect(await next.read('x')).toEqual([]);
    expect(await next.read('y')).toEqual([]);
    expect(await next.read('old')).toEqual([ev('old', 1)]);
    // Nothing of them was recorded, their dedup ids included: the same appends are new appends now.
    expect(outcome(await next.append({ runId: 'x', expectedSeq: 0, dedupId: 'x/1', events: evs('x', 1, 2) }))).toEqual({
      firstSeq: 1,
      lastSeq: 2,
      duplicate: false,
    });
    expect(
      outcome(await next.append({ runId: 'old', expectedSeq: 1, dedupId: 'old/2', events: [ev('old', 2)] })),
    ).toEqual({ firstSeq: 2, lastSeq: 2, duplicate: false });
  });

  it('puts back, before writing on, a commit its writer synced to the journal but died before adding to the log (whole, or cut short)', async () => {
    const dir = newDir();
    const store = open(dir);
    await store.append({ runId: 'r1', expectedSeq: 0, dedupId: 'r1/1', events: [ev('r1', 1)] });
    await store.append({ runId: 'r2', expectedSeq: 0, dedupId: 'r2/1', events: [ev('r2', 1)] });
    await store.close();
    // What a writer killed between the journal's sync and the logs' writes leaves: the records, one log without its line, one with part of it.
    const line = (runId: string) =>
      Buffer.from(JSON.stringify({ dedupId: `${runId}/2`, events: [ev(runId, 2)] }) + '\n');
    const size = async (runId: string) => (await readFile(logOf(dir, runId))).length;
    const [r1At, r2At] = [await size('r1'), await size('r2')];
    const newest = join(dir, 'journal', (await segments(dir)).at(-1)!);
    // Where a writer puts them: at the end of the records, over the zeros written ahead of them.
    const fh = await openFile(newest, 'r+');
    const records = Buffer.concat([
      ...encodeRecord('C', 'r1', r1At, line('r1')),
      ...encodeRecord('C', 'r2', r2At, line('r2')),
    ]);
    await fh.write(records, 0, records.length, recordsEndSync(newest)!);
    await fh.close();
    await appendFile(logOf(dir, 'r2'), line('r2').subarray(0, 30));
    await leaveDeadLock(dir);

    const warnings: string[] = [];
    const next = new FileEventStore(dir, { onWarning: (m) => warnings.push(m) });
    stores.push(next);
    const err = await next
      .append({ runId: 'r1', expectedSeq: 1, dedupId: 'r1/other', events: [ev('r1', 2)] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppendConflictError);
    expect((err as AppendConflictError).meta).toMatchObject({ actualSeq: 2 });
    expect(await next.read('r1')).toEqual(evs('r1', 1, 2));
    expect(await next.read('r2')).toEqual(evs('r2', 1, 2));
    // The line cut short was this very line: completed, not kept as torn.
    expect(await next.tornTail('r2')).toBeNull();
    expect(warnings).toEqual(["the file store's journal put back 2 commit lines its run logs lacked after a crash"]);
    // A retry of the commit the dead writer never acknowledged is a duplicate, not a second copy.
    expect(outcome(await next.append({ runId: 'r1', expectedSeq: 1, dedupId: 'r1/2', events: [ev('r1', 2)] }))).toEqual(
      { firstSeq: 2, lastSeq: 2, duplicate: true },
    );
  });

  it('after a reboot, puts back on the first read the acknowledged lines a log lost with the page cache, and starts a journal of this boot', async () => {
    const dir = newDir();
    const store = open(dir);
    for (let s = 1; s <= 3; s++)
      await store.append({ runId: 'r1', expectedSeq: s - 1, dedupId: `r1/${s}`, events: [ev('r1', s)] });
    await store.close();
    // The power went: the log kept its first line only, the journal (synced) all three, written in a boot that is over.
    const firstLine = (await readFile(logOf(dir, 'r1'), 'utf8')).split('\n')[0]!;
    await truncate(logOf(dir, 'r1'), Buffer.byteLength(firstLine) + 1);
    const [only] = await segments(dir);
    const path = join(dir, 'journal', only!);
    const text = await readFile(path, 'utf8');
    expect(text.split('\n')[0]).toContain(BOOT);
    await writeFile(path, text.replace(BOOT, 'a-boot-before-this-one'));

    const reader = new FileEventStore(dir, { onWarning: () => undefined });
    stores.push(reader);
    expect(await reader.read('r1')).toEqual(evs('r1', 1, 3));
    expect(await reader.lastSeq('r1')).toBe(3);
    const now = await segments(dir);
    expect(now).toHaveLength(1);
    expect(now[0]! > only!).toBe(true);
    expect((await readFile(join(dir, 'journal', now[0]!), 'utf8')).split('\n')[0]).toContain(BOOT);
  });

  it('opens a store written before the journal existed: reads its logs and appends to them', async () => {
    const dir = newDir();
    await rm(join(dir, 'runs'), { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'runs'), { recursive: true }));
    await writeFile(logOf(dir, 'old'), JSON.stringify({ dedupId: 'old/1', events: evs('old', 1, 2) }) + '\n');
    const store = open(dir);
    expect(await store.read('old')).toEqual(evs('old', 1, 2));
    expect(
      outcome(await store.append({ runId: 'old', expectedSeq: 2, dedupId: 'old/3', events: [ev('old', 3)] })),
    ).toEqual({ firstSeq: 3, lastSeq: 3, duplicate: false });
    expect(await open(dir).read('old')).toEqual(evs('old', 1, 3));
    expect(await segments(dir)).toHaveLength(1);
  });
});
