/**
 * FileEventStore.follow(): delivers a run's new events as its file grows.
 * fs.watch for low latency, polling because watch events can be missed or
 * coalesced (and are unreliable on network file systems). Apart from file.ts
 * because it shares nothing with appending but the file's format (jsonl.ts).
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import type { EventEnvelope } from '../events/index.js';
import { deliver } from './common.js';
import { statOrNull } from './durable-fs.js';
import { newCursor, readNew } from './jsonl.js';
import type { Subscription } from './port.js';

export interface FollowedFile {
  readonly runId: string;
  /** The run's log, `<runsDir>/<runId>.jsonl`. */
  readonly path: string;
  /** The directory watched for changes to it. */
  readonly runsDir: string;
  /** The polling period, the fallback when fs.watch misses a change. */
  readonly pollMs: number;
  /** Told when the subscription is closed (the store forgets it then). */
  readonly onClose: (sub: Subscription) => void;
}

/** Delivers the run's events after `afterSeq`, those already there first, each once and in order, until closed. */
export function followFile({ runId, path, runsDir, pollMs, onClose }: FollowedFile, afterSeq: number, onEvents: (events: EventEnvelope[]) => void): Subscription {
  const name = `${runId}.jsonl`;
  let cursor = newCursor();
  let delivered = afterSeq;
  let closed = false;
  let running = false;
  let again = false;
  let warned = false;

  // One pass at a time; a change noticed during a pass triggers another.
  // `delivered` makes re-reading from the start (file replaced, error)
  // harmless: nothing is delivered twice.
  const pump = async (): Promise<void> => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const st = await statOrNull(path);
        if (!st) continue;
        if (st.ino !== cursor.ino || st.size < cursor.offset) cursor = newCursor(st.ino);
        const { commits } = await readNew(path, cursor, st.size, runId);
        const events = commits.flatMap((c) => c.events).filter((e) => e.seq > delivered);
        if (events.length > 0 && !closed) {
          delivered = events[events.length - 1]!.seq;
          deliver(onEvents, events, runId);
        }
      } while (again && !closed);
    } catch (err) {
      cursor = newCursor();
      // No error channel in follow(): warn once, keep polling (a fixed file recovers).
      if (!warned) process.emitWarning(`ledgerflow: follow(${runId}) cannot read ${path}: ${(err as Error).message}`, 'LedgerflowFollowWarning');
      warned = true;
    } finally {
      running = false;
    }
  };

  // fs.watch for low latency; polling because watch events can be missed
  // or coalesced (and are unreliable on network file systems). Neither
  // keeps the process alive.
  let watcher: FSWatcher | undefined;
  try {
    mkdirSync(runsDir, { recursive: true });
    watcher = watch(runsDir, { persistent: false }, (_event, filename) => {
      if (filename === null || filename === name) void pump();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined; // polling alone still delivers
  }
  const timer = setInterval(() => void pump(), pollMs);
  timer.unref();
  void pump(); // catch up on events already after afterSeq

  const sub: Subscription = {
    close: () => {
      closed = true;
      watcher?.close();
      clearInterval(timer);
      onClose(sub);
    },
  };
  return sub;
}
