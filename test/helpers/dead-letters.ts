/** Reading the dead-letter stream LF_DLQ in tests: what the engines refused, and why. */
import type { JetStreamManager, MsgRequest } from 'nats';
import { STREAMS } from '../../src/cluster/index.js';

/** Every message on lf.dlq.<kind> (a subject below lf.dlq: `tasks.worker`, or a wildcard), oldest first. */
export async function deadLetters(jsm: JetStreamManager, kind: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let seq = 1; ;) {
    let m;
    try {
      m = await jsm.streams.getMessage(STREAMS.dlq.name, { next_by_subj: `lf.dlq.${kind}`, seq } as unknown as MsgRequest);
    } catch {
      return out; // no message found
    }
    out.push(m.json<Record<string, unknown>>());
    seq = m.seq + 1;
  }
}
