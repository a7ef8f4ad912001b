/**
 * FileEventStore.follow(): delivers a run's new events as its file grows. Lines this process's writer adds are handed
 * over as they are added (`pushed`), with no read; any other change is found by one fs.watch of the runs directory
 * shared by the store's followers (RunsWatcher), and by polling, because watch events can be missed or coalesced (and
 * are unreliable on network file systems). Apart from file.ts because it shares nothing with appending but the file's
 * format (jsonl.ts).
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import type { EventEnvelope } from '../events/index.js';
import { deliver } from './common.js';
import { statOrNullSync } from './durable-fs.js';
import { newCursor, readNew, type Cursor } from './jsonl.js';
import type { OnEvents, Subscription } from './port.js';
import { errorMessage } from '../errors/index.js';

/** How long the runs directory stays watched with no follower. */
const IDLE_MS = 1000;
/**
 * Followers' polls (a stat of the run's log each) per polling period, at most, while the directory is watched: with
 * more followers each is polled every few periods instead of every one. The poll is the fallback for a watch event
 * missed; a serve holding 10,000 waiting runs otherwise stats 50,000 logs a second and never idles (bench scale).
 */
const POLLS_PER_PERIOD = 500;

interface FollowedFile {
  readonly runId: string;
  /** The run's log, `<runsDir>/<runId>.jsonl`. */
  readonly path: string;
  /** Resolves once the store may be read (a journal from another boot recovered); the first read waits for it. */
  readonly ready: () => Promise<void>;
  readonly watcher: RunsWatcher;
  /**
   * The store's writer's hold of the writer lock under way, -1 when it does not hold it. While one hold lasts no other
   * process writes to the store, so a log changes only by the lines the writer pushes.
   */
  readonly session: () => number;
  /**
   * Where to start reading instead of the log's beginning (the writer's cursor, when it is at or before afterSeq), and
   * the writer's hold in which that was the log's end.
   */
  readonly start?: { cursor: Cursor; session: number };
  /** The follower has no use for commits ending at or before this (port.ts FollowOptions): a pushed one is then not decoded. */
  readonly skipUpTo?: () => number;
  /** Told when the subscription is closed (the store forgets it then). */
  readonly onClose: (sub: Subscription) => void;
}

/** A follower as the store's writer sees it: told of each line it adds to the run's log. */
export interface FileSubscription extends Subscription {
  readonly runId: string;
  /**
   * The writer added the line [from, to) of the run's log (inode `ino`), holding `events`: delivered without a read
   * when the follower has read up to `from`; otherwise it reads, as on any other change. `session`: the writer's hold
   * of the writer lock it was added in; `lastSeq`: the seq its events end at.
   */
  pushed(ino: number, from: number, to: number, events: () => EventEnvelope[], session: number, lastSeq: number): void;
}

/**
 * One fs.watch of a store's runs directory, for all its followers: a change to a run's log wakes that run's followers.
 * Kept IDLE_MS after the last follower goes: runs that commit together in one batch also end together, and the next
 * ones follow a moment later (a watch made and dropped each time was 2% of the file bench's samples).
 *
 * It also polls them, from one timer: each polling period wakes every follower while unwatched (polling is then all
 * there is), or the next POLLS_PER_PERIOD of them in turn while watched. A timer of each follower's own cost a serve
 * holding 100,000 waiting runs 100,000 timers firing five times a second, each only to count (bench scale).
 */
export class RunsWatcher {
  private readonly byName = new Map<string, Set<() => void>>();
  /** Every follower's wake, in the order they are polled. */
  private readonly polled = new Set<() => void>();
  /** Where the polling left off: a Set's iterator visits what is added after it and skips what is deleted. */
  private turn: Iterator<() => void> | undefined;
  private poller: NodeJS.Timeout | undefined;
  private watcher: FSWatcher | undefined;
  private idle: NodeJS.Timeout | undefined;

  /** `pollMs`: the polling period, the fallback when fs.watch misses a change. */
  constructor(
    private readonly runsDir: string,
    private readonly pollMs: number,
  ) {}

  add(name: string, wake: () => void): () => void {
    let set = this.byName.get(name);
    if (!set) this.byName.set(name, (set = new Set()));
    set.add(wake);
    this.polled.add(wake);
    clearTimeout(this.idle);
    this.idle = undefined;
    this.start();
    return () => {
      this.polled.delete(wake);
      set.delete(wake);
      if (set.size === 0 && this.byName.get(name) === set) this.byName.delete(name);
      if (this.byName.size === 0 && !this.idle) {
        this.idle = setTimeout(() => {
          this.idle = undefined;
          if (this.byName.size === 0) this.stop();
        }, IDLE_MS);
        this.idle.unref(); // as the watch itself: keeps no process alive
      }
    };
  }

