/**
 * What the run indexes (file, JetStream, folded in memory) share: the records they hold (RecordSet), queries and links
 * over them, the listeners, and reading one run fresh from its log. Each adapter says how its records are brought up to
 * date (`current`), followed (`ready` / `unfollow`) and which runs are corrupt.
 */
import { IndexSealer } from '../encryption/index.js';
import { RUN_ID_PATTERN, type EventEnvelope } from '../events/index.js';
import type { CorruptRun, EventStore } from '../store/index.js';
import { foldLoaded } from '../executor/index.js';
import type { DamagedLog, RecordFollower, RunIndex, RunIndexOptions } from './port.js';
import type { RunPage } from './paging.js';
import type { RunQuery } from './query.js';
import { advance, RecordGapError, recordOf, track, type RunRecord, type TrackedRun } from './record.js';
import { RecordSet, type VersionSeen } from './record-set.js';

export abstract class HeldRunIndex<O extends RunIndexOptions = RunIndexOptions> implements RunIndex {
  protected set = new RecordSet();
  protected readonly listeners = new Set<(r: RunRecord) => void>();
  protected closed = false;

  constructor(
    private readonly log: Pick<EventStore, 'read' | 'blobs'>,
    protected readonly opts: O,
  ) {
    // A run's record read fresh is folded from its events as the store's decorators give them (opened with the key).
    if (opts.keysFrom) this.log = opts.keysFrom;
  }

  /** The sealer of an encrypting store (record-values.ts), asked once; null: a store that never encrypts. */
  protected sealer: IndexSealer | null | undefined = undefined;
  /** Whether this process folds without the data key a store that encrypts (record.ts `blind`: cases found by hash). */
  protected get blind(): boolean {
    return this.sealer?.key === null;
  }

  /** A fold of a run, made again with the large payloads it reads loaded (executor/payloads.ts foldLoaded). */
  protected loaded<T>(fold: () => T): T | Promise<T> {
    return foldLoaded(this.log.blobs?.(), fold);
  }

  protected async sealerReady(): Promise<IndexSealer | null> {
    if (this.sealer === undefined) this.sealer = this.opts.keysFrom ? await IndexSealer.of(this.opts.keysFrom) : null;
    return this.sealer;
  }

  /**
   * What this index folds of a run: opened when this process holds a key (a promise), else the events as stored, given
   * back at once (the clear path: no await, nothing allocated), any sealed value among them noted.
   */
  protected folded(runId: string, events: EventEnvelope[]): EventEnvelope[] | Promise<EventEnvelope[]> {
    const s = this.sealer;
    if (!s) return events;
    if (s.key) return s.open(runId, events);
    s.noteSealed(events);
    return events;
  }

  /** Live or subscribed: the records held (loaded once, then followed). Else: loaded now. */
  protected abstract current(): Promise<void>;
  /** Loads the records once and follows the store from then on. */
  protected abstract ready(): Promise<void>;
  protected abstract unfollow(): void;
  protected abstract warn(err: unknown): void;
  /** The runs found corrupt by the last look, told to `onCorrupt` at every query. */
  protected abstract corruptRuns(): Iterable<CorruptRun>;
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.unfollow();
  }
  /** The runs whose log is shorter than this index recorded it, told to `onDamaged` at every query (only the file index keeps a witness). */
  protected damagedRuns(): Iterable<DamagedLog> {
    return [];
  }

  async query(q: RunQuery): Promise<RunPage> {
    await this.current();
    for (const c of this.corruptRuns()) this.opts.onCorrupt?.(c);
    for (const d of this.damagedRuns()) this.opts.onDamaged?.(d);
    return this.set.page(q, 'newest');
  }

  /** Always folded from the run's log: a run's page is current right after an action, whatever the index has seen. */
  async get(runId: string): Promise<RunRecord | null> {
    if (!RUN_ID_PATTERN.test(runId)) return null;
    const events = await this.log.read(runId);
    return events.length > 0 ? this.loaded(() => recordOf(events)) : null;
  }

  /**
   * get() kept up to date as the run's events arrive: each batch continues the record folded so far, so a run page's
   * stream of a run of 40,000 events folds each event once, not the whole log at every batch. The log is read and
   * folded whole only the first time, and when a batch does not follow on from the record (a gap, a log replaced).
   */
  followRecord(runId: string): RecordFollower {
    if (!RUN_ID_PATTERN.test(runId)) return { next: async () => null };
    let tracked: TrackedRun | null = null;
    return {
      next: async (events) => {
        const was = tracked;
        if (was) {
          const more = events.filter((e) => e.seq > was.record.lastSeq);
          try {
            tracked = await this.loaded(() => advance(was, more));
            return tracked.record;
          } catch (err) {
            if (!(err instanceof RecordGapError)) throw err;
          }
        }
        const all = await this.log.read(runId);
        tracked = all.length > 0 ? await this.loaded(() => track(all)) : null;
        return tracked?.record ?? null;
      },
    };
  }

  async children(runId: string): Promise<RunRecord[]> {
    await this.current();
    return this.set.children(runId);
  }

  async versions(): Promise<VersionSeen[]> {
    await this.current();
    return this.set.versions();
  }

  subscribe(onChange: (r: RunRecord) => void): { close(): void } {
    this.listeners.add(onChange);
    void this.ready().catch((err: unknown) => this.warn(err));
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        this.listeners.delete(onChange);
        if (this.listeners.size === 0 && !this.opts.live) this.unfollow();
      },
    };
  }
}
