/**
 * In-memory EventStore for tests and library use. It keeps the exact
 * semantics of the durable stores (the contract suite runs on it): events are
 * stored as their JSON encoding re-parsed, so values round-trip as they would
 * through a file or JetStream (Dates become strings, undefined disappears),
 * and reads hand out copies, so a caller can never edit recorded history.
 */
import type { EventEnvelope } from '../events/index.js';
import { AppendConflictError, StoreError } from '../errors/index.js';
import type { AppendRequest, AppendResult, EventStore, ReadOptions, RunEvents, RunSummary, Subscription } from './port.js';
import { SharedDocs } from './shared-docs.js';
import { assertRunId, checkAppend, deliver, filterAndSort, readAllByRun, summarize, type RunFilter } from './common.js';

interface MemoryRun {
  events: EventEnvelope[];
  dedup: Map<string, { firstSeq: number; lastSeq: number }>;
}

interface Follower {
  delivered: number;
  scheduled: boolean;
  closed: boolean;
  onEvents: (events: EventEnvelope[]) => void;
}

export class MemoryEventStore implements EventStore {
  private readonly shared = new SharedDocs();

  /** A small shared document (task gates): this process is the only one on a memory store. */
  updateShared<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T> {
    return this.shared.update(name, fn);
  }

  readShared(name: string): Promise<unknown> {
    return this.shared.read(name);
  }

  private readonly runs = new Map<string, MemoryRun>();
  private readonly followers = new Map<string, Set<Follower>>();
  private closed = false;

  async append(req: AppendRequest): Promise<AppendResult> {
    if (this.closed) throw new StoreError('append on a closed store', { runId: req.runId });
    const checked = checkAppend(req);
    // No await between the checks and the write below: JavaScript runs this
    // block alone, which is what makes check-and-write atomic here.
    const run: MemoryRun = this.runs.get(req.runId) ?? { events: [], dedup: new Map() };
    const dup = run.dedup.get(req.dedupId);
    if (dup) return { ...dup, duplicate: true };
    const actual = run.events.length;
    if (actual !== req.expectedSeq) throw new AppendConflictError(req.runId, req.expectedSeq, actual);
    const stored = JSON.parse(checked.json) as { events: EventEnvelope[] };
    run.events.push(...stored.events);
    run.dedup.set(req.dedupId, { firstSeq: checked.firstSeq, lastSeq: checked.lastSeq });
    this.runs.set(req.runId, run);
    for (const f of this.followers.get(req.runId) ?? []) this.schedule(req.runId, f);
    return { firstSeq: checked.firstSeq, lastSeq: checked.lastSeq, duplicate: false };
  }

  async read(runId: string, opts: ReadOptions = {}): Promise<EventEnvelope[]> {
    assertRunId(runId);
    const from = opts.fromSeq ?? 1;
    const to = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
    const events = this.runs.get(runId)?.events ?? [];
    // A run's events are seq 1, 2, ... in order (append checks it): the range is a slice, not a scan of the whole log.
    return structuredClone(events.slice(Math.max(from, 1) - 1, Math.max(to, 0)));
  }

  async lastSeq(runId: string): Promise<number> {
    assertRunId(runId);
    return this.runs.get(runId)?.events.length ?? 0;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    for (const run of this.runs.values()) {
      const first = run.events[0];
      const last = run.events[run.events.length - 1];
      if (first && last) out.push(summarize(first, last));
    }
    return filterAndSort(out, filter);
  }

  readAll(filter: { workflowId?: string } = {}): AsyncIterable<RunEvents> {
    return readAllByRun(this, filter);
  }

  follow(runId: string, afterSeq: number, onEvents: (events: EventEnvelope[]) => void): Subscription {
    assertRunId(runId);
    const f: Follower = { delivered: afterSeq, scheduled: false, closed: false, onEvents };
    let set = this.followers.get(runId);
    if (!set) this.followers.set(runId, (set = new Set()));
    set.add(f);
    // Catch up on events already past afterSeq, as the other stores do.
    this.schedule(runId, f);
    return {
      close: () => {
        f.closed = true;
        set.delete(f);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.followers.values()) for (const f of set) f.closed = true;
    this.followers.clear();
  }

  /**
   * Delivers asynchronously (never from inside append), like the durable
   * stores, so callers cannot come to depend on synchronous delivery; the
   * `delivered` mark keeps batches in order and without repeats.
   */
  private schedule(runId: string, f: Follower): void {
    if (f.scheduled) return;
    f.scheduled = true;
    queueMicrotask(() => {
      f.scheduled = false;
      if (f.closed) return;
      const events = (this.runs.get(runId)?.events ?? []).slice(Math.max(f.delivered, 0));
      if (events.length === 0) return;
      f.delivered = events[events.length - 1]!.seq;
      deliver(f.onEvents, structuredClone(events), runId);
    });
  }
}
