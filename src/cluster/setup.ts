/** Creates the cluster's streams, shared consumers and KV bucket on first use; leaves existing ones alone. */
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from 'nats';
import { AttemptLedger } from './attempts.js';
import { ENGINE_CONSUMERS, STREAMS, workerConsumerName, subjects } from './subjects.js';
import { createRetrying } from './create-retry.js';

export interface ClusterSettings {
  replicas?: number;
  storage?: 'file' | 'memory';
  /** How long a task attempt may go without a heartbeat before it is redelivered (default 30 s). */
  taskAckWaitMs?: number;
  /** Dedup window of the work queues: a re-published task, timer or input within it is written once (default 10 min). */
  duplicateWindowMs?: number;
  /**
   * How long an engine may hold an input before another engine gets it (default 10 s): the
   * failover time after an engine dies. Engines heartbeat inputs that take longer.
   */
  engineAckWaitMs?: number;
  /** How long the attempt ledger remembers an attempt a worker took (default 7 days; see attempts.ts). */
  attemptTtlMs?: number;
}

const ns = (ms: number) => ms * 1_000_000;

/**
 * How long one pull of an engine or worker waits on the server (nats.js
 * heartbeats at half of it and pulls again after two missed). A pull lives on
 * the consumer's leader: when that node dies, nothing answers it, and it is
 * this long before the client notices and pulls from the new leader. nats.js
 * defaults to 30 s (about 45 s of stall after a node loss on a 3-node cluster);
 * 5 s costs one small request per consumer every few seconds.
 */
export const PULL_EXPIRES_MS = 5000;

async function ensureStream(jsm: JetStreamManager, name: string, subjectsList: readonly string[], cfg: Partial<StreamConfig>): Promise<void> {
  await createRetrying(() => ensureStreamOnce(jsm, name, subjectsList, cfg));
}

async function ensureStreamOnce(jsm: JetStreamManager, name: string, subjectsList: readonly string[], cfg: Partial<StreamConfig>): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch {
    try {
      await jsm.streams.add({ name, subjects: [...subjectsList], ...cfg });
    } catch (err) {
      // Another engine may have created it between our info and add.
      await jsm.streams.info(name).catch(() => { throw err; });
    }
  }
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, durable: string, cfg: { filter?: string; ackWaitMs: number; maxDeliver?: number }): Promise<void> {
  await createRetrying(() => ensureConsumerOnce(jsm, stream, durable, cfg));
}

async function ensureConsumerOnce(jsm: JetStreamManager, stream: string, durable: string, cfg: { filter?: string; ackWaitMs: number; maxDeliver?: number }): Promise<void> {
  try {
    await jsm.consumers.info(stream, durable);
  } catch {
    await jsm.consumers.add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ns(cfg.ackWaitMs),
      max_deliver: cfg.maxDeliver ?? -1,
      ...(cfg.filter ? { filter_subject: cfg.filter } : {}),
    }).catch(async (err) => { await jsm.consumers.info(stream, durable).catch(() => { throw err; }); });
  }
}

export async function ensureCluster(jsm: JetStreamManager, s: ClusterSettings = {}): Promise<void> {
  const base: Partial<StreamConfig> = {
    storage: s.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: s.replicas ?? 1,
    duplicate_window: ns(s.duplicateWindowMs ?? 10 * 60_000),
  };
  const wq = { ...base, retention: RetentionPolicy.Workqueue };
  // Before the task queue: a worker starts once LF_TASKS exists, and claims attempts in the ledger.
  await AttemptLedger.ensure(jsm, { replicas: s.replicas, storage: s.storage, ttlMs: s.attemptTtlMs });
  await ensureStream(jsm, STREAMS.inputs.name, STREAMS.inputs.subjects, wq);
  await ensureStream(jsm, STREAMS.tasks.name, STREAMS.tasks.subjects, wq);
  await ensureStream(jsm, STREAMS.timers.name, STREAMS.timers.subjects, wq);
  await ensureStream(jsm, STREAMS.approvals.name, STREAMS.approvals.subjects, wq);
  await ensureStream(jsm, STREAMS.triggers.name, STREAMS.triggers.subjects, wq);
  await ensureStream(jsm, STREAMS.dlq.name, STREAMS.dlq.subjects, { ...base, retention: RetentionPolicy.Limits });
  const ackWaitMs = s.engineAckWaitMs ?? 10_000;
  await ensureConsumer(jsm, STREAMS.inputs.name, ENGINE_CONSUMERS.inputs, { ackWaitMs });
  await ensureConsumer(jsm, STREAMS.timers.name, ENGINE_CONSUMERS.timers, { ackWaitMs });
  await ensureConsumer(jsm, STREAMS.approvals.name, ENGINE_CONSUMERS.approvals, { ackWaitMs });
  await ensureConsumer(jsm, STREAMS.triggers.name, ENGINE_CONSUMERS.triggers, { ackWaitMs });
}

export async function ensureWorkerConsumer(jsm: JetStreamManager, queue: string, handler: string, s: ClusterSettings = {}): Promise<string> {
  const name = workerConsumerName(queue, handler);
  await ensureConsumer(jsm, STREAMS.tasks.name, name, { filter: subjects.task(queue, handler), ackWaitMs: s.taskAckWaitMs ?? 30_000 });
  return name;
}
