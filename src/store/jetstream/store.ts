/**
 * The EventStore on NATS JetStream (docs/nats.md). One stream (LF_EVENTS), one subject per run
 * (`lf.events.<workflowId>.<runId>`), one message per commit: the commit's JSON `{dedupId, events}`, so a commit is
 * written all or none without server batch features (2.9 has none).
 *
 * Appends carry `Nats-Msg-Id` (run id + dedup id) and the expected last *stream* sequence of the run's subject; the
 * port speaks in *event* seqs. A per-run cache {subject, lastStreamSeq, lastEventSeq} maps one onto the other; it is
 * never trusted: a "wrong last sequence" answer refreshes it from the subject's last message, and only a refreshed
 * event seq that differs from the caller's expectedSeq is a conflict. The server checks the dedup id before the
 * expectation, so a retry is answered "duplicate" even when its expectation went stale; when the cache already says the
 * caller is stale we publish with an expectation no subject can meet, which lets the server either recognise the dedup
 * id or refuse without writing.
 *
 * The connection (connection.ts) is opened lazily by the first call, so openStore() stays synchronous; each call
 * retries timeouts and disconnections, with the same message id, for a bounded time and then fails with a StoreError.
 * Every server error reaches callers as a StoreError (or AppendConflictError) with the client's error as `cause`.
 * Following a run (follow.ts) and reading every run (read-all.ts) are modules of their own; a run is read by requests
 * to the stream's leader, and only a long one through a consumer (run-messages.ts), scans go through scan.ts. The
 * per-run cache is run-positions.ts; a run's last message fetched around it (its position, a run of one commit read
 * whole) is last-message.ts, and listing runs list-runs.ts.
 *
 * On a replicated stream nats-server checks the expected last subject sequence before replicating, not atomically, so
 * two appends with one expectation can both be stored: readers take the first (codec.ts, decodeNextCommit) and an
 * append checks it was that one (append-races.ts).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { PubAck } from '@nats-io/jetstream';
import { StorageType } from './nats-lib.js';
import type { EventEnvelope } from '../../events/index.js';
import { AppendConflictError, StoreError } from '../../errors/index.js';
import type {
  AppendRequest,
  AppendResult,
  CorruptRunHandler,
  EventStore,
  OnEvents,
  ReadOptions,
  RunEvents,
  RunSummary,
  Subscription,
  BlobStore,
} from '../port.js';
import { assertRunId, checkAppend, isRunId, type RunFilter } from '../common.js';
import {
  ERR_WRONG_LAST_SEQUENCE,
  NEVER_SEQ,
  anyRunSubject,
  apiErrorCode,
  commitHeaderFields,
  decodeNextCommit,
  isSubjectToken,
  msgIdOf,
  runSubject,
  toStoreError,
} from './codec.js';
import { checkWon, lostTo, original, type RaceContext } from './append-races.js';
import { JetStreamLink } from './connection.js';
import { ObjectBlobStore } from '../blobs/jetstream.js';
import { followRun, type FollowContext } from './follow.js';
import { resolveOptions, type JetStreamStoreOptions, type ResolvedOptions } from './options.js';
import { readAllRuns } from './read-all.js';
import { runMessages } from './run-messages.js';
import { readStart, RunPositions, type RunPos } from './run-positions.js';
import { KvExclusive } from './exclusive.js';
import { holdRole, type Role } from './role.js';
import { KvSharedDocs } from './shared-docs.js';
import { FirstCommits, lastPosition, readSingleCommit } from './last-message.js';
import { HandedCommits } from './handed-commits.js';
import { listRunSummaries } from './list-runs.js';
import { JetStreamRunArchive } from './archive.js';

/** Refreshes after which an append whose expectation keeps matching but keeps being refused gives up. */
const MAX_STALE_ROUNDS = 5;

export class JetStreamEventStore implements EventStore {
  private readonly o: ResolvedOptions;
  private readonly link: JetStreamLink;
  private readonly runs: RunPositions;
  private readonly race: RaceContext;
  private readonly follows = new Set<Subscription>();
  private readonly followContext: FollowContext;
  private closed = false;
  /** How the store's own KV buckets are made: replicated and stored as its stream is. */
  private readonly buckets: { replicas: number; memory: boolean };
  private exclusives: KvExclusive | undefined;
  private shared: KvSharedDocs | undefined;
  private archived: JetStreamRunArchive | undefined;
  private blobStore: ObjectBlobStore | undefined;
  /**
   * Runs' first commits read here, kept while a runs index takes them (`keep`), then taken by stream sequence: an
   * engine reads each run a client started, and its runs index, delivered the same message, takes the events read.
   */
  readonly firstCommits = new FirstCommits();
  /** Runs' first commits handed between the client that appended them and the engine that drives them (handed-commits.ts). */
  readonly handedCommits: HandedCommits;

