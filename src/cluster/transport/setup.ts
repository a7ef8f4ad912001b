/**
 * Creates the cluster's streams, shared consumers and KV bucket on first use; leaves existing ones alone, except for
 * the bounds that stop a poison message from looping or filling the server (DLQ limits, consumers' max deliveries).
 */
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '../../store/index.js';
import { AttemptLedger } from './attempts.js';
import { ProgressBucket } from './progress-bucket.js';
import { DEAD_LETTER_SPARE_DELIVERIES, REDELIVERY_DEFAULTS } from './dead-letters.js';
import {
  DEFAULT_LEVEL,
  ENGINE_CONSUMERS,
  STREAMS,
  levelConsumerName,
  subjects,
  taskLevelSubjects,
  taskStream,
} from './subjects.js';
import { createRetrying } from './create-retry.js';
import { maxReportBytes } from './payload-limits.js';
import { MAX_REQUEST_BYTES } from './requests.js';
import { UPLOAD_CHUNK_BYTES, UPLOADS_LIMITS, UPLOADS_STREAM } from './uploads.js';

export interface ClusterSettings {
  replicas?: number;
  storage?: 'file' | 'memory';
  /** How long a task attempt may go without a heartbeat before it is redelivered elsewhere (default 10 s). */
  taskAckWaitMs?: number;
  /** Dedup window of the work queues: a re-published task, timer or input within it is written once (default 10 min). */
  duplicateWindowMs?: number;
  /** How long an engine may hold an input before another gets it (default 10 s: the failover time; heartbeated). */
  engineAckWaitMs?: number;
  /** How long the attempt ledger remembers an attempt a worker took (default 7 days; see attempts.ts). */
  attemptTtlMs?: number;
  /**
   * Deliveries of one message to the engines before it is dead-lettered (default 20). A failure is retried after a
   * delay that doubles from `firstRetryMs` (default 1 s) up to `maxRetryMs` (default 60 s).
   */
  maxDeliver?: number;
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** Deliveries of a task attempt to workers before it is dead-lettered (default 100: mostly dead workers). */
  taskMaxDeliver?: number;
  /**
   * Limits of LF_DLQ, oldest dropped first (defaults 14 days, 256 MiB — 32 MiB with memory storage, where the server
   * reserves max_bytes out of its memory store — and 100,000 messages).
   */
  dlqMaxAgeMs?: number;
  /** The server's max_payload (the connection's INFO): what bounds a report's size (LF_INPUTS max_msg_size). */
  maxPayload?: number;
  dlqMaxBytes?: number;
  dlqMaxMsgs?: number;
  /** Bytes LF_UPLOADS holds (people's large start inputs on their way: uploads.ts; default 1 GiB, 64 MiB in memory). */
  uploadsMaxBytes?: number;
  /** Bytes the large payloads' bucket LF_BLOBS holds (store/blobs/jetstream.ts BLOB_MAX_BYTES_DEFAULTS when unset). */
  blobsMaxBytes?: number;
}

/**
 * Bounds of LF_DLQ_WORKERS: a letter keeps at most 64 KiB of body (dead-letters.ts), so 256 KiB holds any honest one;
 * each worker user keeps its newest 10,000, so one that floods drops its own oldest, not another worker's.
 */
export const WORKER_DLQ_LIMITS = {
  maxBytes: 128 * 1024 * 1024,
  maxBytesInMemory: 16 * 1024 * 1024,
  maxMsgs: 100_000,
  maxMsgsPerWorker: 10_000,
  maxLetterBytes: 256 * 1024,
} as const;

/**
 * Bounds of LF_REQUESTS: while no engine takes requests (an upgrade, a crash) one person's must not fill the server's
 * store, which would stop every stream. Full, the stream refuses new ones (discard new) and the sender is told
 * (LF_REQUESTS_FULL). 64 MiB holds 10,000 ordinary starts or 60 definitions at their limit (a new server's file store
 * must hold every stream's bound at once, and 1 GB servers are common). Each sender's requests of each kind are one
 * subject, of which at most `maxPerSender` wait (discard new per subject), so one person's flood fills at most their
 * own share (16 of each kind at most 1 MiB). It is the count, not the bytes, that must refuse a flooder: nats-server
 * before 2.10.5 checks max_bytes against the body alone and, over the bound, drops the stream's OLDEST message
 * (nats-io/nats-server bf8ac377f), which let a publish at the brim take the place of another person's request.
 */
