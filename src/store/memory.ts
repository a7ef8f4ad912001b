/**
 * In-memory EventStore for tests and library use. It keeps the exact semantics of the durable stores (the contract
 * suite runs on it): events are stored as their JSON encoding, parsed back when first read, so values round-trip as
 * they would through a file or JetStream (Dates become strings, undefined disappears), and reads hand out copies, so a
 * caller can never edit recorded history. A commit nobody reads (a driver's own, followed with `skipUpTo`) is never
 * parsed: the engine's ceiling (bench/ceiling.ts) pays one stringify per commit, as the durable stores do, and no
 * parse.
 */
import type { EventEnvelope } from '../events/index.js';
import { AppendConflictError, StoreError } from '../errors/index.js';
import type {
  AppendRequest,
  AppendResult,
  EventStore,
  FollowOptions,
  OnEvents,
  ReadOptions,
  RunEvents,
  RunSummary,
  Subscription,
  BlobStore,
} from './port.js';
import { MemoryBlobStore } from './blobs/memory.js';
import { SharedDocs } from './shared-docs.js';
import { assertRunId, checkAppend, deliver, filterAndSort, readAllByRun, summarize, type RunFilter } from './common.js';

interface MemoryRun {
  /** Each commit's JSON (`{"dedupId":…,"events":[…]}`), in order: what is stored. */
  commits: string[];
  /** How many of `commits` are parsed into `events` so far. */
  parsedCommits: number;
  /** The events of the first `parsedCommits` commits, parsed from their JSON (never handed out: reads copy). */
  events: EventEnvelope[];
  /** The run's last seq: its number of events. */
  lastSeq: number;
  dedup: Map<string, { firstSeq: number; lastSeq: number }>;
}

/** The run's events, every commit parsed (each commit's JSON once, on the first read that needs it). */
function parsed(run: MemoryRun): EventEnvelope[] {
  while (run.parsedCommits < run.commits.length) {
    const stored = JSON.parse(run.commits[run.parsedCommits]!) as { events: EventEnvelope[] };
    for (const e of stored.events) run.events.push(e);
    run.parsedCommits++;
  }
  return run.events;
}

interface Follower {
  delivered: number;
  scheduled: boolean;
  closed: boolean;
  onEvents: OnEvents;
  skipUpTo?: () => number;
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
    const run: MemoryRun = this.runs.get(req.runId) ?? {
      commits: [],
      parsedCommits: 0,
      events: [],
      lastSeq: 0,
      dedup: new Map(),
    };
    const dup = run.dedup.get(req.dedupId);
    if (dup) return { ...dup, duplicate: true };
    const actual = run.lastSeq;
    if (actual !== req.expectedSeq) throw new AppendConflictError(req.runId, req.expectedSeq, actual);
    run.commits.push(checked.json);
    run.lastSeq = checked.lastSeq;
    run.dedup.set(req.dedupId, { firstSeq: checked.firstSeq, lastSeq: checked.lastSeq });
    this.runs.set(req.runId, run);
    const followers = this.followers.get(req.runId);
    if (followers) for (const f of followers) this.schedule(req.runId, f);
    return { firstSeq: checked.firstSeq, lastSeq: checked.lastSeq, duplicate: false };
  }

  async read(runId: string, opts: ReadOptions = {}): Promise<EventEnvelope[]> {
    assertRunId(runId);
    const from = opts.fromSeq ?? 1;
    const to = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
    const run = this.runs.get(runId);
    const events = run ? parsed(run) : [];
    // A run's events are seq 1, 2, ... in order (append checks it): the range is a slice, not a scan of the whole log.
    return structuredClone(events.slice(Math.max(from, 1) - 1, Math.max(to, 0)));
  }

  async lastSeq(runId: string): Promise<number> {
    assertRunId(runId);
    return this.runs.get(runId)?.lastSeq ?? 0;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    const out: RunSummary[] = [];
    for (const run of this.runs.values()) {
      parsed(run);
      const first = run.events[0];
      const last = run.events[run.events.length - 1];
      if (first && last) out.push(summarize(first, last));
    }
    return filterAndSort(out, filter);
  }

  readAll(filter: { workflowId?: string } = {}): AsyncIterable<RunEvents> {
    return readAllByRun(this, filter);
  }

  follow(runId: string, afterSeq: number, onEvents: OnEvents, opts: FollowOptions = {}): Subscription {
    assertRunId(runId);
    const f: Follower = {
      delivered: afterSeq,
      scheduled: false,
      closed: false,
      onEvents,
      ...(opts.skipUpTo ? { skipUpTo: opts.skipUpTo } : {}),
    };
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

  private readonly blobStore = new MemoryBlobStore();
  blobs(): BlobStore {
    return this.blobStore;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.followers.values()) for (const f of set) f.closed = true;
    this.followers.clear();
  }

  /**
   * Delivers asynchronously (never from inside append), like the durable stores, so callers cannot come to depend on
   * synchronous delivery; the `delivered` mark keeps batches in order and without repeats.
   */
  private schedule(runId: string, f: Follower): void {
    if (f.scheduled) return;
    f.scheduled = true;
    queueMicrotask(() => {
      f.scheduled = false;
      if (f.closed) return;
      const run = this.runs.get(runId);
      if (!run || run.lastSeq <= f.delivered) return;
      // Of no use to the follower (its own commits): passed over unparsed and uncopied, as if delivered.
      if (f.skipUpTo && run.lastSeq <= f.skipUpTo()) {
        f.delivered = run.lastSeq;
        return;
      }
      const events = parsed(run).slice(Math.max(f.delivered, 0));
      if (events.length === 0) return;
      f.delivered = events[events.length - 1]!.seq;
      deliver(f.onEvents, structuredClone(events), runId);
    });
  }
}
