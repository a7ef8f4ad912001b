/**
 * What `watch` (live.ts) concludes of a run only from its log as it stands now, not as it was when last read: a run that
 * moves on, or settles, right after the watch read it (a driver that finishes within milliseconds) is shown as it ends.
 *
 * - Runs nobody drives: asked of each watched run that has not ended, said once each time a run comes to be so. A driver
 *   that finishes a run writes its last commit and then lets its lease go, and the follower delivers that commit a moment
 *   later (a file watch, a poll): asked in between, the lease says nobody drives a run the watch still shows running. So
 *   the log as it stands is read first (`caughtUp`), and a run that settled a moment ago is shown settled, never as
 *   needing a driver.
 * - A run listed settled (`watch --workflow`, `--all`): one that settled after the watch began (a driver that finished
 *   while the watch listed the runs) is shown settled, not left out as one settled before the watch.
 * - A damaged log: the witness (the run index, the journal) may have recorded commits written after the watch read the
 *   log, which a log read before them lacks; only a log that still ends short of them is damaged.
 */
import { SETTLED_STATUSES, type EventEnvelope, type WorkflowStatus } from '../events/index.js';
import type { EventStore } from '../store/index.js';
import type { WatchedRun } from './track.js';

/** Whether a run listed settled had settled before `since` (ms): then it is not watched. */
export const settledBefore = (r: { status: WorkflowStatus; completedAt: string | null }, since: number): boolean =>
  SETTLED_STATUSES.includes(r.status) && !(r.completedAt !== null && Date.parse(r.completedAt) >= since);

/**
 * The run as its log stands now: what was written past the watched seq, handed to `fold` as the follower's events are,
 * and the fold awaited (`folded`).
 */
export async function caughtUp(
  store: Pick<EventStore, 'read'>,
  runs: ReadonlyMap<string, WatchedRun>,
  runId: string,
  fold: (runId: string, events: EventEnvelope[]) => void,
  folded: (runId: string) => Promise<void> | undefined,
): Promise<WatchedRun | undefined> {
  const had = runs.get(runId);
  if (!had) return undefined;
  const events = await store.read(runId, { fromSeq: had.view.seq + 1 });
  if (events.length > 0) fold(runId, events);
  await folded(runId);
  return runs.get(runId);
}

/** The damage `damage` finds in a run whose log was read to `seq`, asked again at the log's end while it has grown since. */
export async function damageNow(
  store: Pick<EventStore, 'lastSeq'>,
  damage: ((runId: string, seq: number) => Promise<string | null>) | undefined,
  runId: string,
  seq: number,
): Promise<string | null> {
  let damaged = (await damage?.(runId, seq)) ?? null;
  for (let end = seq; damaged !== null; ) {
    const now = await store.lastSeq(runId);
    if (now <= end) break;
    end = now;
    damaged = (await damage?.(runId, end)) ?? null;
  }
  return damaged;
}

export interface DriverCheckOptions {
  /** The words to say when no process drives the run (null: one does). */
  undriven: (runId: string, view: WatchedRun['view']) => Promise<string | null>;
  runs: ReadonlyMap<string, WatchedRun>;
  /** The statuses that end a run's watch. */
  ends: (status: WorkflowStatus) => boolean;
  finished: () => boolean;
  /** The run with what its log holds past what the watch has folded, folded in (undefined: no longer watched). */
  caughtUp: (runId: string) => Promise<WatchedRun | undefined>;
  /** Keeps the run as it is now. */
  set: (run: WatchedRun) => void;
  /** Says what changed: a frame is redrawn (`redraw`), else a line is written (plain or JSON). */
  mode: 'frame' | 'plain' | 'json';
  write: (text: string) => void;
  redraw: () => void;
  fail: (err: unknown) => void;
}

/** One round over the watched runs; a round asked for while one is under way is skipped. */
export function driverChecks(o: DriverCheckOptions): () => Promise<void> {
  let checking = false;
  return async () => {
    if (checking || o.finished()) return;
    checking = true;
    try {
      for (const run of [...o.runs.values()]) {
        if (o.ends(run.view.status)) continue;
        let view = run.view;
        let text = await o.undriven(run.runId, view);
        // Nobody holds it: the log decides whether a driver finished it meanwhile (then it is not undriven but ended).
        while (text !== null) {
          const latest = await o.caughtUp(run.runId);
          if (!latest || latest.view.seq === view.seq) break;
          view = latest.view;
          text = o.ends(view.status) ? null : await o.undriven(run.runId, view);
        }
        const now = o.runs.get(run.runId);
        if (!now || o.finished() || o.ends(now.view.status) || (now.undriven ?? null) === text) continue;
        const { undriven: _, ...rest } = now;
        o.set(text === null ? rest : { ...rest, undriven: text });
        const id = now.runId;
        if (o.mode === 'frame') o.redraw();
        else if (o.mode === 'json')
          o.write(`${JSON.stringify(text === null ? { runId: id, driven: true } : { runId: id, undriven: text })}\n`);
        else o.write(`${id}  ${text ?? 'a process drives this run now'}\n`);
      }
    } catch (err) {
      o.fail(err);
    } finally {
      checking = false;
    }
  };
}
