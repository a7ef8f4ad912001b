/**
 * Queue backlog on NATS, read at scrape time: the task attempts waiting for a worker, per queue. Each queue is its own
 * stream LF_TASKS_<queue>, each (queue, handler) its worker consumer w_<queue>_<handler>, made by the engines when they
 * first hand out such an attempt (cluster/transport/task-queues.ts). Waiting is the consumer's num_pending (not yet
 * handed to a worker); for a subject no consumer reads, every message of the subject waits
 * (cluster/admin/task-queue-stats.ts reads both).
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { backlogByQueue, readTaskQueues } from '../cluster/admin/task-queue-stats.js';

/** Reads the backlog of every queue from the server (a stream listing, and per queue one consumer listing and one stream info). */
export async function readQueueBacklog(jsm: JetStreamManager): Promise<Map<string, number>> {
  return backlogByQueue(await readTaskQueues(jsm));
}
