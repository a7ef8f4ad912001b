/**
 * The file store on a disk that refuses writes (ENOSPC, injected into
 * node:fs/promises and node:fs): a run whose first write fails leaves no file behind (no
 * empty log, no lock, no lease), and the error names the disk and the fix.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileEventStore } from '../../src/store/index.js';
import { recordsEndSync } from '../../src/store/journal-records.js';
import { StoreUnusableError } from '../../src/errors/index.js';
import { ev, outcome } from './helpers.js';

const failing = vi.hoisted(() => ({ files: null as RegExp | null, pathOf: new Map<number, string>() }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const refuse = async () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  };
  const open: typeof real.open = async (path, ...rest) => {
    const fh = await real.open(path, ...rest);
    failing.pathOf.set(fh.fd, String(path)); // the journal's handle is written with writeSync (below)
    // The file is made (an inode is free), its bytes are refused from the moment the disk is full: kept handles too.
    const [write, writeFile] = [fh.write.bind(fh), fh.writeFile.bind(fh)];
    const full = () => failing.files?.test(String(path)) ?? false;
    Object.assign(fh, {
      write: (...a: Parameters<typeof write>) => (full() ? refuse() : write(...a)),
      writeFile: (...a: Parameters<typeof writeFile>) => (full() ? refuse() : writeFile(...a)),
    });
    return fh;
  };
  return { ...real, open, default: { ...real, open } };
});

// The store's writer adds lines to run logs with synchronous writes: refused the same way.
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  const { pathOf } = failing;
  const openSync = ((path: Parameters<typeof real.openSync>[0], ...rest: unknown[]) => {
    const fd = (real.openSync as (...a: unknown[]) => number)(path, ...rest);
    pathOf.set(fd, String(path));
    return fd;
  }) as typeof real.openSync;
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (failing.files?.test(pathOf.get(fd) ?? ''))
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    return (real.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof real.writeSync;
  const open = ((path: Parameters<typeof real.open>[0], ...rest: unknown[]) => {
    const cb = rest.pop() as (err: NodeJS.ErrnoException | null, fd: number) => void;
    (real.open as (...a: unknown[]) => void)(path, ...rest, (err: NodeJS.ErrnoException | null, fd: number) => {
      if (!err) pathOf.set(fd, String(path));
      cb(err, fd);
    });
  }) as typeof real.open;
  return { ...real, open, openSync, writeSync, default: { ...real, open, openSync, writeSync } };
});

const dirs: string[] = [];
afterEach(async () => {
  failing.files = null;
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
function store(): { dir: string; store: FileEventStore } {
  const dir = mkdtempSync(join(tmpdir(), 'lf-enospc-'));
  dirs.push(dir);
  return { dir, store: new FileEventStore(dir) };
}

describe('file store: a write the disk refuses', () => {
  it("a run's first append: StoreUnusableError naming the full disk, and neither its empty log nor its lock is left", async () => {
    const { dir, store: s } = store();
    failing.files = /\.jsonl$/;
    const err = await s
      .append({ runId: 'run-a', expectedSeq: 0, dedupId: 'd1', events: [ev('run-a', 1)] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnusableError);
    expect((err as StoreUnusableError).code).toBe('LF_STORE_UNUSABLE');
    expect((err as Error).message).toMatch(
      /the disk is full: free space on it.*\(ENOSPC\); nothing was recorded of run run-a/,
    );
    expect(readdirSync(join(dir, 'runs'))).toEqual([]);
    expect(await s.read('run-a')).toEqual([]);
    expect(await s.listRuns()).toEqual([]);

    // Space again: the same append starts the run from scratch.
    failing.files = null;
    expect(
      outcome(await s.append({ runId: 'run-a', expectedSeq: 0, dedupId: 'd1', events: [ev('run-a', 1)] })),
    ).toEqual({ firstSeq: 1, lastSeq: 1, duplicate: false });
  });

  it('a lock whose bytes are refused is removed, not left to stand as an abandoned lock', async () => {
    const { dir, store: s } = store();
    // A lease is a link to a template holding the process's identity (lease-template.ts): its bytes are refused as well.
    // A lock's bytes are written under a name of its own, then linked to the lock's name (lock.ts): `<lock>.new-…`.
    failing.files = /\.(lock|driver|template)(\.new-\d+-[0-9a-f]+)?$/;
    await expect(s.append({ runId: 'run-b', expectedSeq: 0, dedupId: 'd1', events: [ev('run-b', 1)] })).rejects.toThrow(
      /cannot create lock .*writer\.lock: the disk is full/,
    );
    await expect(s.leaseRun('run-b')).rejects.toBeInstanceOf(StoreUnusableError);
    expect(readdirSync(join(dir, 'runs'))).toEqual([]);
    expect(readdirSync(join(dir, 'journal'))).toEqual([]);
    expect(readdirSync(join(dir, 'locks'))).toEqual([]);
  });

  it("a later append that fails keeps the run's committed lines (its log is not removed)", async () => {
    const { dir, store: s } = store();
    await s.append({ runId: 'run-c', expectedSeq: 0, dedupId: 'd1', events: [ev('run-c', 1)] });
    failing.files = /\.jsonl$/;
    await expect(s.append({ runId: 'run-c', expectedSeq: 1, dedupId: 'd2', events: [ev('run-c', 2)] })).rejects.toThrow(
      /the disk is full/,
    );
    failing.files = null;
    expect((await s.read('run-c')).map((e) => e.seq)).toEqual([1]);
    expect(readdirSync(join(dir, 'runs'))).toEqual(['run-c.jsonl']);
  });

  it("a journal write the disk refuses is cut off, and the commits after it write the journal's zeros ahead again", async () => {
    const { dir, store: s } = store();
    await s.append({ runId: 'run-d', expectedSeq: 0, dedupId: 'd1', events: [ev('run-d', 1)] });
    const [segment] = readdirSync(join(dir, 'journal')).map((f) => join(dir, 'journal', f));
    failing.files = /journal/;
    await expect(s.append({ runId: 'run-d', expectedSeq: 1, dedupId: 'd2', events: [ev('run-d', 2)] })).rejects.toThrow(
      /cannot append to the journal.*the disk is full/,
    );
    failing.files = null;
    await s.append({ runId: 'run-d', expectedSeq: 1, dedupId: 'd2', events: [ev('run-d', 2)] });
    expect((await s.read('run-d')).map((e) => e.seq)).toEqual([1, 2]);
    // Zeros follow the records again (a sync overwrites them instead of growing the file: docs/architecture-notes.md).
    const end = recordsEndSync(segment!)!;
    expect(statSync(segment!).size).toBeGreaterThan(end);
    await s.close();
  });
});
