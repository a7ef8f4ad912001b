/**
 * The live loop of `ledgerflow watch`, at the edge: reads and follows the watched runs in a store (its `follow`, so the
 * file store and JetStream alike), finds new runs for a workflow or all (discover.ts), and shows them: redrawn frames
 * through log-update on a terminal, one plain or JSON line per event otherwise. Resolves when every watched run has
 * settled, or when `signal` aborts (Ctrl-C).
 */
import { createLogUpdate } from 'log-update';
import { errorMessage, RunNotFoundError } from '../errors/index.js';
import { limitsForView } from '../limits/index.js';
import { readWithoutKey } from '../encryption/index.js';
import { foldLoaded } from '../executor/index.js';
import { SETTLED_STATUSES, type EventEnvelope, type WorkflowStatus } from '../events/index.js';
import type { EventStore, Subscription } from '../store/index.js';
import { discoverRuns, type Discovery } from './discover.js';
import { renderFrame } from './frame.js';
import { INITIAL_KEYS, onKey, promptOf, splitKeys, type KeyState } from './keys.js';
import { renderOverview } from './overview.js';
import { jsonLine, plainLine } from './lines.js';
import { advanceRun, EventGapError, trackRun, type WatchedRun } from './track.js';
import { followProgress, type ProgressSource } from './progress-poll.js';
import { caughtUp, damageNow, driverChecks, settledBefore } from './log-now.js';

const DAMAGED = 'DAMAGED' as WorkflowStatus;

export type WatchTarget = { kind: 'run'; runId: string } | { kind: 'workflow'; workflowId: string } | { kind: 'all' };

