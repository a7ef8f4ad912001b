/**
 * A run's log shorter than what was once recorded of it: events lost after they were written (a log cut or restored by
 * hand). A crash can only tear a last line that was never whole, so the run index, which reads whole lines only, never
 * recorded an event a crash takes away; an event it recorded and the log no longer holds was removed afterwards. Such a
 * log is reported (status, list, history warn) and never driven or written to again: folded as it is, it would look
 * like a crash, and its completed work would run again. The file store's index (`<store>/index/runs.jsonl`) is the
 * witness; a store without one (memory, JetStream: its index follows the stream) has none, and a deleted index forgets
 * what it saw (`reindex` accepts the log as it is).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RunLogDamagedError } from '../errors/index.js';
// The adapter's own file, not the store's index: that loads the JetStream adapter (nats) too, which a check of files never needs.
import { FileEventStore } from '../store/file.js';
import type { EventStore } from '../store/index.js';
import { cacheFileIn, readRecorded, readRecordedOf, type Recorded } from './cache-lines.js';
import { JournalWitness } from './journal-witness.js';
import type { DamagedLog } from './port.js';

/**
 * Checks logs against what the store's run index recorded of them. The cache is read again only when its file changed:
 * a `serve` checks every run it picks up without reading it each time. A first check reads only its own run's line
 * (`status`, `history`: one run, whatever the number the store holds); a second, of another run, reads them all.
 */
export class LogWitness {
  private recorded: Map<string, Recorded> | null = null;
  private seen: number | null = null;
  /** The one run read so far, while the cache stays as it was (no map yet). */
  private one: { runId: string; mtime: number; r: Recorded | undefined } | null = null;
  readonly index: string | null;
  private readonly journal: JournalWitness | null;

  constructor(
    private readonly store: EventStore,
    storeDir?: string,
  ) {
    this.index = store instanceof FileEventStore ? cacheFileIn(join(storeDir ?? store.dir, 'index')) : null;
    this.journal = store instanceof FileEventStore ? journalWitness(store, storeDir) : null;
  }

  /** The damage of a run whose log ends at `foundSeq`, or null when the log reaches every event recorded of it. */
  async check(runId: string, foundSeq: number): Promise<DamagedLog | null> {
    if (!this.index || !(this.store instanceof FileEventStore)) return null;
    const mtime = (await stat(this.index).catch(() => null))?.mtimeMs ?? null;
    let r: Recorded | undefined;
    if (mtime === null) r = undefined;
    else if (mtime === this.seen && this.recorded !== null) r = this.recorded.get(runId);
    else if (this.one === null || this.one.runId === runId) {
      if (this.one?.mtime !== mtime)
        this.one = { runId, mtime, r: (await readRecordedOf(this.index, runId)) ?? undefined };
      r = this.one.r;
    } else {
      this.recorded = (await readRecorded(this.index)) ?? new Map();
      this.seen = mtime;
      r = this.recorded.get(runId);
    }
    const file = join(this.store.runsDir, `${runId}.jsonl`);
    if (r && foundSeq < r.seq)
      return { runId, recordedSeq: r.seq, recordedStatus: r.status, foundSeq, index: this.index, file };
    // The index never saw the lost events (no `list` since they were written): the journal may have.
    const mark = await this.journal?.shortfall(runId);
    if (mark && foundSeq < mark.seq)
      return {
        runId,
        recordedSeq: mark.seq,
        recordedStatus: mark.status,
        foundSeq,
        index: join(this.store.dir, 'journal'),
        file,
      };
    return null;
  }

  /**
   * The journal's word on runs a query of the run index just listed (`list`), read once for all of them: the index told
   * its own (`onDamaged`, what it recorded against each log it read), so only the journal is asked here, and only of
   * the runs it holds commits of. check() run by run read the journal's directory for each.
   */
  async journalDamage(runs: readonly { runId: string; lastSeq: number }[]): Promise<Map<string, DamagedLog>> {
    const out = new Map<string, DamagedLog>();
    if (!this.journal || !(this.store instanceof FileEventStore)) return out;
    const seqs = new Map(runs.map((r) => [r.runId, r.lastSeq]));
    for (const [runId, mark] of await this.journal.shortfalls(seqs.keys())) {
      const foundSeq = seqs.get(runId)!;
      if (foundSeq < mark.seq)
        out.set(runId, {
          runId,
          recordedSeq: mark.seq,
          recordedStatus: mark.status,
          foundSeq,
          index: join(this.store.dir, 'journal'),
          file: join(this.store.runsDir, `${runId}.jsonl`),
        });
    }
    return out;
  }

  /** As check(), throwing RunLogDamagedError for a damaged log: before anything drives or writes to it. */
  async refuse(runId: string, foundSeq: number): Promise<void> {
    const d = await this.check(runId, foundSeq);
    if (d) throw new RunLogDamagedError(runId, d);
  }
}

/** The journal witness of a file store (`reindex` asks it to accept the logs as they are). */
export function journalWitness(store: FileEventStore, storeDir?: string): JournalWitness {
  const dir = storeDir ?? store.dir;
  return new JournalWitness(join(dir, 'journal'), store.runsDir, join(dir, 'index', 'accepted-logs.json'), () =>
    store.settleWriter(),
  );
}

/** One line for people: what is lost and how to look. */
export function damagedText(d: DamagedLog): string {
  const witness = d.index.endsWith('journal') ? "the store's journal" : 'the run index';
  return `run ${d.runId}: its log is damaged: it ends at event ${d.foundSeq}, but ${witness} recorded it ${d.recordedStatus} at event ${d.recordedSeq} (${d.index}); events were lost after they were written (cut or restored by hand). It is not driven or written to: inspect it with \`ledgerflow history ${d.runId}\`; put the whole log ${d.file} back from a copy, or accept it as it is with \`ledgerflow reindex\``;
}
