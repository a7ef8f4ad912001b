/**
 * The file store's pipelined group commit (group-commit.ts): the next
 * batch's journal write and sync start while the previous batch's sync is
 * under way. What must still hold: nothing is acknowledged before a sync
 * begun after it was written has finished, batches finish in order, a sync
 * that fails takes with it every batch written after it (nothing of them
 * recorded, not for a recovery either), and a writer killed with batches in
 * flight loses only unacknowledged commits and leaves every log whole.
 * The journal's syncs are held (and made to fail) by wrapping node:fs/promises.
 */
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tmpdir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StoreError } from '../../src/errors/index.js';
import { FileEventStore } from '../../src/store/index.js';
import { waitFor } from '../helpers/wait.js';
import { ev, outcome } from './helpers.js';

const syncs = vi.hoisted(() => ({
  log: [] as { done: boolean; failed: boolean }[],
  failNext: 0,
  /** While set, journal syncs wait for it before they go to the disk. */
  gate: null as Promise<void> | null,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (path, ...rest) => {
    const fh = await real.open(path, ...rest);
    if (/journal[\\/]\d+\.log$/.test(String(path))) {
      const datasync = fh.datasync.bind(fh);
      Object.assign(fh, {
        datasync: async () => {
          const entry = { done: false, failed: false };
          syncs.log.push(entry);
          const fail = syncs.failNext > 0;
          if (fail) syncs.failNext--;
          if (syncs.gate) await syncs.gate;
          if (fail) {
            entry.failed = true;
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

const REPO = resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
const stores: FileEventStore[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  syncs.failNext = 0;
  syncs.gate = null;
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
function newDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lf-pipeline-'));
  dirs.push(dir);
  return dir;
}
function open(dir: string): FileEventStore {
  const s = new FileEventStore(dir, { onWarning: () => undefined });
  stores.push(s);
  return s;
}
/**
 * A writer that has held the lock for 200 ms lets it go once its batches in
 * flight are done (another process's turn), and starts no batch meanwhile: on
 * a loaded machine the syncs held below would then wait for each other. The
 * writer's clock stands still in these tests (it is only read for that).
 */
function stopTheWritersClock(): void {
  const now = Date.now();
  vi.spyOn(Date, 'now').mockReturnValue(now);
}
function gate(): () => void {
  let open!: () => void;
  syncs.gate = new Promise<void>((r) => {
    open = r;
  });
  return () => {
    syncs.gate = null;
    open();
  };
}
const nextTurn = () => new Promise<void>((r) => setImmediate(r));
const append = (s: FileEventStore, runId: string, seq: number) =>
  s.append({ runId, expectedSeq: seq - 1, dedupId: `${runId}/${seq}`, events: [ev(runId, seq)] });
/** A lock file as a process on this host that has since died leaves it (kill -9 while it held the writer lock). */
async function leaveDeadLock(dir: string): Promise<void> {
  const deadPid = await new Promise<number>((res) => {
    const c = spawn(process.execPath, ['-e', '']);
    c.on('exit', () => res(c.pid!));
  });
  const ns = await import('node:fs').then((fs) => fs.readlinkSync('/proc/self/ns/pid'));
  await writeFile(
    join(dir, 'journal', 'writer.lock'),
    JSON.stringify({ pid: deadPid, time: new Date().toISOString(), host: hostname(), pidns: ns }),
  );
}

describe('file store: pipelined group commit', () => {
  it("starts the next batch's sync while the previous one's is under way, and acknowledges each only after its own sync, in order", async () => {
    stopTheWritersClock();
    const store = open(newDir());
    await append(store, 'warm', 1);
    const release = gate();
    const before = syncs.log.length;
    const acks: string[] = [];
    const a = append(store, 'a', 1).then(() => acks.push('a'));
    await waitFor('the first batch to sync', () => syncs.log.length > before);
    await nextTurn();
    const b = append(store, 'b', 1).then(() => acks.push('b'));
    // The second batch is written and syncing before the first sync has finished.
    await waitFor('the second batch to sync', () => syncs.log.length > before + 1);
    expect(syncs.log.slice(before).map((s) => s.done)).toEqual([false, false]);
    await nextTurn();
    expect(acks).toEqual([]);
    release();
    await Promise.all([a, b]);
    expect(acks).toEqual(['a', 'b']);
    expect(await open(store.dir).read('b')).toEqual([ev('b', 1)]);
  });

  it("a run's next append waits for its batch in flight, and goes in a later one", async () => {
    const store = open(newDir());
    await append(store, 'r', 1);
    const release = gate();
    const before = syncs.log.length;
    const second = append(store, 'r', 2);
    await waitFor('its batch to sync', () => syncs.log.length > before);
    await nextTurn();
    // A retry of the same commit while it is in flight: no second copy, the same seqs.
    const retry = append(store, 'r', 2);
    await nextTurn();
    expect(syncs.log.length).toBe(before + 1);
    release();
    expect(outcome(await second)).toEqual({ firstSeq: 2, lastSeq: 2, duplicate: false });
    expect(outcome(await retry)).toEqual({ firstSeq: 2, lastSeq: 2, duplicate: true });
    expect((await readFile(join(store.dir, 'runs', 'r.jsonl'), 'utf8')).trimEnd().split('\n')).toHaveLength(2);
  });

  it('a sync that fails fails the batch written after it too: nothing of either is recorded, not even for a recovery', async () => {
    const dir = newDir();
    stopTheWritersClock();
    const store = open(dir);
    await append(store, 'old', 1);
    const release = gate();
    syncs.failNext = 1;
    const before = syncs.log.length;
    const first = append(store, 'x', 1).catch((e: unknown) => e);
    await waitFor('the first batch to sync', () => syncs.log.length > before);
    await nextTurn();
    const second = append(store, 'old', 2).catch((e: unknown) => e);
    await waitFor('the second batch to sync', () => syncs.log.length > before + 1);
    release();
    for (const err of [await first, await second]) {
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toMatch(/cannot append to the journal .*EIO.*; nothing was recorded/);
    }
    expect(syncs.log.slice(before, before + 2).map((s) => s.failed)).toEqual([true, false]); // then the sync of the cut
    expect((await readdir(join(dir, 'runs'))).sort()).toEqual(['old.jsonl']);
    expect(await store.read('old')).toEqual([ev('old', 1)]);
    // The store goes on: the next append is written where the failed ones were cut.
    expect(outcome(await append(store, 'y', 1))).toEqual({ firstSeq: 1, lastSeq: 1, duplicate: false });

    await store.close();
    vi.restoreAllMocks();
    await leaveDeadLock(dir);
    const next = open(dir);
    await append(next, 'z', 1);
    expect(await next.read('x')).toEqual([]);
    expect(await next.read('old')).toEqual([ev('old', 1)]);
    expect(await next.read('y')).toEqual([ev('y', 1)]);
    expect(outcome(await append(next, 'old', 2))).toEqual({ firstSeq: 2, lastSeq: 2, duplicate: false });
  });

  it('a writer killed (kill -9) with batches in flight loses only what it had not acknowledged, and leaves every log whole and unforked', async () => {
    const dir = newDir();
    const runs = 16;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO, 'test/store/fixtures/pipeline-writer.ts'), dir, String(runs)],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const acked = new Map<string, number>();
    let lines = 0;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines++;
      const [, runId, seq] = l.split(' ');
      if (runId && seq) acked.set(runId, Math.max(acked.get(runId) ?? 0, Number(seq)));
    });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    await waitFor('the writer to acknowledge a few hundred commits', () => lines > 400 || child.exitCode !== null, {
      timeout: 60_000,
    });
    child.kill('SIGKILL');
    await exited;

    const store = open(dir);
    // The next writer finds the dead one's lock and first puts back what the journal holds and a log lacks (never acknowledged, so allowed).
    await append(store, 'after', 1);
    for (let r = 0; r < runs; r++) {
      const runId = `k${r}`;
      const seqs = (await store.read(runId)).map((e) => e.seq);
      // Whole and in order (a forked or torn log does not read like this), holding every acknowledged commit.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(seqs.length).toBeGreaterThanOrEqual(acked.get(runId) ?? 0);
      expect(await store.tornTail(runId)).toBeNull();
      // A retry of the last commit is a duplicate; the run goes on after it.
      const last = seqs.length;
      if (last > 0)
        expect(outcome(await append(store, runId, last))).toEqual({ firstSeq: last, lastSeq: last, duplicate: true });
      expect(outcome(await append(store, runId, last + 1))).toEqual({
        firstSeq: last + 1,
        lastSeq: last + 1,
        duplicate: false,
      });
    }
  }, 90_000);
});