export const REQUESTS_LIMITS = {
  maxBytes: 64 * 1024 * 1024,
  maxBytesInMemory: 8 * 1024 * 1024,
  maxMsgs: 10_000,
  maxPerSender: 16,
} as const;

export const DLQ_DEFAULTS = {
  maxAgeMs: 14 * 24 * 3600_000,
  maxBytes: 256 * 1024 * 1024,
  maxBytesInMemory: 32 * 1024 * 1024,
  maxMsgs: 100_000,
} as const;

const ns = (ms: number) => ms * 1_000_000;

/**
 * A worker heartbeats each attempt every third of this; a dead one's attempt is redelivered, reported lost and run
 * elsewhere within it (shorter costs one small ack message per attempt every few seconds).
 */
export const DEFAULT_TASK_ACK_WAIT_MS = 10_000;

/**
 * How long one pull waits on the server. A pull lives on the consumer's leader: when that node dies it is about this
 * long before the client pulls from the new one (nats.js's 30 s default stalled ~45 s after a node loss).
 */
export const PULL_EXPIRES_MS = 5000;

/** Made unless it exists; a create that fails is fine when another engine made it between our info and add. */
function orExisting(add: Promise<unknown>, info: () => Promise<unknown>): Promise<unknown> {
  return add.catch((err) =>
    info().catch(() => {
      throw err;
    }),
  );
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjectsList: readonly string[],
  cfg: Partial<StreamConfig>,
): Promise<void> {
  await createRetrying(async () => {
    if (await jsm.streams.info(name).catch(() => null)) return;
    await orExisting(jsm.streams.add({ name, subjects: [...subjectsList], ...cfg }), () => jsm.streams.info(name));
  });
}

/** Brings an existing stream's limits to `limits` (only those; the rest of its config is left as it is). */
async function ensureStreamLimits(
  jsm: JetStreamManager,
  name: string,
  limits: Partial<
    Pick<
      StreamConfig,
      | 'max_age'
      | 'max_bytes'
      | 'max_msgs'
      | 'discard'
      | 'max_msg_size'
      | 'max_msgs_per_subject'
      | 'discard_new_per_subject'
    >
  >,
): Promise<void> {
  const { config } = await jsm.streams.info(name);
  // Only limits the stream lacks (unset: 0 or -1) are given: ones set already, by an engine of other settings (memory
  // storage) or an operator, are kept; raising a memory stream's to a file default would not fit the server's memory.
  const lacking = Object.fromEntries(
    Object.entries(limits).filter(([k, want]) => {
      const v = config[k as keyof StreamConfig];
      return typeof v === 'number' ? v <= 0 : v !== want;
    }),
  );
  if (Object.keys(lacking).length === 0) return;
  await jsm.streams.update(name, { ...config, ...lacking });
}

/**
 * LF_UPLOADS made by an older version (no max age, or its week) takes the current one: an upload never followed by its
 * start is gone in minutes, not when the stream is full. A max age an operator set otherwise is kept.
 */
async function ensureUploadsAge(
  jsm: JetStreamManager,
  limits: { max_age: number; duplicate_window: number },
): Promise<void> {
  const { config } = await jsm.streams.info(UPLOADS_STREAM.name);
  if (config.max_age > 0 && config.max_age !== ns(UPLOADS_LIMITS.olderMaxAgeMs)) return;
  await jsm.streams.update(UPLOADS_STREAM.name, {
    ...config,
    max_age: limits.max_age,
    duplicate_window: Math.min(config.duplicate_window, limits.duplicate_window),
  });
}

