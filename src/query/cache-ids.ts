/**
 * The index cache's ids line (version 7), `{"ids":[...]}` between the runs' lines and the trailer: every run id the
 * cache holds a line for. A page read from the cache's end (cache-tail.ts) answers on a busy store from it: when runs/
 * changed since the cache's listing (a run made, a lease taken: its mtime moves every second under `serve`), a listing
 * of runs/ against these ids names the runs made or removed since, and only the made ones are read. Without it, every
 * change sent the page to the whole look, a stat and a parse of every run (4.3 s at 100,000 runs against 0.2 s).
 */
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { RUN_ID_PATTERN } from '../events/index.js';

/** Runs made since the cache's listing that a page reads itself; more, and the whole look (which writes the cache) answers. */
export const MAX_MADE = 256;
/** How old runs/'s mtime must be for a listing to vouch for it: far past a timestamp's tick, so no file made after the listing shares it. */
export const DIR_SETTLE_MS = 2_000;

/** The ids line of a cache holding lines for `ids`. */
export const idsLine = (ids: readonly string[]): Uint8Array => Buffer.from(`${JSON.stringify({ ids })}\n`);

/** The ids an ids line holds (null: not one that checks). */
export function idsOf(line: Uint8Array): string[] | null {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8'));
  } catch {
    return null;
  }
  const ids = (raw as { ids?: unknown } | null)?.ids;
  return Array.isArray(ids) && ids.every((id) => typeof id === 'string') ? (ids as string[]) : null;
}

/** What changed in runs/ since a cache holding `known` was written: runs made since, and runs removed since. */
export interface ListingChanges {
  made: string[];
  gone: Set<string>;
}

/** runs/ listed now against `known` (null: more than MAX_MADE runs made since, or no runs/). */
export function listingChanges(runsDir: string, known: readonly string[]): ListingChanges | null {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return null;
  }
  const listed = new Set<string>();
  for (const n of names) {
    if (!n.endsWith('.jsonl')) continue; // leases, locks, torn tails
    const id = n.slice(0, -'.jsonl'.length);
    if (RUN_ID_PATTERN.test(id)) listed.add(id);
  }
  const gone = new Set<string>();
  for (const id of known) if (!listed.delete(id)) gone.add(id);
  if (listed.size > MAX_MADE) return null;
  return { made: [...listed], gone };
}

/**
 * `<cache>.listed`: the mtime of runs/ at which a reader found its listing to be the cache's ids exactly (nothing made
 * or removed since), for the cache file it names (inode, size, mtime). A later reader that finds runs/ at that mtime
 * needs no listing, as with the trailer's own (cache-tail.ts); without it a cache written while runs/ was young (every
 * store just filled) sent every `list` and `stats` to the listing until the next whole look.
 */
interface Listed {
  ino: number;
  size: number;
  mtimeMs: number;
  dirMtimeMs: number;
}

const listedFile = (cacheFile: string) => `${cacheFile}.listed`;
const sameCache = (l: Listed, c: { ino: number; size: number; mtimeMs: number }) =>
  l.ino === c.ino && l.size === c.size && l.mtimeMs === c.mtimeMs;

/** The mtime of runs/ a reader vouched for with this cache file (null: none, or one of another file). */
export function listedDirMtime(
  cacheFile: string,
  cache: { ino: number; size: number; mtimeMs: number },
): number | null {
  let l: Partial<Listed>;
  try {
    l = JSON.parse(readFileSync(listedFile(cacheFile), 'utf8')) as Partial<Listed>;
  } catch {
    return null; // none yet, or one half written by hand: the listing answers
  }
  return typeof l.dirMtimeMs === 'number' && sameCache(l as Listed, cache) ? l.dirMtimeMs : null;
}

/** Records that runs/, at `dirMtimeMs` (read before its listing), listed the cache's ids exactly, once that mtime is old enough to vouch. */
export function noteListed(
  cacheFile: string,
  cache: { ino: number; size: number; mtimeMs: number },
  dirMtimeMs: number,
  now: number,
): void {
  if (now - dirMtimeMs <= DIR_SETTLE_MS) return;
  const tmp = `${listedFile(cacheFile)}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ ino: cache.ino, size: cache.size, mtimeMs: cache.mtimeMs, dirMtimeMs }));
    renameSync(tmp, listedFile(cacheFile));
  } catch {
    // A store this process may only read (or a full disk): the next reader lists runs/ again, nothing is wrong.
  }
}

/** runs/'s mtime now (null: no runs/). */
export const dirMtime = (runsDir: string): number | null =>
  statSync(runsDir, { throwIfNoEntry: false })?.mtimeMs ?? null;
