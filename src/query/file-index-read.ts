/**
 * How the file run index (file-index.ts) reads one run whose file changed into its record: a run followed while it is
 * not settled is continued, from where the last read of its file ended and from its fold; any other is folded from its
 * whole log. Its own module so the index's looks at the files read apart from the reading of one.
 */
import { CorruptRunError } from '../errors/index.js';
import { SETTLED_STATUSES, type EventEnvelope } from '../events/index.js';
import { newCursor, type Cursor } from '../store/index.js';
import type { CacheEntry } from './cache-lines.js';
import { FileIndexCache } from './file-index-disk.js';
import { advance, RecordGapError, track, type RunRecord, type TrackedRun } from './record.js';
import type { HeldRecord } from './record-set.js';

/** A run file as stat'ed. */
export interface Stat {
  runId: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** A run not settled, followed: its fold, and where the last read of its file ended. */
interface Followed {
  run: TrackedRun;
  cursor: Cursor;
}

export abstract class FileIndexReads extends FileIndexCache {
  /** Runs not settled, with their fold and where the read of their file ended, while following: the next change continues them. */
  protected readonly tracked = new Map<string, Followed>();

  /**
   * The entry of a run whose file changed, read up to the size just stat'ed (a later append makes it stale again, never
   * wrong). A run followed here is continued from its last event, and so is a settled run whose file only grew
   * (notifications noted after it settled change nothing but its last seq: folding its whole log again would give the
   * same record); any other is folded from its whole log.
   */
  protected async readEntry(
    s: Stat,
    had: CacheEntry | undefined,
    held: HeldRecord | undefined,
    following: boolean,
  ): Promise<{ entry: CacheEntry; record: RunRecord | null } | null> {
    const entry: CacheEntry = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, corrupt: null };
    try {
      const followed = had?.ino === s.ino ? this.tracked.get(s.runId) : undefined;
      const on = followed && (await this.readOn(s, followed));
      if (on?.events.length === 0) return { entry, record: followed!.run.record }; // only a partial line: nothing new
      let cursor = on?.cursor ?? newCursor(s.ino);
      const events = on?.events ?? (await this.store.readStatted(s.runId, s, cursor));
      if (events.length === 0) return null; // empty or removed: not a run
      let run: TrackedRun | null = null;
      const t = had?.ino === s.ino ? (followed?.run ?? this.settledRun(had, held, s)) : undefined;
      // A log that ends before the run followed here was cut short: folded again from what it holds.
      if (t && events.at(-1)!.seq >= t.record.lastSeq) {
        try {
          const more = await this.folded(
            s.runId,
            events.filter((e) => e.seq > t.record.lastSeq),
          );
          run = await this.loaded(() => advance(t, more, undefined, { blind: this.blind }));
        } catch (err) {
          if (!(err instanceof RecordGapError)) throw err; // the log is not the one followed: folded again below
        }
      }
      if (!run) {
        // What was read on is not the whole log: read whole to fold it again (not met while the lines follow on).
        const whole = on ? await this.store.readStatted(s.runId, s, (cursor = newCursor(s.ino))) : events;
        const all = await this.folded(s.runId, whole);
        run = await this.loaded(() => track(all, undefined, { blind: this.blind }));
      }
      if (following && !SETTLED_STATUSES.includes(run.record.status)) this.tracked.set(s.runId, { run, cursor });
      else this.tracked.delete(s.runId);
      return { entry, record: run.record };
    } catch (err) {
      if (err instanceof CorruptRunError) {
        this.tracked.delete(s.runId);
        return { entry: { ...entry, corrupt: { file: err.where, reason: err.reason } }, record: null };
      }
      throw err;
    }
  }

  /**
   * A followed run's events since its last read, from where that read ended: a run read as it grows costs what it
   * appended, not its whole log at each look (a MAP of 2,000 items driven by the dashboard's process spent 40% of the
   * process's CPU reading its log again). Null where the file does not continue it (cut short, or rewritten in place:
   * its lines no longer follow on): read whole instead, as before.
   */
  private async readOn(
    s: Stat,
    { run, cursor }: Followed,
  ): Promise<{ events: EventEnvelope[]; cursor: Cursor } | null> {
    if (cursor.offset > s.size || cursor.lastSeq !== run.record.lastSeq) return null;
    const on = { ...cursor }; // a copy: a read that throws moves nothing
    const events = await this.store.readStatted(s.runId, s, on).catch((err: unknown) => {
      if (err instanceof CorruptRunError) return null;
      throw err;
    });
    return events && { events, cursor: on };
  }

  /** A settled run's kept record, to continue when its file (the same one) only grew: nothing is folded for it any more. */
  private settledRun(had: CacheEntry | undefined, held: HeldRecord | undefined, s: Stat): TrackedRun | undefined {
    if (!held || !had || s.size < had.size || !SETTLED_STATUSES.includes(held.status)) return undefined;
    const record = this.set.get(held.runId);
    return record && { record, compiled: null, snapshot: null, hash: '' };
  }
}
