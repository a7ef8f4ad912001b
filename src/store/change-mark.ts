/**
 * A mark of the embedded store's runs as they stand, cheap to read whatever their number: the newest journal segment
 * (name, inode, size, mtime) and the runs folder (inode, mtime). Every commit is written to the journal first
 * (journal.ts), and a run made, archived, restored or removed changes the folder; so two equal marks read apart mean no
 * commit and no run came or went between them. A reader that wrote something from the store under one mark can tell,
 * by reading the mark again, whether it is still up to date (the state file, state-file/mark.ts). A mark never says
 * "unchanged" wrongly; it may say "changed" when nothing a reader shows did (a lease file made and removed).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { unlessMissing } from './durable-fs.js';

const SEGMENT = /^\d{12}\.log$/;

/** The store under `dir`'s change mark (see above). */
export async function storeChangeMark(dir: string): Promise<string> {
  const journal = join(dir, 'journal');
  const names = ((await unlessMissing(readdir(journal))) ?? []).filter((n) => SEGMENT.test(n)).sort();
  const newest = names.at(-1);
  const seg = newest === undefined ? null : await unlessMissing(stat(join(journal, newest), { bigint: true }));
  const runs = await unlessMissing(stat(join(dir, 'runs'), { bigint: true }));
  const segPart = seg ? `${newest}:${seg.ino}:${seg.size}:${seg.mtimeNs}` : 'no-journal';
  const runsPart = runs ? `${runs.ino}:${runs.mtimeNs}` : 'no-runs';
  return `${segPart}/${runsPart}`;
}
