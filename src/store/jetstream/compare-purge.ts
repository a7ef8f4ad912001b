/**
 * The archive's compare-and-purge (archive.ts): a run's subject emptied only while it still ends at the message the move
 * read last. A purge request cannot say that (a commit appended between a check and the purge would survive the
 * run's earlier messages: a live log starting at a gap, and an archive entry besides). One publish can: a marker on the
 * run's subject with `Nats-Expected-Last-Subject-Sequence` (the message read last), which the server either refuses (a
 * commit won: the live log stays whole) or stores as the subject's last message. From then on the run is not live:
 * every reader takes a subject that ends at a marker for a run moving to the archive (codec.ts, isArchiveMarker), and a
 * writer expecting the old end is refused. The run's earlier messages are then deleted one by one, the marker last.
 *
 * Not a rollup (`Nats-Rollup: sub`) or a purge of the subject, which empty it in one request: on nats-server 2.9 both
 * move every consumer of the stream whose filter is wider than the subject past the messages it had not delivered yet
 * (fixed upstream in 2.10), so the run index's consumer skipped the commits of other runs stored since its last pull,
 * and those runs were missing from `list` until a `reindex`. A delete of one message moves no consumer.
 */
import {
  ARCHIVE_MARKER_HEADER,
  ERR_WRONG_LAST_SEQUENCE,
  apiErrorCode,
  archiveMarkerBody,
  decodeNextCommit,
  isArchiveMarker,
} from './codec.js';
import { StoreError } from '../../errors/index.js';
import type { Conn, JetStreamLink } from './connection.js';
import type { ResolvedOptions } from './options.js';
import { getMessage, runMessages } from './run-messages.js';

/** Markers one purge publishes on a replicated stream, each after a commit that got in behind the last one (see mark). */
const MAX_MARKS = 5;

export class RunPurger {
  /** The stream was seen to take deletes (it is looked at once). */
  private takesDeletes = false;

  constructor(
    private readonly link: JetStreamLink,
    private readonly o: ResolvedOptions,
  ) {}

  /**
   * Throws before a move writes anything when the stream refuses to delete a message (`deny_delete`, an operator's):
   * a move that could not empty a run's subject would leave its runs live and archived at once.
   */
  async ready(): Promise<void> {
    if (this.takesDeletes) return;
    const c = await this.link.ready();
    const { config } = await this.link.call('read the stream', this.link.deadline(), () =>
      c.jsm.streams.info(this.o.stream),
    );
    if (config.deny_delete === true)
      throw new StoreError(
        `archive: stream ${this.o.stream} refuses to delete messages (deny_delete, an operator's setting), which the archive empties a run's subject with; nothing was moved. Its runs cannot be archived while it is set`,
        { stream: this.o.stream },
      );
    this.takesDeletes = true;
  }

  /**
   * Empties the run's subject if its last message is still at `lastStreamSeq` (0: the subject is empty) or a marker of
   * this move's (a purge killed before it deleted its marker): 'purged'. 'live' when a commit came after (nothing is
   * purged; the live log wins).
   */
  async purge(
    runId: string,
    subject: string,
    lastStreamSeq: number,
    move: string,
    /** The sequences of the run's messages the move read (up to `lastStreamSeq`): deleted without walking to them. */
    read: readonly number[] = [],
  ): Promise<'purged' | 'live'> {
    const c = await this.link.ready();
    const marker = await this.mark(c, runId, subject, lastStreamSeq, move);
    if (marker !== null) {
      await this.clearUpTo(c, subject, marker, read);
      return 'purged';
    }
    // Refused: the subject does not end where it was read. A marker left by a killed move (recovery), or nothing at all,
    // is this move's to finish; a commit is a writer's that won.
    const last = await getMessage(this.link, this.o, c, { last_by_subj: subject }, this.link.deadline());
    if (!last) return 'purged';
    if (!isArchiveMarker(last.data)) return 'live';
    await this.clearUpTo(c, subject, last.seq);
    return 'purged';
  }

