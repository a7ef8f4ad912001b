/**
 * A mark of the embedded store's runs as they stand, cheap to read: the newest journal segment (name, inode, where its
 * records end, size, mtime) and how many run logs the runs folder names. Every commit is written to the journal first (journal.ts), and a
 * run archived, restored or removed changes the count (the folder's own mtime would not do: a driver's lease file
 * comes and goes there after a command's last commit); so two equal marks read apart mean no commit and no run came or
 * went between them (but for one removed by hand and another restored in between). A reader that wrote something from the store under one mark can tell,
 * by reading the mark again, whether it is still up to date (the state file, state-file/mark.ts). A mark never says
 * "unchanged" wrongly; it may say "changed" when nothing a reader shows did (a lease file made and removed).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { unlessMissing } from './durable-fs.js';
import { recordsEndSync } from './journal.js';
import { isRunId } from './common.js';

const SEGMENT = /^\d{12}\.log$/;

/** The store under `dir`'s change mark (see above). */
export async function storeChangeMark(dir: string): Promise<string> {
  return (await markAndNames(dir)).mark;
}

/**
 * The mark, and the runs' ids the runs folder held when it was read: a reader that needs both lists the folder once
 * (100,000 names take ~0.1 s to list). The folder is listed before the journal is read: a commit made after the
 * listing moves the journal's end, so an equal mark still says the listing is of the runs as they stood when the mark
 * was made.
 */
export async function storeChangeMarkListing(dir: string): Promise<{ mark: string; ids: string[] }> {
  const { mark, names } = await markAndNames(dir);
  return { mark, ids: runIdsAmong(names) };
}

async function markAndNames(dir: string): Promise<{ mark: string; names: string[] }> {
  const names = (await unlessMissing(readdir(join(dir, 'runs')))) ?? [];
  const journal = join(dir, 'journal');
  const segments = ((await unlessMissing(readdir(journal))) ?? []).filter((n) => SEGMENT.test(n)).sort();
  const newest = segments.at(-1);
  const seg = newest === undefined ? null : await unlessMissing(stat(join(journal, newest), { bigint: true }));
  let logs = 0;
  for (const n of names) if (n.endsWith('.jsonl')) logs++;
  // Where its records end, not its size: zeros are written ahead of them (journal.ts), so the size stays while they grow.
  const end = seg ? recordsEndSync(join(journal, newest!)) : null;
  const segPart = seg ? `${newest}:${seg.ino}:${end}:${seg.size}:${seg.mtimeNs}` : 'no-journal';
  return { mark: `${segPart}/${logs}`, names };
}

/** The run ids a runs folder's names hold: `<runId>.jsonl`, names that are run ids only (anything else is not a run). */
export function runIdsAmong(names: readonly string[], end = '.jsonl'): string[] {
  const ids: string[] = [];
  for (const n of names) {
    if (!n.endsWith(end)) continue;
    const id = n.slice(0, -end.length);
    if (isRunId(id)) ids.push(id);
  }
  return ids;
}
