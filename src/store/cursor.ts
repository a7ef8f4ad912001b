/**
 * Where a reader is in a run file of the file store (jsonl.ts reads it). Its own module, with no node: types in it, so
 * the store's entry can export it (the run index keeps one per followed run) without the package's types needing
 * @types/node where a user's project has none.
 */

/** Where a reader is in a run file; advanced only past complete lines. */
export interface Cursor {
  /** Inode of the file the cursor belongs to: a deleted and recreated file starts over. */
  ino: number;
  /** Byte offset just after the last complete line consumed. */
  offset: number;
  /** Number of lines consumed (for error messages). */
  line: number;
  /** Seq of the last event consumed; 0 before the first line. */
  lastSeq: number;
}

export function newCursor(ino = 0): Cursor {
  return { ino, offset: 0, line: 0, lastSeq: 0 };
}
