/**
 * The EventStore port, shaped for JetStream: one ordered history per run, appended with an expected last sequence
 * (optimistic concurrency) and a dedup id (a retried append is written once). Adapters: memory, file (the embedded
 * default) and JetStream; one contract suite runs on all of them.
 */
import type {
  EventEnvelope,
  PayloadRef,
  RunHeader,
  RunParent,
  RunSchedule,
  TornTail,
  WorkflowStatus,
} from '../events/index.js';
import type { BlobPlace } from '../errors/index.js';

export type { TornTail };

export interface AppendRequest {
  runId: string;
  /** The run's last sequence the writer has seen; 0 for a new run. */
  expectedSeq: number;
  /** Identifies this append: retrying the same append with the same dedupId writes nothing twice. */
  dedupId: string;
  /** Consecutive events with seq expectedSeq+1, expectedSeq+2, ... Written all or none. */
  events: EventEnvelope[];
  /**
   * `JSON.stringify` of the definition in the commit's run.started, when the caller has it made (its
   * workflow value's `json`, made once for every run of it): spliced in instead of made again, the same
   * bytes. Most of a start commit's bytes.
   */
  definitionJson?: string;
}

export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
  /** True when this dedupId had already been appended: nothing new was written. */
  duplicate: boolean;
  /**
   * Where the store keeps this commit (JetStream: its stream sequence), for
   * `ReadOptions.fromPosition`; absent on stores that read a run whole anyway.
   */
  position?: number;
}

/** A run as the stores list it: its header and last sequence, read from its first and last events without folding. */
export interface RunSummary extends RunHeader {
  lastSeq: number;
  /** The run that started this one (a SUB_WORKFLOW's child, or `relation: failure`: a failed run's failure workflow). */
  parent?: Pick<RunParent, 'runId' | 'task' | 'relation'>;
  /** The schedule slot that started the run (its trigger index and slot), from its run.started. */
  schedule?: Pick<RunSchedule, 'trigger' | 'slot'>;
}

export interface ReadOptions {
  /** First sequence to return (default 1). */
  fromSeq?: number;
  /** Last sequence to return, inclusive (default: the end). */
  toSeq?: number;
  /**
   * A position an append returned for the commit holding `fromSeq` (or an earlier one of the run): the store may start
   * reading there instead of at the run's beginning. A hint only: a store that cannot use it, or finds it does not fit,
   * reads from the beginning and returns the same events.
   */
  fromPosition?: number;
}

/**
 * Where a readOn of a run ended: opaque to its reader, good only for the store and run that returned it (the file store's
 * is its read cursor).
 */
export interface ReadMark {
  readonly of: string;
}

/** The events a readOn found after its mark, and the mark after them. */
export interface ReadOn {
  events: EventEnvelope[];
  mark: ReadMark;
}

export interface RunEvents {
  runId: string;
  events: EventEnvelope[];
}

export interface RunLease {
  release(): Promise<void>;
}

/** A run whose stored log cannot be read (a line or message that is not a valid commit of it). */
export interface CorruptRun {
  runId: string;
  /** Where: the run's file (file store), or `<stream> message <seq>` (JetStream). */
  file: string;
  reason: string;
}

/**
 * Given to listRuns/readAll, a corrupt run is reported here and the others are still listed or read; without it, the
 * first corrupt run throws its StoreError. A corrupt run is reported whatever the filter (which workflow it belongs to
 * may be what cannot be read).
 */
export interface CorruptRunHandler {
  onCorrupt?: (run: CorruptRun) => void;
}

export interface FollowOptions {
  skipUpTo?: () => number;
}

/** A follower's callback: one batch of a run's events, in order. */
export type OnEvents = (events: EventEnvelope[]) => void;

export interface Subscription {
  close(): void;
}

