/** Reading the dead-letter streams in tests: what the engines (LF_DLQ) and the workers (LF_DLQ_WORKERS) gave up on, and why. */
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { STREAMS } from '../../src/cluster/index.js';

/** Every message on lf.dlq.<kind> (a subject below lf.dlq: `tasks.worker`, a worker's, is read from LF_DLQ_WORKERS), oldest first. */
export async function deadLetters(jsm: JetStreamManager, kind: string): Promise<Record<string, unknown>[]> {
  const stream = kind.startsWith('tasks.') ? STREAMS.workerDlq.name : STREAMS.dlq.name;
  const out: Record<string, unknown>[] = [];
  for (let seq = 1; ; ) {
    let m;
    try {
      m = await jsm.streams.getMessage(stream, { next_by_subj: `lf.dlq.${kind}`, seq } as unknown as MsgRequest);
    } catch {
      return out;
    }
    if (!m) return out; // no message found
    out.push(m.json<Record<string, unknown>>());
    seq = m.seq + 1;
  }
}
