/**
 * The file store's readOn (port.ts): a run's log read on from the cursor an earlier read of it ended at, so a reader
 * that keeps a run's fold (the run page's) reads only the lines appended since. The mark is a copy of that cursor; a
 * log that is not the file the cursor read (another inode: archived and restored), is shorter than it (cut short), or
 * whose bytes at the cursor do not continue the lines read (written again) answers null: the caller reads it whole.
 */
import { CorruptRunError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { assertRunId } from './common.js';
import { newCursor, type Cursor } from './cursor.js';
import { statOrNull } from './durable-fs.js';
import type { ReadMark, ReadOn } from './port.js';

interface FileMark extends ReadMark {
  readonly of: 'file';
  readonly cursor: Cursor;
}

/** The file store's read of a run's log stat'ed at `known`, from a cursor it advances (FileEventStore.readStatted). */
type ReadStatted = (known: { size: number; ino: number }, from: Cursor) => Promise<EventEnvelope[]>;

/** readOn of the run whose log is at `path`. */
export async function readOnFile(
  runId: string,
  path: string,
  from: ReadMark | null,
  read: ReadStatted,
): Promise<ReadOn | null> {
  assertRunId(runId);
  const st = await statOrNull(path);
  if (!st) return null;
  const was = from?.of === 'file' ? (from as FileMark).cursor : undefined;
  if (from && (!was || was.ino !== st.ino || was.offset > st.size)) return null;
  // A copy: the mark given stays where it was (a caller may read on from it again).
  const cursor: Cursor = was ? { ...was } : newCursor(st.ino);
  try {
    const events = await read({ size: st.size, ino: st.ino }, cursor);
    const mark: FileMark = { of: 'file', cursor };
    return { events, mark };
  } catch (err) {
    if (was && err instanceof CorruptRunError) return null; // not the lines read before: read whole, which reports it
    throw err;
  }
}
