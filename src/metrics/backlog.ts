/**
 * Queue backlog on NATS, read at scrape time: the task attempts waiting in
 * LF_TASKS for a worker, per queue. Attempts go to lf.tasks.<queue>.<handler>
 * and each (queue, handler) has its worker consumer (w_<queue>_<handler>,
 * made by the first worker that pulls them: cluster/setup.ts). Waiting is the
 * consumer's num_pending (not yet handed to a worker); for a subject no
 * worker ever pulled there is no consumer, and every message of the subject
 * waits.
 */
import type { JetStreamManager } from 'nats';
import { STREAMS } from '../cluster/subjects.js';

/** Attempts waiting per queue, from the stream's per-subject counts and its consumers (pure). */
export function backlogByQueue(subjectCounts: Record<string, number>, consumers: readonly { filter?: string | undefined; numPending: number }[]): Map<string, number> {
  const pendingOf = new Map<string, number>();
  for (const c of consumers) if (c.filter) pendingOf.set(c.filter, c.numPending);
  const backlog = new Map<string, number>();
  const queueOf = (subject: string) => /^lf\.tasks\.([^.]+)\.[^.]+$/.exec(subject)?.[1];
  // Queues with a worker consumer show up with 0 when nothing waits, so their series does not vanish.
  for (const subject of pendingOf.keys()) {
    const queue = queueOf(subject);
    if (queue !== undefined) backlog.set(queue, (backlog.get(queue) ?? 0) + pendingOf.get(subject)!);
  }
  for (const [subject, count] of Object.entries(subjectCounts)) {
    const queue = queueOf(subject);
    if (queue === undefined || pendingOf.has(subject)) continue;
    backlog.set(queue, (backlog.get(queue) ?? 0) + count);
  }
  return backlog;
}

/** Reads the backlog of every queue from the server (one stream info and one consumer listing). */
export async function readQueueBacklog(jsm: JetStreamManager): Promise<Map<string, number>> {
  const info = await jsm.streams.info(STREAMS.tasks.name, { subjects_filter: 'lf.tasks.>' });
  const consumers: { filter?: string | undefined; numPending: number }[] = [];
  for await (const c of jsm.consumers.list(STREAMS.tasks.name)) consumers.push({ filter: c.config.filter_subject, numPending: c.num_pending });
  return backlogByQueue(info.state.subjects ?? {}, consumers);
}
