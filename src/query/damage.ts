/**
 * A run's log shorter than what was once recorded of it: events lost after
 * they were written (a log cut or restored by hand). A crash can only tear a
 * last line that was never whole, so the run index, which reads whole lines
 * only, never recorded an event a crash takes away; an event it recorded and
 * the log no longer holds was removed afterwards. Such a log is reported
 * (status, list, history warn) and never driven or written to again: folded
 * as it is, it would look like a crash, and its completed work would run
 * again. The file store's index (`<store>/index/runs.json`) is the witness; a
 * store without one (memory, JetStream: its index follows the stream) has
 * none, and a deleted index forgets what it saw (`reindex` accepts the log
 * as it is).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RunLogDamagedError } from '../errors/index.js';
// The adapter's own file, not the store's index: that loads the JetStream adapter (nats) too, which a check of files never needs.
import { FileEventStore } from '../store/file.js';
import type { EventStore } from '../store/index.js';
import { readRecorded, type Recorded } from './file-index.js';
import type { DamagedLog } from './port.js';

/**
 * Checks logs against what the store's run index recorded of them. The cache
 * is read again only when its file changed: a `serve` checks every run it
 * picks up without reading it each time.
 */
export class LogWitness {
  private recorded: Map<string, Recorded> | null = null;
  private seen: number | null = null;
  readonly index: string | null;

  constructor(private readonly store: EventStore, storeDir?: string) {
    this.index = store instanceof FileEventStore ? join(storeDir ?? store.dir, 'index', 'runs.json') : null;
  }

  /** The damage of a run whose log ends at `foundSeq`, or null when the log reaches every event recorded of it. */
  async check(runId: string, foundSeq: number): Promise<DamagedLog | null> {
    if (!this.index || !(this.store instanceof FileEventStore)) return null;
    const mtime = (await stat(this.index).catch(() => null))?.mtimeMs ?? null;
    if (mtime !== this.seen || this.recorded === null) {
      this.recorded = mtime === null ? new Map() : (await readRecorded(this.index)) ?? new Map();
      this.seen = mtime;
    }
    const r = this.recorded.get(runId);
    if (!r || foundSeq >= r.seq) return null;
    return { runId, recordedSeq: r.seq, recordedStatus: r.status, foundSeq, index: this.index, file: join(this.store.runsDir, `${runId}.jsonl`) };
  }

  /** As check(), throwing RunLogDamagedError for a damaged log: before anything drives or writes to it. */
  async refuse(runId: string, foundSeq: number): Promise<void> {
    const d = await this.check(runId, foundSeq);
    if (d) throw new RunLogDamagedError(runId, d);
  }
}

/** One line for people: what is lost and how to look. */
export function damagedText(d: DamagedLog): string {
  return `run ${d.runId}: its log is damaged: it ends at event ${d.foundSeq}, but the run index recorded it ${d.recordedStatus} at event ${d.recordedSeq} (${d.index}); events were lost after they were written (cut or restored by hand). It is not driven or written to: inspect it with \`ledgerflow history ${d.runId}\`; put the whole log ${d.file} back from a copy, or accept it as it is with \`ledgerflow reindex\``;
}