/** An existing stream that takes any of `old` (as older versions made it) takes `now` instead; its messages stay. */
async function replaceSubjects(
  jsm: JetStreamManager,
  name: string,
  old: readonly string[],
  now: readonly string[],
): Promise<void> {
  const { config } = await jsm.streams.info(name);
  if (!config.subjects.some((x) => old.includes(x))) return;
  await jsm.streams.update(name, {
    ...config,
    subjects: [...new Set([...config.subjects.filter((x) => !old.includes(x)), ...now])],
  });
}

/** Adds to an existing stream those of `wanted` it does not take yet (the rest of its config left as it is). */
async function addSubjects(jsm: JetStreamManager, name: string, wanted: readonly string[]): Promise<void> {
  const { config } = await jsm.streams.info(name);
  const missing = wanted.filter((x) => !config.subjects.includes(x));
  if (missing.length === 0) return;
  await jsm.streams.update(name, { ...config, subjects: [...config.subjects, ...missing] });
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  cfg: { filter?: string; ackWaitMs: number; maxDeliver: number; maxAckPending?: number },
): Promise<void> {
  await createRetrying(async () => {
    const existing = (await jsm.consumers.info(stream, durable).catch(() => null))?.config;
    if (!existing) {
      const add = jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: ns(cfg.ackWaitMs),
        max_deliver: cfg.maxDeliver,
        ...(cfg.maxAckPending === undefined ? {} : { max_ack_pending: cfg.maxAckPending }),
        ...(cfg.filter ? { filter_subject: cfg.filter } : {}),
      });
      await orExisting(add, () => jsm.consumers.info(stream, durable));
    } else if (
      existing.max_deliver !== cfg.maxDeliver ||
      existing.max_ack_pending !== (cfg.maxAckPending ?? existing.max_ack_pending)
    ) {
      // Consumers made before today's bounds (max_deliver -1; the timers' 1,000 pending) get them; the rest stays.
      const maxAckPending = cfg.maxAckPending ?? existing.max_ack_pending;
      await jsm.consumers.update(stream, durable, { max_deliver: cfg.maxDeliver, max_ack_pending: maxAckPending });
    }
  });
}

/** The cluster's stream settings (replicas, storage, dedup window). */
function baseConfig(s: ClusterSettings): Partial<StreamConfig> {
  return {
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas ?? 1,
    duplicate_window: ns(s.duplicateWindowMs ?? 10 * 60_000),
  };
}

