/**
 * The state file and its worksets written whole (docs/state-file.md): each through a temporary beside it and a rename,
 * so a reader sees the old file or the new one; and what a writer killed mid-write left removed.
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pidAlive } from '../store/index.js';
import type { Projection } from './build.js';
import { TEMPORARY, temporaryOf, worksetFile, worksetsDir } from './text.js';

/** How one file is written whole. */
export type WriteText = (path: string, text: string) => Promise<void>;

/** Writes `text` to `path` through a temporary file beside it and a rename. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = temporaryOf(path);
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Writes the state file and the worksets of the runs it shows, each atomically; a workset whose text is what `last`
 * says was written is left alone, and the worksets of runs no longer shown are removed (with `last` null, every
 * `ws-*.yaml` of the folder not shown), so the folder holds what a rebuild would write. Returns what it wrote.
 */
export async function writeProjection(
  path: string,
  p: Projection,
  last: Map<string, string> | null,
  write: WriteText = writeAtomically,
): Promise<Map<string, string>> {
  const dir = worksetsDir(path);
  if (last === null) await removeStaleTemporaries(path);
  if (p.worksets.size > 0) await mkdir(dir, { recursive: true });
  for (const [runId, text] of p.worksets)
    if (last?.get(runId) !== text) await write(join(dir, worksetFile(runId)), text);
  const gone = last
    ? [...last.keys()].filter((id) => !p.worksets.has(id)).map(worksetFile)
    : (await readdir(dir).catch(() => [] as string[])).filter(
        (f) => /^ws-.+\.yaml$/.test(f) && !p.worksets.has(f.slice(3, -5)),
      );
  await Promise.all(gone.map((f) => rm(join(dir, f), { force: true })));
  // The state file last: a reader that sees it sees the worksets it names.
  await write(path, p.text);
  return new Map(p.worksets);
}

/**
 * Removes the temporaries a writer killed between its write and its rename left beside the state file and its worksets:
 * only those of the files this writer writes, and only when the process that made them is gone (a live one may be about
 * to rename its own). Done on a whole write (writeProjection with nothing known), which a process makes first.
 */
export async function removeStaleTemporaries(path: string): Promise<string[]> {
  const ours = (folder: string, name: (file: string) => boolean) =>
    readdir(folder).then(
      (names) =>
        names.flatMap((n) => {
          const m = TEMPORARY.exec(n);
          return m && name(m[1]!) && !pidAlive(Number(m[2])) ? [join(folder, n)] : [];
        }),
      () => [] as string[],
    );
  const stale = [
    ...(await ours(dirname(path), (f) => f === basename(path))),
    ...(await ours(worksetsDir(path), (f) => /^ws-.+\.yaml$/.test(f))),
  ];
  await Promise.all(stale.map((f) => rm(f, { force: true })));
  return stale;
}
