/**
 * Where a task's attempts go, read from its definition: the handler name they run under and the queue they wait on.
 * Both executors and every worker read them alike.
 */
import type { TaskDef } from './task-types.js';

/** The handler name COMMAND attempts travel under (the NATS subject lf.q.<queue>._command): workers that run commands take them. */
export const COMMAND_HANDLER = '_command';

/** The handler name HTTP attempts travel under (lf.q.<queue>._http): workers started with --http take them. */
export const HTTP_HANDLER = '_http';
/** The handler name TRANSFORM attempts run under: the executor runs their jq itself, never a worker. */
export const TRANSFORM_HANDLER = '_transform';

/** The queue of a task that names none. */
export const DEFAULT_QUEUE = 'default';

/** The handler a task's attempts run: its `handler:`, else its `assigned_to:`, else its id. */
export function handlerName(task: TaskDef): string {
  return task.handler ?? task.assignedTo ?? task.id;
}

/** A station's name: with its prefix, one queue name (1-64 of A-Z a-z 0-9 _ -). */
export const STATION_NAME = /^[A-Za-z0-9_-]{1,56}$/;

/** The queue a station's tasks wait on (`station: north` → `station-north`): its workers serve it. */
const STATION_QUEUE_PREFIX = 'station-';
export function stationQueue(station: string): string {
  return `${STATION_QUEUE_PREFIX}${station}`;
}

/** The station a queue belongs to (`station-north` → `north`), or null for another queue. */
export function stationOfQueue(queue: string): string | null {
  return queue.startsWith(STATION_QUEUE_PREFIX) && queue.length > STATION_QUEUE_PREFIX.length
    ? queue.slice(STATION_QUEUE_PREFIX.length)
    : null;
}