export async function ensureCluster(jsm: JetStreamManager, s: ClusterSettings = {}): Promise<void> {
  const base = baseConfig(s);
  const wq = { ...base, retention: RetentionPolicy.Workqueue };
  const ackWaitMs = s.engineAckWaitMs ?? 10_000;
  const maxDeliver = serverMaxDeliver(s.maxDeliver ?? REDELIVERY_DEFAULTS.maxDeliver);
  const engineQueue = async (
    kind: Exclude<keyof typeof ENGINE_CONSUMERS, 'inputs'>,
    cfg: Partial<StreamConfig> = wq,
    max = maxDeliver,
    maxAckPending?: number,
  ) => {
    await ensureStream(jsm, STREAMS[kind].name, STREAMS[kind].subjects, cfg);
    const bounds = { ackWaitMs, maxDeliver: max, maxAckPending };
    await ensureConsumer(jsm, STREAMS[kind].name, ENGINE_CONSUMERS[kind], bounds);
  };
  // Reports land here: none larger than an outcome may be (run-attempt.ts maxReportBytes), refused by the server.
  const reportCap = s.maxPayload ? { max_msg_size: maxReportBytes(s.maxPayload) } : {};
  // A person's starts and deploys: none larger than a definition at its limit (the server refuses it), nor than the server takes.
  const requestCap = {
    max_msg_size: Math.min(MAX_REQUEST_BYTES, s.maxPayload ?? MAX_REQUEST_BYTES),
    max_bytes: s.storage === 'memory' ? REQUESTS_LIMITS.maxBytesInMemory : REQUESTS_LIMITS.maxBytes,
    max_msgs: REQUESTS_LIMITS.maxMsgs,
    discard: DiscardPolicy.New,
    max_msgs_per_subject: REQUESTS_LIMITS.maxPerSender,
    discard_new_per_subject: true,
  };
  const dlqLimits = {
    max_age: ns(s.dlqMaxAgeMs ?? DLQ_DEFAULTS.maxAgeMs),
    max_bytes: s.dlqMaxBytes ?? (s.storage === 'memory' ? DLQ_DEFAULTS.maxBytesInMemory : DLQ_DEFAULTS.maxBytes),
    max_msgs: s.dlqMaxMsgs ?? DLQ_DEFAULTS.maxMsgs,
    discard: DiscardPolicy.Old,
  };
  // People's large start inputs: chunks of their own upload subject, refused (discard new) when full, gone when old.
  const uploadLimits = {
    max_bytes:
      s.uploadsMaxBytes ?? (s.storage === 'memory' ? UPLOADS_LIMITS.maxBytesInMemory : UPLOADS_LIMITS.maxBytes),
    max_age: ns(UPLOADS_LIMITS.maxAgeMs),
    max_msg_size: UPLOAD_CHUNK_BYTES,
    discard: DiscardPolicy.New,
    // The server refuses a duplicate window longer than the max age (uploads carry no message id).
    duplicate_window: Math.min(base.duplicate_window!, ns(UPLOADS_LIMITS.maxAgeMs)),
  };
  const workerDlqLimits = {
    max_age: ns(s.dlqMaxAgeMs ?? DLQ_DEFAULTS.maxAgeMs),
    max_bytes: s.storage === 'memory' ? WORKER_DLQ_LIMITS.maxBytesInMemory : WORKER_DLQ_LIMITS.maxBytes,
    max_msgs: WORKER_DLQ_LIMITS.maxMsgs,
    max_msgs_per_subject: WORKER_DLQ_LIMITS.maxMsgsPerWorker,
    max_msg_size: WORKER_DLQ_LIMITS.maxLetterBytes,
    discard: DiscardPolicy.Old,
  };
  // Each stream with what depends on it in order, the streams side by side: with several replicas each create waits
  // for a raft group to form, and one after another they took 9 s on a 3-node cluster (every command pays it).
  await Promise.all([
    // Workers claim attempts in the ledger: it exists before any task queue (engines make those after this returns).
    AttemptLedger.ensure(jsm, { replicas: s.replicas, storage: s.storage, ttlMs: s.attemptTtlMs }),
    // Workers publish their attempts' live progress there (docs/handlers.md#progress).
    ProgressBucket.ensure(jsm, { replicas: s.replicas, storage: s.storage }),
    (async () => {
      await ensureStream(jsm, STREAMS.inputs.name, STREAMS.inputs.subjects, { ...wq, ...reportCap });
      if (s.maxPayload) await ensureStreamLimits(jsm, STREAMS.inputs.name, reportCap);
      await ensureConsumer(jsm, STREAMS.inputs.name, ENGINE_CONSUMERS.inputs, { ackWaitMs, maxDeliver });
    })(),
    // A timer not due yet is put back (nak) until it is, each time a delivery (the server's bound is far larger; the
    // engine's counts only deliveries once due: engine.ts) and pending all that time: no bound on pending acks, where
    // the server's default (1,000) let a thousand armed timeouts hold back every other timer (docs/nats.md).
    engineQueue('timers', wq, TIMER_SERVER_MAX_DELIVER, -1),
    engineQueue('approvals'),
    engineQueue('triggers'),
    engineQueue('signals'),
    engineQueue('control'),
    (async () => {
      await engineQueue('requests', { ...wq, ...requestCap });
      // A request stream made before requests had a subject per sender takes theirs instead (an older client's request
      // then finds no stream: its CLI says so; what waits under the old subjects stays, and engines still read it).
      await replaceSubjects(
        jsm,
        STREAMS.requests.name,
        ['lf.starts.*.*', 'lf.deploys.*.*', 'lf.limits.*.*'],
        STREAMS.requests.subjects,
      );
      // A request stream made before a kind of request was (lf.upkeep.*: an older version's) takes its subject too.
      await addSubjects(jsm, STREAMS.requests.name, STREAMS.requests.subjects);
      // A request stream made before it was bounded (an older version) gets the bounds.
      await ensureStreamLimits(jsm, STREAMS.requests.name, requestCap);
    })(),
    (async () => {
      await ensureStream(jsm, UPLOADS_STREAM.name, UPLOADS_STREAM.subjects, {
        ...base,
        retention: RetentionPolicy.Limits,
        ...uploadLimits,
      });
      await ensureUploadsAge(jsm, uploadLimits);
    })(),
    (async () => {
      await ensureStream(jsm, STREAMS.dlq.name, STREAMS.dlq.subjects, {
        ...base,
        retention: RetentionPolicy.Limits,
        ...dlqLimits,
      });
      // A dead-letter stream created without limits (by an older version) gets them.
      await ensureStreamLimits(jsm, STREAMS.dlq.name, dlqLimits);
      // Workers' letters in a stream of their own, LF_DLQ narrowed to the engines' subjects first (the two may not overlap).
      await createRetrying(() => replaceSubjects(jsm, STREAMS.dlq.name, ['lf.dlq.>'], STREAMS.dlq.subjects));
      await ensureStream(jsm, STREAMS.workerDlq.name, STREAMS.workerDlq.subjects, {
        ...base,
        retention: RetentionPolicy.Limits,
        ...workerDlqLimits,
      });
    })(),
  ]);
}

