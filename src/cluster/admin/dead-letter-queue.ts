/**
 * Reading and acting on the dead-letter streams (`ledgerflow dlq …`), LF_DLQ (what engines wrote) and LF_DLQ_WORKERS
 * (what workers wrote): list what was given up on, why and who wrote it, show one dead letter, replay one (its kept
 * body published again on its original subject, then the dead letter deleted) and purge them. Anything on lf.dlq.> is
 * read; only a letter an engine wrote is replayed, onto the stream its kind names (dead-letter-rules.ts); a worker's,
 * or a message that is not a dead letter, is listed with why not.
 */
import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { DeadLetterNotFoundError, DeadLetterNotReplayableError, errorMessage } from '../../errors/index.js';
import { DeadLetterMessage, decodeOrUndefined, STREAMS, subjects } from '../transport/index.js';
import { deadLetterSubject, notReplayable, type DeadLetterWriter } from './dead-letter-rules.js';

export { DEAD_LETTER_KINDS, type DeadLetterWriter } from './dead-letter-rules.js';

export interface DeadLetterEntry {
  /**
   * What `dlq show|replay` take: an engine's letter by its sequence in LF_DLQ (`12`), a worker's by its
   * sequence in LF_DLQ_WORKERS with a `w` before it (`w12`): the two streams number their messages apart.
   */
  id: string;
  seq: number;
  /** The stream that holds it: LF_DLQ (engines', and workers' letters from before they had a stream of their own) or LF_DLQ_WORKERS. */
  stream: string;
  kind: string;
  /** Its subject, which says who wrote it (nats.conf enforces it). */
  subject: string;
  /** Who wrote it: an engine (lf.dlq.<kind>), a worker (lf.dlq.tasks.<user>), or unknown. */
  writer: DeadLetterWriter;
  stored: string;
  /** Its size in its stream (bounded: see dead-letters.ts). */
  storedBytes: number;
  /** The dead letter, or null when the message is not one (then `invalid` says why). */
  letter: DeadLetterMessage | null;
  invalid?: string;
  /** Whether `dlq replay` can publish it again (an engine wrote it, the whole body is kept, and where it came from). */
  replayable: boolean;
  notReplayable?: string;
}

export interface ReplayResult {
  id: string;
  seq: number;
  subject: string;
  stream: string;
  streamSeq: number;
}

/** The two dead-letter streams, and the prefix of a letter's id in each. */
const ENGINES = { name: STREAMS.dlq.name, prefix: '' } as const;
const WORKERS = { name: STREAMS.workerDlq.name, prefix: 'w' } as const;
type DlqStream = typeof ENGINES | typeof WORKERS;

/** The stream and sequence a dead letter's id names (`12`: LF_DLQ, `w12`: LF_DLQ_WORKERS), or null for no id of ours. */
export function parseDeadLetterId(id: string): { stream: DlqStream; seq: number } | null {
  const m = /^(w?)([1-9]\d{0,15})$/.exec(id);
  if (!m || !Number.isSafeInteger(Number(m[2]))) return null;
  return { stream: m[1] === 'w' ? WORKERS : ENGINES, seq: Number(m[2]) };
}

