/**
 * Reading and acting on the dead-letter stream LF_DLQ (`ledgerflow dlq …`):
 * list what was given up on, why and who wrote it, show one dead letter,
 * replay one (its kept body published again on its original subject, then the
 * dead letter deleted) and purge them. Anything on lf.dlq.> is read; only a
 * letter an engine wrote is replayed, onto the stream its kind names
 * (dead-letter-rules.ts); a worker's, or a message that is not a dead letter,
 * is listed with why not.
 */
import type { JetStreamClient, JetStreamManager, StoredMsg } from 'nats';
import { DeadLetterNotFoundError, DeadLetterNotReplayableError } from '../errors/index.js';
import { DeadLetterMessage } from './messages.js';
import { deadLetterSubject, notReplayable, type DeadLetterWriter } from './dead-letter-rules.js';
import { STREAMS, subjects } from './subjects.js';

export { DEAD_LETTER_KINDS, type DeadLetterKind, type DeadLetterWriter } from './dead-letter-rules.js';

export interface DeadLetterEntry {
  /** Its sequence in LF_DLQ: what `dlq show|replay <seq>` take. */
  seq: number;
  kind: string;
  /** Its subject in LF_DLQ, which says who wrote it (nats.conf enforces it). */
  subject: string;
  /** Who wrote it: an engine (lf.dlq.<kind>), a worker (lf.dlq.tasks.<user>), or unknown. */
  writer: DeadLetterWriter;
  /** When LF_DLQ stored it. */
  stored: string;
  /** Its size in LF_DLQ (bounded: see dead-letters.ts). */
  storedBytes: number;
  /** The dead letter, or null when the message is not one (then `invalid` says why). */
  letter: DeadLetterMessage | null;
  invalid?: string;
  /** Whether `dlq replay` can publish it again (an engine wrote it, the whole body is kept, and where it came from). */
  replayable: boolean;
  /** Why not, when it cannot. */
  notReplayable?: string;
}

export interface ReplayResult { seq: number; subject: string; stream: string; streamSeq: number }

function entryOf(m: StoredMsg): DeadLetterEntry {
  let body: unknown;
  try { body = JSON.parse(new TextDecoder().decode(m.data)); } catch { body = undefined; }
  const parsed = DeadLetterMessage.safeParse(body);
  const { kind, writer } = deadLetterSubject(m.subject);
  const base = { seq: m.seq, kind, subject: m.subject, writer, stored: m.time.toISOString(), storedBytes: m.data.byteLength };
  if (!parsed.success) {
    return { ...base, letter: null, invalid: `not a dead letter: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`, replayable: false, notReplayable: 'it is not a dead letter' };
  }
  const why = notReplayable(m.subject, parsed.data);
  return { ...base, letter: parsed.data, replayable: why === null, ...(why !== null ? { notReplayable: why } : {}) };
}

export class DeadLetterQueue {
  constructor(private readonly jsm: JetStreamManager, private readonly js: JetStreamClient) {}

  /**
   * The subjects of one kind (lf.dlq.<kind> and below it, where workers write
   * lf.dlq.tasks.<user>), or all. Two filters rather than one list: consumers
   * with several filter subjects need nats-server 2.10.
   */
  private filters(kind?: string): string[] {
    return kind ? [subjects.dlq(kind), `${subjects.dlq(kind)}.>`] : [STREAMS.dlq.subjects[0]];
  }

  /** How many dead letters there are (of one kind); 0 when LF_DLQ does not exist yet. */
  async count(kind?: string): Promise<number> {
    let n = 0;
    for (const filter of this.filters(kind)) n += await this.countOf(filter);
    return n;
  }

  private async countOf(filter: string): Promise<number> {
    try {
      const info = await this.jsm.streams.info(STREAMS.dlq.name, { subjects_filter: filter });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    } catch (err) {
      if (/stream not found/i.test((err as Error).message)) return 0;
      throw err;
    }
  }

  /** Every dead letter (of one kind), oldest first. */
  async list(kind?: string): Promise<DeadLetterEntry[]> {
    const out: DeadLetterEntry[] = [];
    for (const filter of this.filters(kind)) out.push(...(await this.listOf(filter)));
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** The dead letters on one filter subject, read through an ordered consumer. */
  private async listOf(filter: string): Promise<DeadLetterEntry[]> {
    const total = await this.countOf(filter);
    if (total === 0) return [];
    const out: DeadLetterEntry[] = [];
    const consumer = await this.js.consumers.get(STREAMS.dlq.name, { filterSubjects: filter });
    // Messages may age out or be purged while we read: stop when none is left, or none comes.
    while (out.length < total) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, total - out.length), expires: 2000 });
      let got = 0;
      let last = false;
      for await (const m of batch) {
        got++;
        out.push(entryOf({ seq: m.seq, subject: m.subject, time: new Date(Math.floor(m.info.timestampNanos / 1e6)), data: m.data } as StoredMsg));
        if (m.info.pending === 0) last = true;
      }
      if (got === 0 || last) break;
    }
    await consumer.delete().catch(() => undefined);
    return out;
  }

  async show(seq: number): Promise<DeadLetterEntry> {
    let m: StoredMsg;
    try {
      m = await this.jsm.streams.getMessage(STREAMS.dlq.name, { seq });
    } catch (err) {
      if (/no message found|not found/i.test((err as Error).message)) throw new DeadLetterNotFoundError(seq);
      throw err;
    }
    if (!m.subject.startsWith('lf.dlq.')) throw new DeadLetterNotFoundError(seq);
    return entryOf(m);
  }

  /**
   * Publishes the kept body on its original subject (as a new message: no
   * message id, so the work queue's dedup window does not drop it), then
   * deletes the dead letter. An engine takes it as any other message; if it
   * refuses it again, it is dead-lettered again, as a new dead letter. Only a
   * letter an engine wrote, onto its kind's own stream (dead-letter-rules.ts):
   * the subject is the one the server delivered, so its sender token is still
   * the user who first published it; anything else is refused, nothing published.
   */
  async replay(seq: number): Promise<ReplayResult> {
    const entry = await this.show(seq);
    if (!entry.replayable || !entry.letter) throw new DeadLetterNotReplayableError(seq, entry.notReplayable ?? 'it cannot be replayed');
    const { source, raw } = entry.letter;
    const ack = await this.js.publish(source!.subject, new TextEncoder().encode(raw!));
    await this.jsm.streams.deleteMessage(STREAMS.dlq.name, seq).catch((err: unknown) => {
      // Published, but the dead letter stays: say so, a second replay would publish it twice.
      throw new Error(`dead letter ${seq} was published again (${ack.stream} message ${ack.seq}) but could not be deleted: ${(err as Error).message}; delete it before replaying again`);
    });
    return { seq, subject: source!.subject, stream: ack.stream, streamSeq: ack.seq };
  }

  /** Deletes every dead letter (of one kind); returns how many. */
  async purge(kind?: string): Promise<number> {
    if ((await this.count(kind)) === 0) return 0;
    if (!kind) return (await this.jsm.streams.purge(STREAMS.dlq.name)).purged;
    let purged = 0;
    for (const filter of this.filters(kind)) purged += (await this.jsm.streams.purge(STREAMS.dlq.name, { filter })).purged;
    return purged;
  }
}