  /** Stops watching now (the store is closed). */
  close(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
    this.stop();
  }

  /** One polling period (its timer's): every follower while unwatched, else the next POLLS_PER_PERIOD in turn. */
  poll(): void {
    const count = this.watcher ? Math.min(this.polled.size, POLLS_PER_PERIOD) : this.polled.size;
    for (let i = 0; i < count; i++) {
      let next = this.turn?.next();
      if (!next || next.done) {
        this.turn = this.polled.values();
        next = this.turn.next();
        if (next.done) return;
      }
      next.value();
    }
  }

  private start(): void {
    if (!this.poller) {
      this.poller = setInterval(() => this.poll(), this.pollMs);
      this.poller.unref(); // following keeps no process alive
    }
    if (this.watcher) return;
    try {
      mkdirSync(this.runsDir, { recursive: true });
      // Not persistent: following keeps no process alive.
      this.watcher = watch(this.runsDir, { persistent: false }, (_event, filename) => {
        if (filename === null) for (const set of this.byName.values()) for (const wake of set) wake();
        else for (const wake of this.byName.get(filename) ?? []) wake();
      });
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined; // polling alone still delivers, every follower each period
      });
    } catch {
      this.watcher = undefined; // polling alone still delivers
    }
  }

  private stop(): void {
    clearInterval(this.poller);
    this.poller = undefined;
    this.turn = undefined;
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/** Delivers the run's events after `afterSeq`, those already there first, each once and in order, until closed. */
export function followFile(
  { runId, path, watcher, ready, session, start, skipUpTo, onClose }: FollowedFile,
  afterSeq: number,
  onEvents: OnEvents,
): FileSubscription {
  const name = path.slice(path.lastIndexOf('/') + 1);
  let cursor = start ? { ...start.cursor } : newCursor();
  let delivered = afterSeq;
  let closed = false;
  let running = false;
  let again = false;
  let warned = false;
  /** A hold of the writer's since which the cursor has kept up with the log (every line since was pushed and taken); -1 when it may be behind. */
  let pushedIn = -1;
  const upToDate = () => pushedIn >= 0 && session() === pushedIn;
  if (start) pushedIn = start.session;

  const emit = (events: EventEnvelope[]) => {
    const fresh = events.filter((e) => e.seq > delivered);
    if (fresh.length > 0 && !closed) {
      delivered = fresh[fresh.length - 1]!.seq;
      deliver(onEvents, fresh, runId);
    }
  };

  // One pass at a time; a change noticed during a pass triggers another. `delivered` makes re-reading from the start
  // (file replaced, error) harmless: nothing is delivered twice.
  const pump = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await ready();
      do {
        again = false;
        pushedIn = -1;
        const held = session(); // before the stat: if still held after the read, nothing was written but what is pushed
        const st = statOrNullSync(path); // page cache only: no thread-pool trip (see group-commit.ts)
        if (!st) continue;
        if (st.ino !== cursor.ino || st.size < cursor.offset) cursor = newCursor(st.ino);
        const { commits } = await readNew(path, cursor, st.size, runId);
        emit(commits.flatMap((c) => c.events));
        if (held >= 0 && session() === held) pushedIn = held;
      } while (again && !closed);
    } catch (err) {
      cursor = newCursor();
      // No error channel in follow(): warn once, keep polling (a fixed file recovers).
      if (!warned)
        process.emitWarning(
          `ledgerflow: follow(${runId}) cannot read ${path}: ${errorMessage(err)}`,
          'LedgerflowFollowWarning',
        );
      warned = true;
    } finally {
      running = false;
    }
  };

  // A change seen while this process's writer has held the lock since the cursor was last up to date
  // is a line it pushed, already delivered: no other process can write meanwhile.
  const look = () => {
    if (!upToDate()) void pump();
  };
  const unwatch = watcher.add(name, look);
  look(); // catch up on events already after afterSeq

  const sub: FileSubscription = {
    runId,
    pushed: (ino, from, to, events, session, lastSeq) => {
      if (closed) return;
      if (running || cursor.ino !== ino || cursor.offset !== from) {
        pushedIn = -1;
        void pump();
        return;
      }
      pushedIn = session;
      if (skipUpTo && lastSeq <= skipUpTo()) {
        // Of no use to the follower (its own commit): passed over undecoded, as if delivered.
        cursor.offset = to;
        cursor.line += 1;
        cursor.lastSeq = lastSeq;
        if (lastSeq > delivered) delivered = lastSeq;
        return;
      }
      const evs = events();
      cursor.offset = to;
      cursor.line += 1;
      cursor.lastSeq = evs[evs.length - 1]!.seq;
      emit(evs);
    },
    close: () => {
      closed = true;
      unwatch();
      onClose(sub);
    },
  };
  return sub;
}
