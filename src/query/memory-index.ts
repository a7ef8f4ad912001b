/**
 * The run index of a store that keeps no index of its own (memory, or any EventStore): records folded in memory, each
 * continued from where it was with the events appended since (listRuns says which runs moved on).
 */
import type { CorruptRun, EventStore } from '../store/index.js';
import { HeldRunIndex } from './held-index.js';
import type { RunIndexOptions } from './port.js';
import { advance, track, type RunRecord, type TrackedRun } from './record.js';
import { errorMessage } from '../errors/index.js';

export class FoldingRunIndex extends HeldRunIndex {
  private readonly runs = new Map<string, TrackedRun>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: EventStore,
    opts: RunIndexOptions = {},
  ) {
    super(store, opts);
  }

  /** Every record brought up to its run's log; each that changed is told to the subscribers. */
  protected async current(): Promise<void> {
    for (const r of await this.refresh()) for (const l of this.listeners) l(r);
  }

  /** Subscribed: looks again every `pollMs`. */
  protected async ready(): Promise<void> {
    if (this.timer || this.closed) return;
    this.timer = setInterval(
      () => void this.current().catch((err: unknown) => this.warn(err)),
      this.opts.pollMs ?? 1000,
    );
    this.timer.unref();
  }

  protected unfollow(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  protected warn(err: unknown): void {
    process.emitWarning(`ledgerflow: run index: ${errorMessage(err)}`, 'LedgerflowIndexWarning');
  }

  /** None: listRuns tells `onCorrupt` itself at each look. */
  protected corruptRuns(): Iterable<CorruptRun> {
    return [];
  }

  /** Brings every record up to its run's log; returns the records that changed. */
  private async refresh(): Promise<RunRecord[]> {
    const summaries = await this.store.listRuns(this.opts.onCorrupt ? { onCorrupt: this.opts.onCorrupt } : {});
    const changed: RunRecord[] = [];
    const seen = new Set<string>();
    for (const s of summaries) {
      seen.add(s.runId);
      const had = this.runs.get(s.runId);
      if (had && had.record.lastSeq === s.lastSeq) continue;
      const from = had && had.record.lastSeq < s.lastSeq ? had : null;
      const events = await this.store.read(s.runId, from ? { fromSeq: from.record.lastSeq + 1 } : {});
      const t = await this.loaded(() => (from ? advance(from, events) : track(events)));
      this.runs.set(s.runId, t);
      if (had && t.record.lastSeq < had.record.lastSeq) this.set.delete(s.runId);
      this.set.put(t.record);
      changed.push(t.record);
    }
    for (const id of [...this.runs.keys()])
      if (!seen.has(id)) {
        this.runs.delete(id);
        this.set.delete(id);
      }
    return changed;
  }
}
