/**
 * Reading and acting on the dead-letter stream LF_DLQ (`ledgerflow dlq …`):
 * list what was given up on and why, show one dead letter, replay one (its
 * kept body published again on its original subject, then the dead letter
 * deleted) and purge them. Anything on lf.dlq.> is read; a message that is not
 * a dead letter (anyone with the engine's rights may publish there) is listed
 * as invalid, never replayed.
 */
import { createHash } from 'node:crypto';
import type { JetStreamClient, JetStreamManager, StoredMsg } from 'nats';
import { DeadLetterNotFoundError, DeadLetterNotReplayableError } from '../errors/index.js';
import { DeadLetterMessage } from './messages.js';
import { STREAMS, subjects } from './subjects.js';

/** The kinds engines and workers write: the stream the message came from. */
export const DEAD_LETTER_KINDS = ['inputs', 'timers', 'approvals', 'triggers', 'tasks', 'signals', 'control', 'notifications'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/** The streams a dead letter may be replayed into, by name (never LF_DLQ itself, nor the log). */
const REPLAYABLE_STREAMS: Record<string, string> = Object.fromEntries(
  [STREAMS.inputs, STREAMS.tasks, STREAMS.timers, STREAMS.approvals, STREAMS.triggers, STREAMS.signals, STREAMS.control].map((s) => [s.name, s.subjects[0]!.slice(0, -1)]),
);

export interface DeadLetterEntry {
  /** Its sequence in LF_DLQ: what `dlq show|replay <seq>` take. */
  seq: number;
  kind: string;
  /** When LF_DLQ stored it. */
  stored: string;
  /** Its size in LF_DLQ (bounded: see dead-letters.ts). */
  storedBytes: number;
  /** The dead letter, or null when the message is not one (then `invalid` says why). */
  letter: DeadLetterMessage | null;
  invalid?: string;
  /** Whether `dlq replay` can publish it again (the whole body is kept, and where it came from). */
  replayable: boolean;
  /** Why not, when it cannot. */
  notReplayable?: string;
}

export interface ReplayResult { seq: number; subject: string; stream: string; streamSeq: number }

function entryOf(m: StoredMsg): DeadLetterEntry {
  let body: unknown;
  try { body = JSON.parse(new TextDecoder().decode(m.data)); } catch { body = undefined; }
  const parsed = DeadLetterMessage.safeParse(body);
  const base = { seq: m.seq, kind: m.subject.split('.').slice(2).join('.'), stored: m.time.toISOString(), storedBytes: m.data.byteLength };
  if (!parsed.success) {
    return { ...base, letter: null, invalid: `not a dead letter: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`, replayable: false, notReplayable: 'it is not a dead letter' };
  }
  const why = notReplayable(parsed.data);
  return { ...base, letter: parsed.data, replayable: why === null, ...(why !== null ? { notReplayable: why } : {}) };
}

/** Why a dead letter cannot be replayed, or null when it can. */
function notReplayable(l: DeadLetterMessage): string | null {
  if (l.stage === 'notification') return 'a notification given up on is noted in its run\'s history (notification.dead_lettered); its body is kept here to read, not to publish again';
  if (l.raw === undefined) return `its body (${l.size ?? '?'} bytes) was not kept, only an excerpt: bodies over 64 KiB, or not UTF-8 text, are not kept`;
  if (!l.source) return 'it was written before dead letters recorded where the message came from';
  const prefix = REPLAYABLE_STREAMS[l.source.stream];
  if (!prefix || !l.source.subject.startsWith(prefix)) return `it names ${l.source.subject} on ${l.source.stream}, which is not a subject of a ledgerflow work queue`;
  if (l.sha256 && createHash('sha256').update(l.raw, 'utf8').digest('hex') !== l.sha256) return 'its kept body does not match its sha256';
  return null;
}

export class DeadLetterQueue {
  constructor(private readonly jsm: JetStreamManager, private readonly js: JetStreamClient) {}

  private filter(kind?: string): string {
    return kind ? subjects.dlq(kind) : STREAMS.dlq.subjects[0];
  }

  /** How many dead letters there are (of one kind); 0 when LF_DLQ does not exist yet. */
  async count(kind?: string): Promise<number> {
    try {
      const info = await this.jsm.streams.info(STREAMS.dlq.name, { subjects_filter: this.filter(kind) });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    } catch (err) {
      if (/stream not found/i.test((err as Error).message)) return 0;
      throw err;
    }
  }

  /** Every dead letter (of one kind), oldest first, read through an ordered consumer. */
  async list(kind?: string): Promise<DeadLetterEntry[]> {
    const total = await this.count(kind);
    if (total === 0) return [];
    const out: DeadLetterEntry[] = [];
    const consumer = await this.js.consumers.get(STREAMS.dlq.name, { filterSubjects: this.filter(kind) });
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
   * refuses it again, it is dead-lettered again, as a new dead letter.
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
    const r = await this.jsm.streams.purge(STREAMS.dlq.name, kind ? { filter: subjects.dlq(kind) } : undefined);
    return r.purged;
  }
}
