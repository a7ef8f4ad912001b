/**
 * FileProgressChannel.watch(): a run's progress files pushed to a reader as they change, not read on a timer. One
 * fs.watch of the run's folder (armed when the folder appears: a watch of `<store>/progress/` sees it made) tells of a
 * change at once; as fs.watch misses changes on some file systems (network mounts), a slow poll looks too. Each look is
 * cheap (a readdir and a stat per file); the files are read and parsed only when a name, a size or a time changed.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProgressListener } from './channel.js';
import type { LiveProgress } from './value.js';

/** The fallback poll's period: fs.watch tells of a change at once where it works. */
export const PROGRESS_FALLBACK_POLL_MS = 2000;
/** How long after an fs.watch event the folder is looked at (a rename's events come in twos). */
const SETTLE_MS = 10;

export function watchFolder(
  root: string,
  runFolder: string,
  read: () => Promise<LiveProgress[]>,
  onChange: ProgressListener,
  pollMs = PROGRESS_FALLBACK_POLL_MS,
): () => void {
  const folder = join(root, runFolder);
  let stopped = false;
  let shown: string | null | undefined;
  let looking = false;
  let again = false;
  let soon: ReturnType<typeof setTimeout> | undefined;
  let own: FSWatcher | undefined;
  let parent: FSWatcher | undefined;

  const arm = (path: string, onEvent: (name: string | null) => void): FSWatcher | undefined => {
    try {
      const w = fsWatch(path, { persistent: false }, (_e, name) => onEvent(name === null ? null : String(name)));
      w.on('error', () => {
        w.close();
        if (own === w) own = undefined;
        if (parent === w) parent = undefined;
        lookSoon();
      });
      return w;
    } catch {
      return undefined; // Not there (yet), or not watchable: the poll covers it.
    }
  };
  const lookSoon = () => {
    if (stopped || soon) return;
    soon = setTimeout(() => {
      soon = undefined;
      void look();
    }, SETTLE_MS);
  };
  const look = async () => {
    if (stopped) return;
    if (looking) {
      again = true;
      return;
    }
    looking = true;
    try {
      const mark = await signature(folder);
      // The folder's own watch, while the folder is there (it goes with its last file, and comes back).
      if (mark === null && own) {
        own.close();
        own = undefined;
      } else if (mark !== null && !own) own = arm(folder, lookSoon);
      if (mark !== shown && !stopped) {
        shown = mark;
        const values = mark === null ? [] : await read();
        if (!stopped) onChange(values);
      }
    } catch {
      // A look that failed (a file renamed away under it) is made up by the next event or poll.
    } finally {
      looking = false;
      if (again && !stopped) {
        again = false;
        lookSoon();
      }
    }
  };

  void mkdir(root, { recursive: true })
    .catch(() => undefined)
    .then(() => {
      if (stopped) return;
      parent = arm(root, (name) => {
        if (name === null || name === runFolder) lookSoon();
      });
      void look();
    });
  const poll = setInterval(() => void look(), pollMs);
  poll.unref?.();
  return () => {
    stopped = true;
    clearInterval(poll);
    if (soon) clearTimeout(soon);
    own?.close();
    parent?.close();
  };
}

/** The folder's names, sizes and times as one text (null: no folder): what changes when a file does. */
async function signature(folder: string): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return null;
  }
  const parts: string[] = [];
  for (const n of names) {
    const s = await stat(join(folder, n)).catch(() => null);
    if (s) parts.push(`${n}:${s.size}:${s.mtimeMs}:${s.ino}`);
  }
  return parts.join('\n');
}
