/**
 * Debounce and throttle on NATS (src/triggers/gates.ts decides):
 * - KV `LF_TRIGGER_GATES`, one key per trigger and key value (`<workflowId>.<trigger>.<sha256 of the key>`), each
 *   written with `create` / `update(revision)` / `delete(previousSeq)`: JetStream's expected last subject sequence is
 *   the compare-and-set, so of engines racing on one gate one writes and the others read again. The bucket is
 *   replicated like the others (LEDGERFLOW_NATS_REPLICAS): a pending burst survives the loss of an engine and, with 3
 *   replicas, of a server. A KV (not a stream of arrivals) because the decision needs the gate's whole current state
 *   under one revision, and the state is small.
 * - stream `LF_TRIGGER_LOG`, subjects `lf.trigger-log.<workflowId>`: the decision log, each record published with its
 *   id as the message id (a retried write within the duplicate window is stored once); kept 30 days.
 */
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { DiscardPolicy, RetentionPolicy, StorageType, kvKeys } from '../../store/index.js';
import { isCasConflict } from '../../query/index.js';
import {
  GateRecordSchema,
  GateStateSchema,
  type GateLog,
  type GateRecord,
  type GateState,
  type GateStore,
} from '../../triggers/index.js';
import { createBucket, createRetrying, decodeOrUndefined, type ClusterSettings } from '../transport/index.js';

export const GATES_BUCKET = 'LF_TRIGGER_GATES';
export const TRIGGER_LOG_STREAM = 'LF_TRIGGER_LOG';
const LOG_PREFIX = 'lf.trigger-log';
const LOG_MAX_AGE_MS = 30 * 24 * 3600_000;
const LOG_MAX_MSGS = 1_000_000;

type Settings = Pick<ClusterSettings, 'replicas' | 'storage'>;

export class KvGateStore implements GateStore {
  private kvPromise: Promise<KV> | undefined;
  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: Settings = {},
  ) {}

  private kv(): Promise<KV> {
    this.kvPromise ??= createBucket(this.js, GATES_BUCKET, this.opts);
    return this.kvPromise;
  }

  /**
   * Every engine lists the gates at every tick (a second). The bucket's status first (one request): nothing ever
   * written, no keys and no consumer made. Not the client's `kv.keys()`: it left an ordered consumer on the server for
   * five minutes a call, and waited for ever when a gate was deleted as it listed, which stopped this engine's ticks
   * for good (kv-keys.ts).
   */
  async keys(): Promise<string[]> {
    const kv = await this.kv();
    if ((await kv.status()).values === 0) return [];
    return kvKeys(this.js, GATES_BUCKET);
  }

  async get(key: string): Promise<{ state: GateState; revision: number } | null> {
    const e = await (await this.kv()).get(key);
    if (!e || e.operation !== 'PUT') return null;
    const parsed = GateStateSchema.safeParse(decodeOrUndefined(e.value));
    // Not ours (any user with KV rights could write one): ignored, never crashes a tick. An engine writes only values it built.
    return parsed.success ? { state: parsed.data, revision: e.revision } : null;
  }

  async put(key: string, state: GateState | null, revision: number | null): Promise<number | null> {
    const kv = await this.kv();
    try {
      if (state === null) {
        if (revision === null) return null;
        await kv.delete(key, { previousSeq: revision });
        return revision + 1;
      }
      const body = JSON.stringify(state);
      return revision === null ? await kv.create(key, body) : await kv.update(key, body, revision);
    } catch (err) {
      if (isCasConflict(err)) return null;
      throw err;
    }
  }
}

export class StreamGateLog implements GateLog {
  private ready: Promise<void> | undefined;
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: Settings = {},
  ) {}

  private ensure(): Promise<void> {
    this.ready ??= createRetrying(async () => {
      try {
        await this.jsm.streams.info(TRIGGER_LOG_STREAM);
      } catch {
        await this.jsm.streams
          .add({
            name: TRIGGER_LOG_STREAM,
            subjects: [`${LOG_PREFIX}.>`],
            retention: RetentionPolicy.Limits,
            discard: DiscardPolicy.Old,
            max_age: LOG_MAX_AGE_MS * 1e6,
            max_msgs: LOG_MAX_MSGS,
            num_replicas: this.opts.replicas ?? 1,
            storage: this.opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
          })
          .catch(async (err: unknown) => {
            await this.jsm.streams.info(TRIGGER_LOG_STREAM).catch(() => {
              throw err;
            });
          });
      }
    });
    return this.ready;
  }

  async write(records: readonly GateRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.ensure();
    await Promise.all(
      records.map((r) => this.js.publish(`${LOG_PREFIX}.${r.workflowId}`, JSON.stringify(r), { msgID: r.id })),
    );
  }

  async list(filter: { workflowId?: string; limit?: number } = {}): Promise<GateRecord[]> {
    await this.ensure();
    const subject = `${LOG_PREFIX}.${filter.workflowId ?? '>'}`;
    const info = await this.jsm.streams.info(TRIGGER_LOG_STREAM, { subjects_filter: subject } as never);
    const total = filter.workflowId
      ? Number((info.state as { subjects?: Record<string, number> }).subjects?.[subject] ?? 0)
      : info.state.messages;
    if (total === 0) return [];
    const consumer = await this.js.consumers.get(TRIGGER_LOG_STREAM, { filter_subjects: subject });
    const out: GateRecord[] = [];
    const seen = new Set<string>();
    let read = 0;
    try {
      while (read < total) {
        const batch = await consumer.fetch({ max_messages: Math.min(1000, total - read), expires: 2000 });
        let got = 0;
        let last = false;
        for await (const m of batch) {
          got++;
          read++;
          let raw: unknown;
          try {
            raw = m.json();
          } catch {
            raw = undefined;
          }
          const parsed = GateRecordSchema.safeParse(raw);
          if (parsed.success && !seen.has(parsed.data.id)) {
            seen.add(parsed.data.id);
            out.push(parsed.data);
          }
          if (m.info.pending === 0) last = true;
        }
        if (got === 0 || last) break;
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    return filter.limit !== undefined ? out.slice(-filter.limit) : out;
  }
}