function entryOf(stream: DlqStream, m: StoredMsg): DeadLetterEntry {
  const parsed = DeadLetterMessage.safeParse(decodeOrUndefined(m.data));
  const { kind, writer } = deadLetterSubject(m.subject);
  const base = {
    id: `${stream.prefix}${m.seq}`,
    seq: m.seq,
    stream: stream.name,
    kind,
    subject: m.subject,
    writer,
    stored: m.time.toISOString(),
    storedBytes: m.data.byteLength,
  };
  if (!parsed.success) {
    return {
      ...base,
      letter: null,
      invalid: `not a dead letter: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
      replayable: false,
      notReplayable: 'it is not a dead letter',
    };
  }
  const why = notReplayable(m.subject, parsed.data);
  return { ...base, letter: parsed.data, replayable: why === null, ...(why !== null ? { notReplayable: why } : {}) };
}

const missingStream = (err: unknown) => /stream not found/i.test(errorMessage(err));

/** Whether a letter on `subject` is of `kind` (lf.dlq.<kind>, or below it: lf.dlq.tasks.<user>). */
const ofKind = (subject: string, kind: string) =>
  subject === subjects.dlq(kind) || subject.startsWith(`${subjects.dlq(kind)}.`);

export class DeadLetterQueue {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
  ) {}

  /**
   * Where the letters of one kind (or all) are, and how to read them: the workers' stream holds only kind tasks; in
   * LF_DLQ one kind is read with a filter, except tasks, whose older letters (lf.dlq.tasks.<user>) stay in an LF_DLQ
   * narrowed to lf.dlq.*, where nats-server 2.9 takes no filter below its subjects: read whole, the kind picked here.
   */
  private sources(
    kind?: string,
  ): { stream: DlqStream; filter?: string; counted: string[]; keep: (subject: string) => boolean }[] {
    const all = () => true;
    if (kind === undefined)
      return [
        { stream: ENGINES, counted: ['lf.dlq.>'], keep: all },
        { stream: WORKERS, counted: ['lf.dlq.>'], keep: all },
      ];
    if (kind === 'tasks') {
      return [
        { stream: ENGINES, counted: [subjects.dlq(kind), `${subjects.dlq(kind)}.>`], keep: (s) => ofKind(s, kind) },
        { stream: WORKERS, counted: ['lf.dlq.>'], keep: all },
      ];
    }
    return [{ stream: ENGINES, filter: subjects.dlq(kind), counted: [subjects.dlq(kind)], keep: all }];
  }

  /** How many dead letters there are (of one kind); 0 for a stream that does not exist yet. */
  async count(kind?: string): Promise<number> {
    let n = 0;
    for (const src of this.sources(kind))
      for (const filter of src.counted) n += await this.countOf(src.stream.name, filter);
    return n;
  }

  private async countOf(stream: string, filter: string): Promise<number> {
    try {
      const info = await this.jsm.streams.info(stream, { subjects_filter: filter });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    } catch (err) {
      if (missingStream(err)) return 0;
      throw err;
    }
  }

  /** Every dead letter (of one kind), engines' first, each stream oldest first. */
  async list(kind?: string): Promise<DeadLetterEntry[]> {
    const out: DeadLetterEntry[] = [];
    for (const src of this.sources(kind))
      out.push(...(await this.listOf(src.stream, src.filter)).filter((e) => src.keep(e.subject)));
    return out;
  }

  /** The dead letters of one stream (on one filter subject), read through an ordered consumer. */
  private async listOf(stream: DlqStream, filter?: string): Promise<DeadLetterEntry[]> {
    // Every subject of both streams is under lf.dlq.>.
    const total = await this.countOf(stream.name, filter ?? 'lf.dlq.>');
    if (total === 0) return [];
    const out: DeadLetterEntry[] = [];
    const consumer = await this.js.consumers.get(stream.name, filter ? { filter_subjects: filter } : {});
    // Messages may age out or be purged while we read: stop when none is left, or none comes.
    while (out.length < total) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, total - out.length), expires: 2000 });
      let got = 0;
      let last = false;
      for await (const m of batch) {
        got++;
        out.push(
          entryOf(stream, {
            seq: m.seq,
            subject: m.subject,
            time: new Date(Math.floor(m.info.timestampNanos / 1e6)),
            data: m.data,
          } as StoredMsg),
        );
        if (m.info.pending === 0) last = true;
      }
      if (got === 0 || last) break;
    }
    await consumer.delete().catch(() => undefined);
    return out;
  }

  async show(id: string): Promise<DeadLetterEntry> {
    const at = parseDeadLetterId(id);
    if (!at) throw new DeadLetterNotFoundError(id);
    let m: StoredMsg | null;
    try {
      m = await this.jsm.streams.getMessage(at.stream.name, { seq: at.seq });
    } catch (err) {
      if (/no message found|not found/i.test(errorMessage(err))) throw new DeadLetterNotFoundError(id);
      throw err;
    }
    // The client answers null for a sequence the stream does not hold.
    if (!m || !m.subject.startsWith('lf.dlq.')) throw new DeadLetterNotFoundError(id);
    return entryOf(at.stream, m);
  }

  /**
   * Publishes the kept body on its original subject (as a new message: no message id, so the work queue's dedup window
   * does not drop it), then deletes the dead letter. An engine takes it as any other message; if it refuses it again,
   * it is dead-lettered again, as a new dead letter. Only a letter an engine wrote, onto its kind's own stream
   * (dead-letter-rules.ts): the subject is the one the server delivered, so its sender token is still the user who
   * first published it; anything else is refused, nothing published.
   */
  async replay(id: string): Promise<ReplayResult> {
    const entry = await this.show(id);
    if (!entry.replayable || !entry.letter)
      throw new DeadLetterNotReplayableError(id, entry.notReplayable ?? 'it cannot be replayed');
    const { source, raw } = entry.letter;
    const ack = await this.js.publish(source!.subject, new TextEncoder().encode(raw!));
    await this.jsm.streams.deleteMessage(entry.stream, entry.seq).catch((err: unknown) => {
      // Published, but the dead letter stays: say so, a second replay would publish it twice.
      throw new Error(
        `dead letter ${id} was published again (${ack.stream} message ${ack.seq}) but could not be deleted: ${errorMessage(err)}; delete it before replaying again`,
      );
    });
    return { id, seq: entry.seq, subject: source!.subject, stream: ack.stream, streamSeq: ack.seq };
  }

  /** Deletes every dead letter (of one kind); returns how many. */
  async purge(kind?: string): Promise<number> {
    let purged = 0;
    for (const src of this.sources(kind)) {
      for (const filter of src.counted) {
        if ((await this.countOf(src.stream.name, filter)) === 0) continue;
        purged += (await this.jsm.streams.purge(src.stream.name, filter === 'lf.dlq.>' ? undefined : { filter }))
          .purged;
      }
    }
    return purged;
  }
}