export interface EventStore {
  /**
   * Appends atomically. Throws AppendConflictError when the run's last sequence is not `expectedSeq` (unless `dedupId`
   * was already appended, in which case it returns the original result with duplicate: true). Resolves only once the
   * events are durable.
   */
  append(req: AppendRequest): Promise<AppendResult>;
  /** The run's events in order; [] when the run does not exist. */
  read(runId: string, opts?: ReadOptions): Promise<EventEnvelope[]>;
  /**
   * Optional (the file store): the run's events after where an earlier readOn of it ended (`from`; null: from its first),
   * and where this read ended, so a reader that keeps a run's fold (the run page's: server/viewed-runs.ts) reads only what
   * was appended since. null when the run's live log is absent or `from` does not fit it (written again, cut short): then
   * read() it whole, which finds an archived run too.
   */
  readOn?(runId: string, from: ReadMark | null): Promise<ReadOn | null>;
  /** The last sequence of the run, 0 when it does not exist. */
  lastSeq(runId: string): Promise<number>;
  listRuns(filter?: { workflowId?: string; status?: WorkflowStatus } & CorruptRunHandler): Promise<RunSummary[]>;
  /**
   * Every run's events (only `workflowId`'s with that filter), one run at a time, each whole as `read` would return it
   * during the call; runs started meanwhile may be left out. In no particular order. JetStream reads its stream in one
   * pass instead of one consumer per run.
   */
  readAll(filter?: { workflowId?: string } & CorruptRunHandler): AsyncIterable<RunEvents>;
  /**
   * Optional (the file store): where the bytes of torn last lines cut from
   * the run's log were kept, and how many; null when none ever were.
   */
  tornTail?(runId: string): Promise<TornTail | null>;
  /**
   * Optional (the file store): makes this process the run's only driver until `release`. Throws RunBusyError naming the
   * holder when another live process drives it; a lease left by a dead process on this host is taken over at once.
   * Stores without it (JetStream) coordinate drivers through the expected sequence alone.
   */
  leaseRun?(runId: string): Promise<RunLease>;
  /**
   * Optional: runs `fn` while no other process runs one under the same `name` (a short token: [A-Za-z0-9_-]); admission
   * to a workflow's concurrency slots (limits/admission.ts) decides under it. The file store holds a lock file (broken
   * at once when its holder died on this host); JetStream a KV entry created at revision 0 (one that outlives its
   * holder's `ttl` is taken over). Stores without it are used by one process.
   */
  exclusive?<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Optional: changes a small shared JSON document (`name`: a short token as exclusive's) with no other writer in
   * between, in every process and engine that opens the same store: `fn` gets the document (null when none) and returns
   * the one to write and a result. Task gates keep their state so (limits/task-gate.ts). The file store writes
   * `<dir>/gates/<name>.json` under its lock; JetStream compares-and-sets a KV entry (LF_TASK_GATES); the memory store
   * keeps a map. `fn` may run more than once (a lost race).
   */
  updateShared?<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T>;
  /** Optional, with updateShared: the shared document as last written (null when none), without changing it. The limits file's limits are kept so. */
  readShared?(name: string): Promise<unknown>;
  /**
   * Calls `onEvents` with each batch of events appended after `afterSeq`, by any writer. `opts.skipUpTo`, asked at each
   * batch: the follower has no use for a batch ending at or before that seq (a driver's own commits), so a store may
   * leave it out instead of decoding it (the file store does for the lines its own writer adds); the follower must not
   * count on either.
   */
  follow(runId: string, afterSeq: number, onEvents: OnEvents, opts?: FollowOptions): Subscription;
  /**
   * Optional: where this store keeps payloads too large to be inline in an event (events/payload-ref.ts): files under
   * `<dir>/blobs/` (file store), a JetStream Object Store bucket (NATS), a map (memory).
   */
  blobs?(): BlobStore;
  /**
   * Optional: where settled runs are moved out of the live log and index (docs/retention.md): gzip files per month
   * under `<dir>/archive/` (file store), a JetStream Object Store bucket (NATS). `read` of an archived run reads it
   * there; `lastSeq`, `listRuns` and `readAll` see only live runs.
   */
  archive?(): RunArchive;
  close(): Promise<void>;
}

/** A run kept in the archive: enough to list it without reading it, and where it is. */
export interface ArchivedRun {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
  startedAt: string;
  completedAt: string | null;
  lastSeq: number;
  /** The month the run settled in (UTC, `2026-11`): runs are archived one file or object per period. */
  period: string;
  archivedAt: string;
  /**
   * What moves with the run besides its log (its large payloads' blobs), recorded with it: the archive keeps the
   * list and gives it back on restore, the blob store moves the bodies.
   */
  attachments?: { digest: string; size: number }[];
}

export interface ArchiveOptions {
  /** What moves with the run (undefined: nothing), or null: the run is not moved (left live, as a changed one is). */
  attachments?: (runId: string, events: EventEnvelope[]) => Promise<ArchivedRun['attachments'] | null>;
}

/** One period of the archive, as `archive list` shows it. */
export interface ArchivePeriod {
  period: string;
  runs: number;
  /** Compressed bytes kept for the period. */
  bytes: number;
  /** The file (file store) or object (NATS) holding it. */
  location: string;
}

/**
 * The archive of a store: settled runs moved as their stored bytes are (lines or messages, possibly encrypted, never
 * decoded and written again), each always either live or archived, never both nor neither, whatever is killed when.
 */
export interface RunArchive {
  /**
   * Moves these settled runs into the archive; returns those moved (a run gone, changed or not settled is left).
   * `attachments`, when given, is asked for each run moved (its events as stored) and its answer recorded with the run
   * (ArchivedRun.attachments): the hook for what moves with a run besides its log.
   */
  archive(runs: RunSummary[], now: Date, opts?: ArchiveOptions): Promise<ArchivedRun[]>;
  /** The archived run's record, null when it is not archived. */
  find(runId: string): Promise<ArchivedRun | null>;
  /** The archived run's events, null when it is not archived. */
  read(runId: string): Promise<EventEnvelope[] | null>;
  periods(): Promise<ArchivePeriod[]>;
  /** Brings the run back into the live log and index; throws RunNotFoundError when it is not archived. */
  restore(runId: string): Promise<ArchivedRun>;
  /** When `restore` brought runs back, the last year's (archive/restores.ts): a round counts their retention from it. */
  restores(): Promise<ReadonlyMap<string, string>>;
  /** Completes or rolls back a move a killed process left half done. Every other call does it first. */
  recover(): Promise<void>;
  /** The digests archived runs' records hold (ArchivedRun.attachments): blob GC keeps their bodies. */
  attachedDigests(): Promise<Set<string>>;
}

/**
 * The bytes `BlobStore.put` stores: whole, a one-shot stream, or a repeatable stream (a function giving the same bytes
 * afresh each time it is called). A store that must know the digest before it sends a byte (NATS: the object is named
 * by it) reads a repeatable source twice, hashing only, then sending, and so never holds the body; a one-shot source it
 * keeps in memory until the digest is known.
 */
export type BlobSource = Uint8Array | AsyncIterable<Uint8Array> | (() => AsyncIterable<Uint8Array>);

/**
 * Content-addressed bodies of large payloads. `put` is idempotent (the same bytes, the same reference, stored once);
 * bodies are streamed, never held whole by the store. A digest is always `sha256:<64 hex>` of the bytes `put` was given
 * (the value's JSON in the clear): a wrapper that changes the bytes at rest (encryption) keeps the digest of the clear.
 */
export interface BlobStore {
  /**
   * Stores the bytes (a value's JSON) and returns the reference an event keeps. `address`, when given, is asked once
   * the bytes are consumed and says the digest (and size) to keep them under instead of their own: encryption at rest
   * (src/encryption/blobs.ts) stores sealed bytes under the digest of the clear JSON, so references and replay's
   * digest check are the same with or without it. A store must honour it (return that digest).
   *
   * A repeatable source may be read more than once: `address` is then asked after each pass and says that pass's
   * address. A store that reads it again must check that the pass it keeps has the address it stores it under (a
   * source whose bytes changed between passes: the bytes of one pass kept whole, as a one-shot source's), and the
   * bytes kept are the last pass's.
   */
  put(bytes: BlobSource, mediaType: string, address?: () => { digest: string; size: number }): Promise<PayloadRef>;
  /**
   * The body as a stream, null when the store has no such blob; checked against `digest` as it streams
   * (blobs/digests.ts checkedBody): bytes changed where they are kept end the stream with BlobAlteredError (naming the
   * place and the fix) before its last chunk, so no reader is handed a complete-looking altered body.
   */
  open(digest: string): Promise<AsyncIterable<Uint8Array> | null>;
  /**
   * Optional: the bytes as kept, unchecked (null: no such blob), for a decorator that keeps other bytes than it was
   * given under their digest (encryption at rest, `put`'s address) and checks what it hands out itself. No other
   * reader uses it.
   */
  openAtRest?(digest: string): Promise<AsyncIterable<Uint8Array> | null>;
  /**
   * Optional: where the bytes of `digest` are kept (a file, an object of a bucket) and how to put an intact body back
   * there, which a read's BlobAlteredError names; a decorator's own check (encryption at rest) names it too.
   */
  placeOf?(digest: string): BlobPlace;
  /**
   * Optional: the whole body at once, synchronously (null: no such blob), for a store on this machine (file, memory),
   * checked against `digest` before it is returned (BlobAlteredError). The core's payload resolver reads through it
   * when a value is not cached, so the in-process executor needs no second evaluation; a store without it (NATS) is
   * read asynchronously by the executor's edge instead.
   */
  readSync?(digest: string): Uint8Array | null;
  has(digest: string): Promise<boolean>;
  delete(digest: string): Promise<void>;
  /** Every stored blob's digest and size, and when it was stored (ms since the epoch), which GC's grace period reads. */
  list(): AsyncIterable<{ digest: string; size: number; storedAt: number }>;
}

/**
 * A run's folded state after event `seq`, kept to shorten replay: a loader restores it and folds only the events after
 * it. Never authoritative: a loader checks it against the event at `seq` it reads from the log, and deleting every
 * snapshot changes no result, only the time to load.
 */
export interface StoredSnapshot {
  runId: string;
  seq: number;
  /** The append position of the commit holding event `seq` (see AppendResult.position), or null. */
  position: number | null;
  /** The definition the run started with, and its content hash: a snapshot is folded on with the same machine. */
  definitionHash: string;
  definition: Record<string, unknown>;
  /** The interpreter's persisted snapshot (PersistedFold): state value, status, context, region entry order. */
  fold: { value: unknown; status: 'active' | 'done'; context: Record<string, unknown>; entered: string[] };
  /** When it was taken (ISO time), for operators. */
  takenAt: string;
}

/** Where snapshots live: one per run, the latest replacing the one before (JetStream: a KV bucket). */
export interface SnapshotStore {
  /** The run's snapshot, null when there is none. Throws StoreError when the stored one is malformed (it is not used then). */
  get(runId: string): Promise<StoredSnapshot | null>;
  put(snapshot: StoredSnapshot): Promise<void>;
  delete(runId: string): Promise<void>;
  close(): Promise<void>;
}