/** Where the monitor writes: a terminal (columns/rows known) or any stream. */
export interface WatchOutput {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface WatchOptions {
  store: EventStore;
  target: WatchTarget;
  /** frame: redraw on a terminal; plain: a line per event, no escape sequences; json: a JSON line per event. */
  mode: 'frame' | 'plain' | 'json';
  out: WatchOutput;
  /** WAITING and PAUSED runs end the watch too (as `wait --or-waiting`). */
  orWaiting?: boolean;
  /** --workflow/--all: keep watching for new runs once every watched run has settled (until `signal`). */
  keepOpen?: boolean;
  /** Events shown per run (frame tail; plain/json: the recorded ones printed when a run is picked up). Default 5. */
  tail?: number;
  color?: boolean;
  /** Aborted: stop, draw the last frame, resolve. */
  signal?: AbortSignal;
  now?: () => number;
  /** Redraws per second at most, and the clock's tick (ms). */
  redrawMs?: number;
  tickMs?: number;
  pollMs?: number;
  /** The damage of a run whose log ends at `seq`, said for people (query/damage.ts); null when whole. Absent: not checked. */
  damage?: (runId: string, seq: number) => Promise<string | null>;
  /**
   * Who drives a run, asked every `driverCheckMs` (default 1 s) of each run that has not ended: the words to say when
   * no process does (the embedded store: service/driven.ts), null when one does. Said once (a line in plain and JSON
   * modes, under the run in a frame), and again if a driver that came goes away; the watch goes on either way.
   */
  undriven?: (runId: string, view: WatchedRun['view']) => Promise<string | null>;
  driverCheckMs?: number;
  /** The live progress of a run's attempts, pushed by the store's channel (progress-poll.ts), drawn at most every `progressMs` (default 250). */
  progress?: ProgressSource;
  progressMs?: number;
  /** The 3OX workflow monitor (overview.ts, keys.ts): every active run in a box, keys read from `keys`; frame mode only. */
  monitor?: MonitorOptions;
}

export interface MonitorOptions {
  /** Raw key presses (a terminal's stdin in raw mode). */
  keys: {
    on(event: 'data', listener: (d: Buffer | string) => void): unknown;
    off(event: 'data', listener: (d: Buffer | string) => void): unknown;
  };
  /** Pauses or cancels a run as `ledgerflow pause` / `cancel` would; resolves to the line to show. */
  act(action: 'pause' | 'cancel', runId: string): Promise<string>;
  /** The median duration (ms) of each workflow's past COMPLETED runs, for the ETA (read again on [R]efresh). */
  medians(): Promise<Map<string, number>>;
}

interface WatchResult {
  /** Every run watched, in the order picked up, with the status it was last seen in. */
  runs: { runId: string; workflowId: string; status: WorkflowStatus }[];
  /** True when `signal` ended the watch before the runs settled. */
  stopped: boolean;
  /** The monitor was left with [Q]uit. */
  quit?: boolean;
}

export async function watchRuns(o: WatchOptions): Promise<WatchResult> {
  const now = o.now ?? Date.now;
  const since = now();
  const tail = o.tail ?? 5;
  const runs = new Map<string, WatchedRun>();
  /** Run ids seen by discovery and not watched (another workflow, or settled before the watch), so they are read once. */
  const ignored = new Set<string>();
  const pickingUp = new Map<string, Promise<void>>();
  const subs: Subscription[] = [];
  const queues = new Map<string, Promise<void>>();
  let discovery: Discovery | undefined;
  let finished = false;
  let finish!: (stopped: boolean) => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<boolean>((res, rej) => {
    finish = res;
    fail = rej;
  });

  // A damaged log ends its watch too: nothing drives it (DAMAGED is the monitor's word, never a recorded status).
  const ends = (s: WorkflowStatus) =>
    SETTLED_STATUSES.includes(s) || s === DAMAGED || (o.orWaiting === true && (s === 'WAITING' || s === 'PAUSED'));
  const single = o.target.kind === 'run';

  // Frames: log-update on the output, redrawn when events come (at most every redrawMs) and every tick (elapsed
  // clocks). A terminal that tells no size (0 columns and rows, as a bare pseudo-terminal) is drawn on as 80×24.
  const size = () => ({ columns: o.out.columns || 80, rows: o.out.rows || 24 });
  const screen = {
    write: (t: string) => o.out.write(t),
    isTTY: true,
    get columns() {
      return size().columns;
    },
    get rows() {
      return size().rows;
    },
  };
  const logUpdate =
    o.mode === 'frame' ? createLogUpdate(screen as unknown as NodeJS.WriteStream, { showCursor: false }) : undefined;
  // The monitor: its keys' state, the medians for ETAs, and the line a key's action left.
  let keys: KeyState = INITIAL_KEYS;
  let medians = new Map<string, number>();
  let said: string | null = null;
  let quit = false;
  const active = () =>
    [...runs.values()]
      .filter((r) => !SETTLED_STATUSES.includes(r.view.status))
      .sort((a, b) => (a.view.startedAt < b.view.startedAt ? -1 : 1));
  // What every frame is drawn with: the time, the terminal's size less the cursor's line, colours or not.
  const frameBase = () => ({ now: now(), width: size().columns, height: size().rows - 1, color: o.color ?? true });
  const frame = () =>
    o.monitor
      ? renderOverview(active(), {
          ...frameBase(),
          medians,
          selected: keys.selected,
          details: keys.details,
          ...((promptOf(keys) ?? said) ? { prompt: (promptOf(keys) ?? said)! } : {}),
        })
      : renderFrame([...runs.values()], {
          ...frameBase(),
          tail,
          ...(single ? {} : { title: title() }),
        });
  function title(): string {
    const all = [...runs.values()];
    const active = all.filter((r) => !ends(r.view.status)).length;
    const what = o.target.kind === 'workflow' ? `runs of ${o.target.workflowId}` : 'every run';
    return `watching ${what}: ${active} active, ${all.length - active} ended · Ctrl-C to stop`;
  }
  let drawPending: NodeJS.Timeout | undefined;
  const draw = () => {
    if (drawPending) {
      clearTimeout(drawPending);
      drawPending = undefined;
    }
    logUpdate?.(frame());
  };
  const scheduleDraw = () => {
    if (logUpdate && !drawPending) drawPending = setTimeout(draw, o.redrawMs ?? 50);
  };
  const onResize = () => {
    logUpdate?.clear();
    draw();
  };
  if (logUpdate) o.out.on?.('resize', onResize);
  // Also what keeps the process alive: followers and discovery do not.
  const tick = setInterval(() => {
    if (logUpdate) draw();
  }, o.tickMs ?? 1000);

  const print = (events: readonly EventEnvelope[]) => {
    if (o.mode === 'frame') return scheduleDraw();
    for (const e of events) o.out.write(`${o.mode === 'json' ? jsonLine(e) : plainLine(e)}\n`);
  };

  const checkDone = () => {
    if (finished) return;
    const all = [...runs.values()];
    if (pickingUp.size > 0) return;
    if (single ? all.length === 1 && ends(all[0]!.view.status) : !o.keepOpen && all.every((r) => ends(r.view.status)))
      finish(false);
  };

  /** Folds a batch into the run, reading what the follower skipped (it never should; a store may). */
  const onEvents = (runId: string, events: EventEnvelope[]) => {
    const prev = queues.get(runId) ?? Promise.resolve();
    const next = prev
      .then(async () => {
        const had = runs.get(runId);
        if (!had || finished) return;
        const before = had.view.seq;
        const fold = async (evs: EventEnvelope[]) => foldLoaded(o.store.blobs?.(), () => advanceRun(had, evs));
        const run = await fold(events).catch(async (err: unknown) => {
          if (!(err instanceof EventGapError)) throw err;
          return fold([...(await o.store.read(runId, { fromSeq: before + 1 })), ...events]);
        });
        // Ended: what it said of its driver no longer holds (a frame would show it under the settled run).
        const { undriven: _, ...settled } = run;
        runs.set(runId, ends(run.view.status) ? settled : run);
        print(run.tail.filter((e) => e.seq > before));
        checkDone();
      })
      .catch((err: unknown) => fail(err));
    queues.set(runId, next);
  };

  /**
   * Reads a run and follows it (kept whatever its status: it was active when listed, or new). A run that started while
   * watching (`fresh`) is printed from its start, one already going from its last `tail` events.
   */
  const pickUp = (runId: string, fresh: boolean): Promise<void> => {
    if (runs.has(runId) || ignored.has(runId)) return Promise.resolve();
    const existing = pickingUp.get(runId);
    if (existing) return existing;
    const p = (async () => {
      const events = await o.store.read(runId);
      if (finished) return;
      if (events.length === 0) {
        if (single) throw new RunNotFoundError(runId);
        // Its file was seen before its first commit was in it: pick it up when that comes.
        const sub = o.store.follow(runId, 0, () => {
          sub.close();
          void pickUp(runId, fresh).catch(fail);
        });
        subs.push(sub);
        return;
      }
      if (o.target.kind === 'workflow' && events[0]!.workflowId !== o.target.workflowId) {
        ignored.add(runId);
        return;
      }
      // The limits file's limits, for what a waiting task waits for (a store that cannot say: its own limits only).
      // Without the data key, a run whose course turned on sealed values is shown as its records say (track.ts).
      const [limits, keyless] = [await limitsForView(o.store), readWithoutKey(o.store, runId)];
      const run = await foldLoaded(o.store.blobs?.(), () => trackRun(events, limits, { keyless }));
      const damaged = await damageNow(o.store, o.damage, runId, run.view.seq);
      if (damaged) {
        runs.set(runId, { ...run, damaged, view: { ...run.view, status: DAMAGED } });
        if (o.mode === 'frame') scheduleDraw();
        else
          o.out.write(
            `${o.mode === 'json' ? JSON.stringify({ runId, status: 'DAMAGED', damaged }) : `${runId}  DAMAGED  ${damaged}`}\n`,
          );
        return;
      }
      runs.set(runId, run);
      print(fresh ? run.tail : run.tail.slice(-tail));
      subs.push(o.store.follow(runId, run.view.seq, (evs) => onEvents(runId, evs)));
    })().finally(() => {
      pickingUp.delete(runId);
      checkDone();
    });
    pickingUp.set(runId, p);
    return p;
  };

  // Runs nobody drives: said once each time they come to be so (the watch goes on: a serve or resume may come).
  const checkDrivers = driverChecks({
    undriven: o.undriven ?? (async () => null),
    runs,
    ends: (s) => ends(s) || s === DAMAGED,
    finished: () => finished,
    caughtUp: (runId) => caughtUp(o.store, runs, runId, onEvents, (id) => queues.get(id)),
    fail,
    set: (run) => runs.set(run.runId, run),
    mode: o.mode,
    write: (t) => o.out.write(t),
    redraw: scheduleDraw,
  });
  const driverTimer = o.undriven ? setInterval(() => void checkDrivers(), o.driverCheckMs ?? 1000) : undefined;
  // Progress: pushed by the store's channel (never an event), drawn or printed when it changes (progress-poll.ts).
  const stopProgress = o.progress
    ? followProgress(o.progress, o.progressMs ?? 250, {
        runs,
        mode: o.mode,
        write: (t) => o.out.write(t),
        finished: () => finished,
        changed: scheduleDraw,
        fail,
      })
    : undefined;

  const abort = () => {
    if (!finished) finish(true);
  };
  o.signal?.addEventListener('abort', abort, { once: true });
  const refreshMedians = () =>
    o.monitor
      ?.medians()
      .then((m) => {
        medians = m;
        scheduleDraw();
      })
      .catch((err: unknown) => {
        said = `ETA unknown: ${errorMessage(err)}`;
      });
  const onKeyData = (d: Buffer | string) => {
    for (const k of splitKeys(d.toString())) onOneKey(k);
  };
  const onOneKey = (key: string) => {
    if (finished) return;
    const { state, action } = onKey(
      keys,
      key,
      active().map((r) => r.runId),
    );
    keys = state;
    said = null;
    // Q quits; Ctrl-C (a key in raw mode, not a signal) stops as Ctrl-C stops every command: exit 130.
    if (action.kind === 'quit') {
      if (key === '\u0003') finish(true);
      else {
        quit = true;
        finish(false);
      }
      return;
    }
    if (action.kind === 'refresh') void refreshMedians();
    if (action.kind === 'pause' || action.kind === 'cancel') {
      said = `${action.kind === 'pause' ? 'pausing' : 'cancelling'} ${action.runId}…`;
      void o
        .monitor!.act(action.kind, action.runId)
        .then(
          (line) => {
            said = line;
          },
          (err: unknown) => {
            said = `could not ${action.kind === 'pause' ? 'pause' : 'cancel'} ${action.runId}: ${errorMessage(err)}`;
          },
        )
        .finally(scheduleDraw);
    }
    draw();
  };
  if (o.monitor && logUpdate) {
    o.monitor.keys.on('data', onKeyData);
    void refreshMedians();
  }
  try {
    if (o.signal?.aborted) finish(true);
    if (o.target.kind === 'run') await pickUp(o.target.runId, false);
    else {
      // Discovery first, then the listing: a run that starts in between is in one or the other.
      const workflowId = o.target.kind === 'workflow' ? o.target.workflowId : undefined;
      discovery = discoverRuns(o.store, workflowId, (runId) => void pickUp(runId, true).catch(fail), o.pollMs);
      await discovery.ready;
      const listed = await o.store.listRuns(workflowId ? { workflowId } : {});
      // Settled before the watch began: not watched; settled since (a driver that finished meanwhile): shown settled.
      for (const r of listed) if (settledBefore(r, since)) ignored.add(r.runId);
      await Promise.all(listed.filter((r) => !settledBefore(r, since)).map((r) => pickUp(r.runId, false)));
    }
    if (logUpdate) draw();
    checkDone();
    if (o.undriven) void checkDrivers();
    const stopped = await done;
    return {
      runs: [...runs.values()].map((r) => ({ runId: r.runId, workflowId: r.view.workflowId, status: r.view.status })),
      stopped,
      ...(quit ? { quit } : {}),
    };
  } finally {
    finished = true;
    o.signal?.removeEventListener('abort', abort);
    o.monitor?.keys.off('data', onKeyData);
    discovery?.close();
    for (const s of subs) s.close();
    clearInterval(tick);
    if (driverTimer) clearInterval(driverTimer);
    stopProgress?.();
    if (drawPending) clearTimeout(drawPending);
    if (logUpdate) {
      o.out.off?.('resize', onResize);
      // The last frame stays on the screen, with the cursor back.
      logUpdate(frame());
      logUpdate.done();
    }
  }
}
