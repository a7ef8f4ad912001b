/**
 * Paging over run records: the page a query's `limit`, `cursor` and `before` ask for, in start order, and the cursors
 * that name a row's position. Split from query.ts (the filters), which this applies before paging.
 */
import { compareRuns } from '../store/index.js';
import { encodeCursor, decodeCursor, type RunOrder } from './cursor.js';
import { checkWhere, FIX, matches, QueryError, searchTypesOf, type RunQuery } from './query.js';
import type { RunRecord } from './record.js';

export type { RunOrder } from './cursor.js';

export interface RunPage {
  runs: RunRecord[];
  /** Give it back as `cursor` for the next page; null on the last. */
  nextCursor: string | null;
  /** Give it back as `before` for the page before this one; null on the first. */
  prevCursor: string | null;
  /** Runs matching the filters, over every page. */
  total: number;
}

/** The page of `records` the query asks for. The cursor is opaque: the start time and run id of the page's last row. */
export function pageOf(records: Iterable<RunRecord>, q: RunQuery, order: RunOrder): RunPage {
  if (q.where !== undefined) {
    records = [...records];
    checkWhere(q.where, searchTypesOf(records));
  }
  const all: RunRecord[] = [];
  for (const r of records) if (matches(r, q)) all.push(r);
  const sign = order === 'oldest' ? 1 : -1;
  all.sort((a, b) => sign * compareRuns(a, b));
  return pageOfOrdered(all, q, order);
}

/**
 * The page the query's paging asks for, built from the rows that match (filters already applied) given one by one in
 * listing order: `cursor`, the rows after that position; `before`, the `limit` rows just before it. A position names a
 * row (start time, run id), not an offset: rows started or removed meanwhile shift no page, and both kinds work on a
 * URL opened afresh.
 */
function pageOfOrdered(rows: Iterable<RunRecord>, q: RunQuery, order: RunOrder): RunPage {
  const pager = newPager(q, order);
  for (const r of rows) pager.add(r);
  return pager.page();
}

/** pageOfOrdered as a sink (`add` each matching row in order, then `page`), for a caller's own loop. */
export function newPager<T extends { startedAt: string; runId: string } = RunRecord>(
  q: RunQuery,
  order: RunOrder,
): { add(r: T): void; page(): Omit<RunPage, 'runs'> & { runs: T[] } } {
  const sign = order === 'oldest' ? 1 : -1;
  const limit = q.limit ?? Number.POSITIVE_INFINITY;
  let total = 0;
  if (q.before !== undefined) {
    const at = positionOf(q.before, order);
    // The rows before the position come first: keep the last `limit` of them (cut in halves, not one shift per row).
    let kept: T[] = [];
    let earlier = 0;
    let later = false;
    return {
      add(r) {
        total++;
        if (sign * compareRuns(r, at) >= 0) {
          later = true;
          return;
        }
        earlier++;
        kept.push(r);
        if (kept.length >= 2 * limit) kept = kept.slice(-limit);
      },
      page() {
        const runs = kept.length > limit ? kept.slice(-limit) : kept;
        return {
          runs,
          nextCursor: later && runs.length > 0 ? pageCursor(runs.at(-1)!, order) : null,
          prevCursor: earlier > runs.length ? pageCursor(runs[0]!, order) : null,
          total,
        };
      },
    };
  }
  const after = q.cursor !== undefined ? positionOf(q.cursor, order) : null;
  const runs: T[] = [];
  let earlier = false;
  let more = false;
  return {
    add(r) {
      total++;
      // The first row past the cursor's position (a row removed meanwhile does not shift the page).
      if (after && sign * compareRuns(r, after) <= 0) {
        earlier = true;
        return;
      }
      if (runs.length < limit) runs.push(r);
      else more = true;
    },
    page: () => ({
      runs,
      nextCursor: more ? pageCursor(runs.at(-1)!, order) : null,
      prevCursor: earlier ? pageCursor(runs[0] ?? after!, order) : null,
      total,
    }),
  };
}

/** Where a cursor points (the start time and run id of the row before the page); a QueryError when it is not one of this order's. */
function positionOf(cursor: string, order: RunOrder): { startedAt: string; runId: string } {
  const after = decodeCursor(cursor);
  if (after === null || after.order !== order)
    throw new QueryError(
      'cursor',
      `cursor ${JSON.stringify(cursor)} is not a cursor of this listing: use ${FIX.cursor}`,
      cursor,
    );
  return after;
}

/** The cursor of the page that follows `last`. */
function pageCursor(last: { startedAt: string; runId: string }, order: RunOrder): string {
  return encodeCursor({ startedAt: last.startedAt, runId: last.runId, order });
}
