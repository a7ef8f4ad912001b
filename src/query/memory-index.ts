/**
 * The run index of a store that keeps no index of its own (memory, or any
 * EventStore): records folded in memory, each continued from where it was
 * with the events appended since (listRuns says which runs moved on).
 */
import type { EventStore } from '../store/index.js';
import type { RunIndex, RunIndexOptions } from './port.js';
import type { RunPage, RunQuery } from './query.js';
import { advance, track, type RunRecord, type TrackedRun } from './record.js';
import { RecordSet, type VersionSeen } from './record-set.js';
import { errorMessage } from '../errors/index.js';

export class FoldingRunIndex implements RunIndex {
  private readonly runs = new Map<string, TrackedRun>();
  private readonly set = new RecordSet();
  private readonly subs = new Set<() => void>();

  constructor(private readonly store: EventStore, private readonly opts: RunIndexOptions = {}) {}

  async query(q: RunQuery): Promise<RunPage> {
    await this.refresh();
    return this.set.page(q, 'newest');
  }

  async get(runId: string): Promise<RunRecord | null> {
    const events = await this.store.read(runId);
    return events.length > 0 ? track(events).record : null;
  }

  async children(runId: string): Promise<RunRecord[]> {
    await this.refresh();
    return this.set.children(runId);
  }

  async versions(): Promise<VersionSeen[]> {
    await this.refresh();
    return this.set.versions();
  }

  subscribe(onChange: (r: RunRecord) => void): { close(): void } {
    let stopped = false;
    const tick = async () => {
      try {
        for (const r of await this.refresh()) if (!stopped) onChange(r);
      } catch (err) {
        process.emitWarning(`ledgerflow: run index: ${errorMessage(err)}`, 'LedgerflowIndexWarning');
      }
    };
    const timer = setInterval(() => void tick(), this.opts.pollMs ?? 1000);
    timer.unref();
    const close = () => { stopped = true; clearInterval(timer); this.subs.delete(close); };
    this.subs.add(close);
    return { close };
  }

  async close(): Promise<void> {
    for (const close of [...this.subs]) close();
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
      const t = had && had.record.lastSeq < s.lastSeq
        ? advance(had, await this.store.read(s.runId, { fromSeq: had.record.lastSeq + 1 }))
        : track(await this.store.read(s.runId));
      this.runs.set(s.runId, t);
      if (had && t.record.lastSeq < had.record.lastSeq) this.set.delete(s.runId);
      this.set.put(t.record);
      changed.push(t.record);
    }
    for (const id of [...this.runs.keys()]) if (!seen.has(id)) { this.runs.delete(id); this.set.delete(id); }
    return changed;
  }
}
