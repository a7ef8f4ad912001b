/**
 * A page cursor's text: the listing order, start time and run id of a row, as opaque base64url JSON. Its own file
 * because both the query's parser (query.ts, which refuses a bad cursor) and paging (paging.ts) read it.
 */
import { z } from 'zod';

/** Newest first (the API) or oldest first (`list`): by start time, then run id. */
export type RunOrder = 'newest' | 'oldest';

interface CursorPosition {
  startedAt: string;
  runId: string;
  order: RunOrder;
}

export function encodeCursor(c: CursorPosition): string {
  return Buffer.from(JSON.stringify([c.order === 'newest' ? 'n' : 'o', c.startedAt, c.runId]), 'utf8').toString(
    'base64url',
  );
}

const CursorJson = z.tuple([z.enum(['n', 'o']), z.string(), z.string()]);

export function decodeCursor(text: string): CursorPosition | null {
  try {
    const parsed = CursorJson.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success
      ? { order: parsed.data[0] === 'n' ? 'newest' : 'oldest', startedAt: parsed.data[1], runId: parsed.data[2] }
      : null;
  } catch {
    return null; // not base64url JSON: the caller reports it as a bad cursor
  }
}
