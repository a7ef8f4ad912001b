/**
 * Whether the state file can be written where it is asked for, checked before a command stores anything (`run`,
 * `resume`, `serve`: a usage error, exit 2, rather than a run whose file is never written). The check writes what a
 * write writes first, a temporary beside the file, and removes it: not the file itself, whose first write (built from
 * every run's log, or found current: mark.ts) is the writer's.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { unlessMissing } from '../store/index.js';
import { temporaryOf } from './text.js';

/** Throws why the state file at `path` cannot be written (its folder made when missing); leaves nothing behind. */
export async function probeWritable(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  if ((await unlessMissing(stat(path)))?.isDirectory()) throw new Error(`${path} is a folder`);
  const tmp = temporaryOf(path);
  try {
    await writeFile(tmp, '');
  } finally {
    await rm(tmp, { force: true });
  }
}