  /**
   * The marker published as the subject's last message, its stream sequence; null when the server refused it (the
   * subject's last message is not `lastStreamSeq`). On a replicated stream nats-server checks the expectation before
   * replicating, not atomically (codec.ts, decodeNextCommit): an append expecting the same message can be stored just
   * after the marker. Its writer is told it lost (append-races.ts, checkWon: a marker before its commit) and another
   * marker is published after it, so the subject ends at a marker.
   */
  async mark(c: Conn, runId: string, subject: string, lastStreamSeq: number, move: string): Promise<number | null> {
    let expect = lastStreamSeq;
    for (let round = 0; ; round++) {
      let seq: number;
      try {
        const ack = await this.link.call(
          'mark a run moved to the archive',
          this.link.deadline(),
          (timeoutMs) =>
            c.pub.publish(subject, archiveMarkerBody(move), {
              // Sent again after a lost reply, the server answers "duplicate" with the marker it stored.
              msgID: `${runId}:archive:${move}:${round}`,
              headers: [
                [ARCHIVE_MARKER_HEADER, move],
                ['Lf-Run-Id', runId],
              ],
              lastSubjectSequence: expect,
              timeoutMs,
            }),
          undefined,
          { honoursTimeout: true },
        );
        seq = ack.seq;
      } catch (err) {
        if (apiErrorCode(err) === ERR_WRONG_LAST_SEQUENCE) return null;
        this.takesDeletes = false; // changed since ready() looked (a refusal is said by the next move's look)
        throw err;
      }
      if (!c.replicated || round + 1 >= MAX_MARKS) return seq;
      const last = await getMessage(this.link, this.o, c, { last_by_subj: subject }, this.link.deadline());
      if (!last || last.seq === seq || isArchiveMarker(last.data)) return seq;
      expect = last.seq;
    }
  }

  /**
   * Every message of the subject before the marker at `markerSeq` deleted, oldest first, then the marker (dropMarker):
   * each by its sequence, which moves no consumer (see above). Killed half way, the subject still ends at the marker,
   * and the next purge of the run (recovery) deletes what is left.
   */
  private async clearUpTo(c: Conn, subject: string, markerSeq: number, read: readonly number[] = []): Promise<void> {
    // The messages the move read, oldest first, one at a time: what is left of a move killed among them is the run's
    // last messages (recovery, liveEnd, decodes them as a log; deletes in any order would leave gaps inside it).
    for (const seq of [...read].sort((a, b) => a - b))
      if (seq < markerSeq) await this.dropMessage(c, seq, 'delete a run message moved to the archive');
    // Then every message still before the marker, markers of earlier rounds and commits that lost to them among them
    // (not runMessages: it stops at a marker); none, most often: one request that finds the marker.
    const earlier: number[] = [];
    for (let next = 1; next < markerSeq; ) {
      const m = await getMessage(this.link, this.o, c, { next_by_subj: subject, seq: next }, this.link.deadline());
      if (!m || m.seq >= markerSeq) break;
      earlier.push(m.seq);
      next = m.seq + 1;
    }
    for (const seq of earlier) await this.dropMessage(c, seq, 'delete a run message moved to the archive');
    await this.dropMarker(markerSeq);
  }

  /**
   * Where the run's live messages end, up to a marker: its history's last event seq (null: none live) and its last
   * message's stream sequence (0: none), what recovery purges up to.
   */
  async liveEnd(runId: string, subject: string): Promise<{ lastSeq: number | null; lastStreamSeq: number }> {
    const c = await this.link.ready();
    let prev: number | null = null;
    let lastStreamSeq = 0;
    for await (const m of runMessages(this.link, this.o, c, runId, subject, 1, this.link.deadline())) {
      lastStreamSeq = m.seq;
      const commit = decodeNextCommit(m.data, runId, { stream: this.o.stream, seq: m.seq, subject }, prev);
      if (commit) prev = commit.events.at(-1)!.seq;
    }
    return { lastSeq: prev, lastStreamSeq };
  }

  /** Deletes a marker (gone already: a retry, or another recovery, did). */
  async dropMarker(seq: number): Promise<void> {
    await this.dropMessage(await this.link.ready(), seq, 'delete the archive marker');
  }

  /** Deletes one message of the stream by its sequence (gone already: a retry, or another recovery, did). */
  private async dropMessage(c: Conn, seq: number, what: string): Promise<void> {
    try {
      await this.link.call(what, this.link.deadline(), () => c.jsm.streams.deleteMessage(this.o.stream, seq, false));
    } catch (err) {
      // The server's answer for a message that is not there differs by version: asked instead.
      if (await getMessage(this.link, this.o, c, { seq }, this.link.deadline())) throw err;
    }
  }
}
