/**
 * What waits in the task queues, read from the server (the dashboard's workers view, the `ledgerflow_queue_backlog`
 * metric). Each queue is its own stream LF_TASKS_<queue> (subjects.ts), each (queue, handler) its worker consumer
 * w_<queue>_<handler> once an engine has handed out an attempt of it: a row per consumer (a priority level's consumer
 * p<NN>_<queue>_<handler> has its own row, with `priority`) with its backlog (num_pending: not yet handed to a worker),
 * attempts in flight (num_ack_pending) and pull requests waiting (num_waiting: workers idle and connected). Attempts on
 * a subject with no consumer (made by hand, or by an older version) are backlog too, as are those still in the
 * single stream LF_TASKS of older versions (legacy-tasks.ts): the streams' counts per subject say so.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { LEGACY_TASKS, TASK_STREAM_PREFIX, taskSubjectParts } from '../transport/index.js';

export interface TaskQueueRow {
  queue: string;
  handler: string;
  /** A priority level's row (lf.q.<queue>.<handler>.p<NN>, consumer p<NN>_…); absent for the default level. */
  priority?: number;
  stream: string;
  /** null: attempts on a subject no consumer reads (yet). */
  consumer: string | null;
  pending: number;
  inFlight: number;
  waiting: number;
  redelivered: number;
}

const LEGACY_SUBJECT = /^lf\.tasks\.([^.]+)\.([^.]+)$/;

/** Every queue's rows: one per worker consumer, and one per subject holding attempts that no consumer reads. */
export async function readTaskQueues(jsm: JetStreamManager): Promise<TaskQueueRow[]> {
  const rows: TaskQueueRow[] = [];
  const streams: string[] = [];
  for await (const si of jsm.streams.list()) {
    if (si.config.name.startsWith(TASK_STREAM_PREFIX)) streams.push(si.config.name);
  }
  for (const stream of streams.sort()) {
    const read = new Set<string>();
    for await (const ci of jsm.consumers.list(stream)) {
      const parts = taskSubjectParts(ci.config.filter_subject ?? '');
      if (!parts) continue;
      read.add(ci.config.filter_subject!);
      rows.push({
        ...parts,
        stream,
        consumer: ci.name,
        pending: ci.num_pending,
        inFlight: ci.num_ack_pending,
        waiting: ci.num_waiting,
        redelivered: ci.num_redelivered,
      });
    }
    rows.push(...unread(stream, await subjectCounts(jsm, stream), read, taskSubjectParts));
  }
  rows.push(
    ...unread(LEGACY_TASKS.name, await subjectCounts(jsm, LEGACY_TASKS.name), new Set(), (s) => {
      const m = LEGACY_SUBJECT.exec(s);
      return m ? { queue: m[1]!, handler: m[2]! } : null;
    }),
  );
  return rows;
}

/** Messages per subject of a stream (none when it is gone). */
async function subjectCounts(jsm: JetStreamManager, stream: string): Promise<Record<string, number>> {
  const info = await jsm.streams.info(stream, { subjects_filter: '>' }).catch(() => null);
  return info?.state.subjects ?? {};
}

function unread(
  stream: string,
  counts: Record<string, number>,
  read: Set<string>,
  parse: (subject: string) => { queue: string; handler: string } | null,
): TaskQueueRow[] {
  const rows: TaskQueueRow[] = [];
  for (const [subject, count] of Object.entries(counts)) {
    const parts = parse(subject);
    if (parts && !read.has(subject))
      rows.push({ ...parts, stream, consumer: null, pending: count, inFlight: 0, waiting: 0, redelivered: 0 });
  }
  return rows;
}

/** Attempts waiting per queue (pure): every row's pending; a queue with a consumer shows up with 0 when nothing waits, so its series does not vanish. */
export function backlogByQueue(rows: readonly Pick<TaskQueueRow, 'queue' | 'pending'>[]): Map<string, number> {
  const backlog = new Map<string, number>();
  for (const r of rows) backlog.set(r.queue, (backlog.get(r.queue) ?? 0) + r.pending);
  return backlog;
}
