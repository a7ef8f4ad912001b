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

const SEGMENT = /^\d{12}\.log$/;

/** The store under `dir`'s change mark (see above). */
export async function storeChangeMark(dir: string): Promise<string> {
  const journal = join(dir, 'journal');
  const names = ((await unlessMissing(readdir(journal))) ?? []).filter((n) => SEGMENT.test(n)).sort();
  const newest = names.at(-1);
  const seg = newest === undefined ? null : await unlessMissing(stat(join(journal, newest), { bigint: true }));
  const runs = (await unlessMissing(readdir(join(dir, 'runs')))) ?? [];
  let logs = 0;
  for (const n of runs) if (n.endsWith('.jsonl')) logs++;
  // Where its records end, not its size: zeros are written ahead of them (journal.ts), so the size stays while they grow.
  const end = seg ? recordsEndSync(join(journal, newest!)) : null;
  const segPart = seg ? `${newest}:${seg.ino}:${end}:${seg.size}:${seg.mtimeNs}` : 'no-journal';
  return `${segPart}/${logs}`;
}