/** The server's bound on a timer message's deliveries (not-due puts-back included): a last resort. */
export const TIMER_SERVER_MAX_DELIVER = 10_000;

/**
 * The server's bound for a consumer whose readers dead-letter at `maxDeliver`: a few more, so a reader that failed to
 * write the dead letter gets it again. Past it the message stays in its work-queue stream: a last resort.
 */
function serverMaxDeliver(maxDeliver: number): number {
  return maxDeliver + DEAD_LETTER_SPARE_DELIVERIES;
}

/** Queue `queue`'s work-queue stream LF_TASKS_<queue> (subjects lf.q.<queue>.*), with the cluster's settings; returns its name. */
export async function ensureTaskStream(jsm: JetStreamManager, queue: string, s: ClusterSettings = {}): Promise<string> {
  const stream = taskStream(queue);
  await ensureStream(jsm, stream.name, stream.subjects, { ...baseConfig(s), retention: RetentionPolicy.Workqueue });
  return stream.name;
}

/**
 * The worker consumer of (queue, handler), and its stream first; returns the consumer's name. A `priority` other than
 * the default: its level's consumer, the stream given the levels' subjects first (so clusters without priorities keep
 * their streams as they were).
 */
export async function ensureWorkerConsumer(
  jsm: JetStreamManager,
  queue: string,
  handler: string,
  s: ClusterSettings = {},
  priority: number = DEFAULT_LEVEL,
): Promise<string> {
  const name = levelConsumerName(queue, handler, priority);
  const stream = await ensureTaskStream(jsm, queue, s);
  if (priority !== DEFAULT_LEVEL) await createRetrying(() => ensureTaskLevels(jsm, stream, queue));
  await ensureConsumer(jsm, stream, name, {
    filter: subjects.taskAt(queue, handler, priority),
    ackWaitMs: s.taskAckWaitMs ?? DEFAULT_TASK_ACK_WAIT_MS,
    maxDeliver: serverMaxDeliver(s.taskMaxDeliver ?? REDELIVERY_DEFAULTS.taskMaxDeliver),
  });
  return name;
}

/** Adds the levels' subjects (lf.q.<queue>.*.*) to the queue's stream when it lacks them; the rest of its config is left as it is. */
async function ensureTaskLevels(jsm: JetStreamManager, stream: string, queue: string): Promise<void> {
  const { config } = await jsm.streams.info(stream);
  const levels = taskLevelSubjects(queue);
  if (config.subjects.includes(levels)) return;
  await jsm.streams.update(stream, { ...config, subjects: [...config.subjects, levels] });
}