  constructor(options: JetStreamStoreOptions) {
    this.o = resolveOptions(options);
    this.link = new JetStreamLink(this.o);
    this.runs = new RunPositions(this.o.cacheSize);
    this.race = { link: this.link, o: this.o, positions: this.runs };
    this.handedCommits = new HandedCommits(this.o);
    const { num_replicas, storage } = this.o.streamConfig;
    this.buckets = { replicas: num_replicas ?? 1, memory: storage === StorageType.Memory };
    const position = (runId: string) => this.runs.get(runId);
    this.followContext = { link: this.link, o: this.o, position, follows: this.follows };
  }

  get stream(): string {
    return this.o.stream;
  }

  get subjectPrefix(): string {
    return this.o.subjectPrefix;
  }

  /** Connects and creates the stream if missing. Optional: every other method does it on first use. */
  async connect(): Promise<void> {
    await this.link.ready();
  }

  /** Under a KV entry every engine and client of the cluster sees (exclusive.ts): admission to concurrency slots. */
  exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!isRunId(name)) throw new StoreError(`invalid lock name ${JSON.stringify(name)}`, { name });
    return this.kvExclusive().run(name, fn);
  }

  /** A role one process of the cluster holds at a time (role.ts), kept in the bucket of `exclusive`. */
  role(name: string, log: (line: string) => void): Role {
    return holdRole(() => this.kvExclusive().kvBucket(), name, log);
  }

  private kvExclusive(): KvExclusive {
    return (this.exclusives ??= new KvExclusive(() => this.connection(), this.buckets));
  }

  /** A small shared document (task gates), compare-and-set in KV LF_TASK_GATES (shared-docs.ts). */
  updateShared<T>(name: string, fn: (doc: unknown) => { doc: unknown; result: T }): Promise<T> {
    return this.sharedDocs().update(name, fn);
  }

  /** A shared document as last written (KV LF_TASK_GATES), or null: read on the store's reply subscription. */
  readShared(name: string): Promise<unknown> {
    return this.sharedDocs().read(name);
  }

  private sharedDocs(): KvSharedDocs {
    return (this.shared ??= KvSharedDocs.on(this.link, () => this.connection(), this.buckets));
  }

  /** Large payloads' bodies: the LF_BLOBS Object Store bucket (store/blobs/jetstream.ts), on the store's connection. */
  blobs(): BlobStore {
    return (this.blobStore ??= new ObjectBlobStore(() => this.connection(), { maxBytes: this.o.blobsMaxBytes }));
  }

  /** The store's NATS connection, for components that share it (work queues, KV, tests reading stats). */
  async connection(): Promise<NatsConnection> {
    return (await this.link.ready()).nc;
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    const { runId, expectedSeq } = req;
    if (this.closed) throw new StoreError('append on a closed store', { runId, stream: this.o.stream });
    const checked = checkAppend(req);
    const workflowId = checked.commit.events[0]!.workflowId;
    let odd: EventEnvelope | undefined;
    for (const e of checked.commit.events)
      if (e.workflowId !== workflowId) {
        odd = e;
        break;
      }
    if (!isSubjectToken(workflowId) || odd) {
      throw new StoreError(
        `append to run ${runId}: workflow id ${JSON.stringify(odd?.workflowId ?? workflowId)} cannot name the run's subject (one workflow id per run, 1-128 of A-Z a-z 0-9 _ -)`,
        { runId, workflowId },
      );
    }
    const subject = runSubject(this.o.subjectPrefix, workflowId, runId);
    try {
      const c = this.link.current ?? (await this.link.ready());
      const deadline = this.link.deadline();
      // Buffer.from, not TextEncoder: small strings are cut from Node's shared pool, ~3× cheaper per commit.
      const body = Buffer.from(checked.json, 'utf8');
      const hdrs = commitHeaderFields(runId, checked.firstSeq, checked.lastSeq);
      const msgID = msgIdOf(runId, req.dedupId);
      // A new run (expectedSeq 0) needs no lookup: "no message on the subject" is expectation 0.
      let pos =
        this.runs.get(runId) ?? (expectedSeq > 0 ? await lastPosition(this.race, c, runId, deadline) : undefined);
      let lostReply = false;
      for (let round = 0; ; round++) {
        if (!pos && expectedSeq > 0) throw await lostTo(this.archive(), runId, expectedSeq, 0);
        if (pos && pos.subject !== subject) {
          throw new StoreError(
            `append to run ${runId}: the run is recorded on ${pos.subject}, not under workflow ${workflowId}`,
            { runId, workflowId, subject: pos.subject },
          );
        }
        const lastSubjectSequence = (pos?.lastEventSeq ?? 0) === expectedSeq ? (pos?.lastStreamSeq ?? 0) : NEVER_SEQ;
        let ack: PubAck;
        try {
          ack = await this.link.call(
            'publish',
            deadline,
            (timeoutMs) => c.pub.publish(subject, body, { msgID, headers: hdrs, lastSubjectSequence, timeoutMs }),
            () => (lostReply = true),
            { honoursTimeout: true },
          );
        } catch (err) {
          if (apiErrorCode(err) !== ERR_WRONG_LAST_SEQUENCE) throw err;
          // Not a duplicate (the server checks that first) and not at the expected position: find out why.
          pos = await lastPosition(this.race, c, runId, deadline);
          const actual = pos?.lastEventSeq ?? 0;
          if (actual !== expectedSeq) throw await lostTo(this.archive(), runId, expectedSeq, actual);
          if (round >= MAX_STALE_ROUNDS)
            throw new StoreError(
              `append to run ${runId}: refused ${round + 1} times although the run is at ${actual}`,
              { runId, expectedSeq },
              { cause: err },
            );
          continue; // the cache was stale: the run is where the caller expects it
        }
        if (ack.duplicate) return await original(this.race, c, runId, req.dedupId, ack.seq, deadline, lostReply);
        if (c.replicated && lastSubjectSequence !== NEVER_SEQ)
          await checkWon(this.race, c, runId, subject, lastSubjectSequence, ack.seq, expectedSeq, deadline);
        this.runs.remember(
          runId,
          { subject, lastStreamSeq: ack.seq, lastEventSeq: checked.lastSeq, lastFirstSeq: checked.firstSeq },
          false,
        );
        if (checked.firstSeq === 1) this.handedCommits.wrote(runId, { position: ack.seq, subject, json: checked.json });
        return { firstSeq: checked.firstSeq, lastSeq: checked.lastSeq, duplicate: false, position: ack.seq };
      }
    } catch (err) {
      if (!(err instanceof AppendConflictError)) this.runs.forget(runId); // outcome unknown: look it up next time
      throw toStoreError(err, `append to run ${runId}`, { runId, stream: this.o.stream });
    }
  }

  async read(runId: string, opts: ReadOptions = {}): Promise<EventEnvelope[]> {
    const live = await this.readLive(runId, opts);
    // Nothing from the run's start: no message of it on the stream, so maybe archived (one KV get; nothing when it
    // never was). A read from further on (an engine catching up) is never of an archived run.
    if (live.length > 0 || (opts.fromSeq ?? 1) > 1 || opts.fromPosition) return live;
    try {
      const archived = await this.archive().read(runId);
      return (archived ?? []).filter((e) => e.seq <= (opts.toSeq ?? Number.MAX_SAFE_INTEGER));
    } catch (err) {
      throw toStoreError(err, `read archived run ${runId}`, { runId });
    }
  }

  private async readLive(runId: string, opts: ReadOptions): Promise<EventEnvelope[]> {
    assertRunId(runId);
    const from = opts.fromSeq ?? 1;
    const to = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
    const meta = { runId, stream: this.o.stream };
    try {
      const c = await this.link.ready();
      const deadline = this.link.deadline();
      let known = this.runs.get(runId);
      const start = readStart(from, known, opts.fromPosition, c.replicated);
      const handed = from === 1 && !start ? this.handedCommits.takeGiven(runId, known) : undefined;
      if (handed) {
        this.runs.remember(runId, handed.pos, false);
        this.firstCommits.now()?.put(handed.pos.lastStreamSeq, runId, handed.events);
        return handed.events.filter((e) => e.seq <= to);
      }
      // Last seen as one commit (typically a run that was just started), or not seen at all on a single server: its
      // subject's last message is then the whole run when it is the run's first commit, one request. For a run this
      // instance has not seen (an engine's first look at a run a client started), that also spares the walk from the
      // stream's first message, whose cost on nats-server 2.9 grows with the stream (every block from the first is
      // looked at). Not for an unseen run on a replicated stream: there the subject's last message may be a commit that
      // lost a race (checkWon), which only the walk from the first tells apart.
      if (known?.lastFirstSeq === 1 || (!known && !start && !c.replicated)) {
        const whole = await readSingleCommit(
          this.race,
          this.firstCommits.now(),
          c,
          runId,
          known?.subject ?? anyRunSubject(this.o.subjectPrefix, runId),
          from,
          to,
          deadline,
        );
        if (whole) return whole;
        known = this.runs.get(runId); // its subject, found by the request: the walk below filters on it, not on a wildcard
      }
      const out: EventEnvelope[] = [];
      let prev: number | null = null;
      let last: RunPos | undefined;
      let toTheEnd = true;
      const subject = known?.subject ?? anyRunSubject(this.o.subjectPrefix, runId);
      const walk = { marked: false };
      const onMarker = () => {
        walk.marked = true;
      };
      for await (const m of runMessages(this.link, this.o, c, runId, subject, start ?? 1, deadline, onMarker)) {
        const commit = decodeNextCommit(m.data, runId, { stream: this.o.stream, seq: m.seq, subject: m.subject }, prev);
        if (!commit) {
          // Lost a race to the commit read before it (codec.ts); still the subject's last message so far.
          if (last) last = { ...last, lastStreamSeq: m.seq };
          continue;
        }
        // A position past the commit holding fromSeq (not one this run's appends gave): read it all instead.
        if (prev === null && start && commit.events[0]!.seq > from)
          return await this.readLive(runId, { ...opts, fromPosition: undefined });
        prev = commit.events[commit.events.length - 1]!.seq;
        last = { subject: m.subject, lastStreamSeq: m.seq, lastEventSeq: prev, lastFirstSeq: commit.events[0]!.seq };
        for (const e of commit.events) if (e.seq >= from && e.seq <= to) out.push(e);
        if (prev >= to) {
          toTheEnd = false;
          break;
        }
      }
      // A marker: the run is moving to the archive (compare-purge.ts), nothing of it is live (as last-message.ts says).
      if (walk.marked) {
        this.runs.forget(runId);
        return [];
      }
      // Nothing at or after the position: it is past the run's end, which its appends never give.
      if (start && prev === null) return await this.readLive(runId, { ...opts, fromPosition: undefined });
      if (last && toTheEnd) this.runs.remember(runId, last, false); // only a position known to be the end
      return out;
    } catch (err) {
      throw toStoreError(err, `read run ${runId}`, meta);
    }
  }

  async lastSeq(runId: string): Promise<number> {
    assertRunId(runId);
    try {
      const c = await this.link.ready();
      return (await lastPosition(this.race, c, runId, this.link.deadline()))?.lastEventSeq ?? 0;
    } catch (err) {
      throw toStoreError(err, `last sequence of run ${runId}`, { runId, stream: this.o.stream });
    }
  }

  /** From the stream itself, no projection (list-runs.ts). */
  listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    return listRunSummaries(this.race, filter);
  }

  /**
   * Publishes one message to a stream of the cluster (a kick on LF_INPUTS) on the store's connection and reply
   * subscription, as `js.publish` would (the same PubAck and errors: publisher.ts), without the client's per-request
   * machinery (a RequestError with its stack for every publish, even a successful one). `msgID`: the server's dedup id.
   */
  async publishMessage(subject: string, body: Uint8Array, opts: { msgID?: string } = {}): Promise<PubAck> {
    const c = this.link.current ?? (await this.link.ready());
    return this.link.call(
      'publish',
      this.link.deadline(),
      (timeoutMs) => c.pub.publish(subject, body, { ...opts, headers: [], timeoutMs }),
      undefined,
      { honoursTimeout: true },
    );
  }

  /** The archive: Object Store LF_ARCHIVE and KV LF_ARCHIVE_INDEX (archive.ts). */
  archive(): JetStreamRunArchive {
    return (this.archived ??= new JetStreamRunArchive({
      o: this.o,
      link: this.link,
      exclusive: (name, fn) => this.exclusive(name, fn),
      forget: (runId) => this.runs.forget(runId),
      lastSeq: (runId) => this.lastSeq(runId),
    }));
  }

  /** Every run's events, one pass over the stream (read-all.ts). */
  readAll(filter: { workflowId?: string } & CorruptRunHandler = {}): AsyncIterable<RunEvents> {
    return readAllRuns(this.link, this.o, filter, (runId) => this.read(runId));
  }

  /** A run's events as they are appended (follow.ts). */
  follow(runId: string, afterSeq: number, onEvents: OnEvents): Subscription {
    return followRun(this.followContext, runId, afterSeq, onEvents);
  }

  /** Stops followers and drains the connection (bounded: a server that is down cannot hold close() up). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const sub of [...this.follows]) sub.close();
    await this.link.close();
  }
}

/** A JetStream store, connected and with its stream in place (errors surface here rather than on first use). */
export async function openJetStreamStore(options: JetStreamStoreOptions): Promise<JetStreamEventStore> {
  const store = new JetStreamEventStore(options);
  try {
    await store.connect();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
