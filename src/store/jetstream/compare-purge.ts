/**
 * The archive's compare-and-purge (archive.ts): a run's subject emptied only while it still ends at the message the move
 * read last. A purge request cannot say that (a commit appended between a check and the purge would survive the
 * run's earlier messages: a live log starting at a gap, and an archive entry besides). One publish can: a marker on the
 * run's subject with `Nats-Expected-Last-Subject-Sequence` (the message read last) and `Nats-Rollup: sub`, which the
 * server either refuses (a commit won: the live log stays whole) or stores in place of every earlier message of the
 * subject, at once. The marker is then deleted, leaving the subject empty. Readers pass a marker by (codec.ts,
 * isArchiveMarker): it is never part of a run. The stream allows rollups (options.ts, connection.ts).
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

/** Rollups one purge tries on a replicated stream, each after a commit that got in behind the last marker (see rollUp). */
const MAX_ROLLUPS = 5;

export class RunPurger {
  /** The stream was seen to take rollups (it is looked at once). */
  private takesRollups = false;

  constructor(
    private readonly link: JetStreamLink,
    private readonly o: ResolvedOptions,
  ) {}

  /**
   * Throws before a move writes anything when the stream refuses rollups (`allow_rollup_hdrs` off, which an engine sets
   * when it connects, or `deny_purge` on): a move that could not purge would leave its runs live and archived at once.
   */
  async ready(): Promise<void> {
    if (this.takesRollups) return;
    const c = await this.link.ready();
    const { config } = await this.link.call('read the stream', this.link.deadline(), () =>
      c.jsm.streams.info(this.o.stream),
    );
    if (config.allow_rollup_hdrs !== true || config.deny_purge === true)
      throw new StoreError(
        `archive: stream ${this.o.stream} does not take rollups (allow_rollup_hdrs ${config.allow_rollup_hdrs === true}, deny_purge ${config.deny_purge === true}), which the archive empties a run's subject with; nothing was moved. ${config.deny_purge === true ? 'A stream that denies purges takes no rollup (an operator set deny_purge): its runs cannot be archived' : `An engine allows them when it connects, or \`nats stream edit ${this.o.stream} --allow-rollup\``}`,
        { stream: this.o.stream },
      );
    this.takesRollups = true;
  }

  /**
   * Empties the run's subject if its last message is still at `lastStreamSeq` (0: the subject is empty) or a marker of
   * this move's (a purge killed before it deleted its marker): 'purged'. 'live' when a commit came after (nothing is
   * purged; the live log wins).
   */
  async purge(runId: string, subject: string, lastStreamSeq: number, move: string): Promise<'purged' | 'live'> {
    const c = await this.link.ready();
    const marker = await this.rollUp(c, runId, subject, lastStreamSeq, move);
    if (marker !== null) {
      await this.dropMarker(marker);
      return 'purged';
    }
    // Refused: the subject does not end where it was read. A marker left by a killed move (recovery), or nothing at all,
    // is this move's to finish; a commit is a writer's that won.
    const last = await getMessage(this.link, this.o, c, { last_by_subj: subject }, this.link.deadline());
    if (!last) return 'purged';
    if (!isArchiveMarker(last.data)) return 'live';
    await this.dropMarker(last.seq);
    return 'purged';
  }

  /**
   * The marker published in place of the subject's messages, its stream sequence; null when the server refused it (the
   * subject's last message is not `lastStreamSeq`). On a replicated stream nats-server checks the expectation before
   * replicating, not atomically (codec.ts, decodeNextCommit): an append expecting the same message can be stored just
   * after the marker. Its writer is told it lost (append-races.ts, checkWon: a marker before its commit) and the marker
   * is rolled up again over it, so the subject ends at a marker.
   */
  async rollUp(c: Conn, runId: string, subject: string, lastStreamSeq: number, move: string): Promise<number | null> {
    let expect = lastStreamSeq;
    for (let round = 0; ; round++) {
      let seq: number;
      try {
        const ack = await this.link.call(
          'purge a run moved to the archive',
          this.link.deadline(),
          (timeoutMs) =>
            c.pub.publish(subject, archiveMarkerBody(move), {
              // Sent again after a lost reply, the server answers "duplicate" with the marker it stored.
              msgID: `${runId}:archive:${move}:${round}`,
              headers: [
                ['Nats-Rollup', 'sub'],
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
        this.takesRollups = false; // changed since ready() looked (a refusal is said by the next move's look)
        throw err;
      }
      if (!c.replicated || round + 1 >= MAX_ROLLUPS) return seq;
      const last = await getMessage(this.link, this.o, c, { last_by_subj: subject }, this.link.deadline());
      if (!last || last.seq === seq || isArchiveMarker(last.data)) return seq;
      expect = last.seq;
    }
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
    const c = await this.link.ready();
    try {
      await this.link.call('delete the archive marker', this.link.deadline(), () =>
        c.jsm.streams.deleteMessage(this.o.stream, seq, false),
      );
    } catch (err) {
      // The server's answer for a message that is not there differs by version: asked instead.
      if (await getMessage(this.link, this.o, c, { seq }, this.link.deadline())) throw err;
    }
  }
}
