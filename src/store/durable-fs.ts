/**
 * The file-system steps the file store is durable and crash-safe with: a stat that takes a missing file as null (a run
 * not written yet), and syncing a directory so a new entry in it survives a crash. Apart from file.ts because both the
 * store and its follow() (file-follow.ts) use them.
 */
import { statSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { storeIoError } from './io-errors.js';

export async function statOrNull(path: string): Promise<{ ino: number; size: number } | null> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storeIoError(`cannot stat ${path}`, err, { file: path });
  }
}

/**
 * statOrNull without the thread pool, for the writer's check of a run log before each append: a stat of a local file is
 * a few microseconds, the trip through libuv's thread pool several times that in CPU, and the writer does one per
 * commit.
 */
export function statOrNullSync(path: string): { ino: number; size: number } | null {
  try {
    // A log not written yet (every run's first append) is no error to build and throw.
    return statSync(path, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    throw storeIoError(`cannot stat ${path}`, err, { file: path });
  }
}

/** What `p` gives, or null when the file it reads is not there (ENOENT); any other failure is thrown. */
export const unlessMissing = <T>(p: Promise<T>): Promise<T | null> =>
  p.catch((err: unknown) => ((err as NodeJS.ErrnoException).code === 'ENOENT' ? null : Promise.reject(err)));

/** Writes `text` to `path` (flags 'w': replaced, 'a': appended) and syncs it to the disk before it returns. */
export async function writeSynced(path: string, text: string, flags: 'w' | 'a' = 'w'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot fsync a directory; there is nothing more to do there.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh.close();
  }
}
