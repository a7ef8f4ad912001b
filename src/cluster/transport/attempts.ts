/**
 * The attempt ledger: one KV entry per task attempt a worker took (bucket LF_ATTEMPTS, key
 * `<queue>.<runId>.<taskId>.<attempt>.<digest>`), created when a worker starts the attempt (one offered straight to
 * it: when a claim is needed, claim-asks.ts) and marked finished once its outcome is reported.
 *
 * Why: a nats-server killed mid-run may lose its consumers' ack state (written behind the messages) and hand an
 * attempt out again as a first delivery, possibly to another worker. The ledger is written like the log (a create
 * that fails when the key exists), so any worker sees an attempt was taken: one that finished is not run again, one
 * another worker took and never finished is reported lost; the engine restarts it, and the restarted run is claimed
 * under a key of its own (`.r<n>`), so exactly one worker runs each run of it.
 *
 * The ledger is a hint, never the word that ends an attempt: every worker may write the bucket. The key holds a digest
 * of the attempt's token (attempt-tokens.ts), so only whoever was handed the attempt can name its entry (event-started
 * run ids are predictable), and nats.conf lets workers read entries by key only. A worker never drops a delivery on the
 * ledger's word: it reports it to the engine (task.lost, with what the ledger said), whose log decides (inputs.ts).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { StorageType, Kvm, apiErrorCode, isTransient, jetstream, kvPutSubject } from '../../store/index.js';
import { z } from 'zod';
import { createBucket, createRetrying } from './create-retry.js';
import { decodeOrUndefined } from './messages.js';
import { tokenDigest } from './attempt-tokens.js';
import { token as subjectToken } from './subjects.js';

export const ATTEMPTS_BUCKET = 'LF_ATTEMPTS';

/** Entries outlive any redelivery worth guarding against; the server drops them after this (default 7 days). */
export const DEFAULT_ATTEMPT_TTL_MS = 7 * 24 * 3600_000;

/**
 * What a worker may store in the ledger (a worker user may write any key, and once filled the server until every
 * append failed): a claim is a few hundred bytes, so a value over 4 KiB is refused, and the bucket holds at most
 * 512 MiB (a million live claims and more); past that a new claim is refused, and nothing else is touched.
 */
export const ATTEMPT_VALUE_MAX_BYTES = 4096;
export const DEFAULT_ATTEMPTS_MAX_BYTES = 512 * 1024 * 1024;
/** In memory (LEDGERFLOW_NATS_STORAGE=memory): the shipped nats.conf gives memory 256 MB in all. */
export const DEFAULT_ATTEMPTS_MAX_BYTES_IN_MEMORY = 8 * 1024 * 1024;

export const AttemptRecord = z.object({
  /** Who took it: the worker's name and process. */
  worker: z.string(),
  startedAt: z.string(),
  /**
   * The kind of outcome the worker reported, once it has; `aborted`: an engine found the attempt no
   * longer wanted before any worker claimed it (it is then dropped unrun).
   */
  finished: z.enum(['task.completed', 'task.failed', 'aborted']).optional(),
  /**
   * How often (ms) its worker rewrites the entry while it runs the attempt (claim-watch.ts): a claim rewritten within
   * three of these is a live worker's. Absent (an older worker's, or nobody refreshes it): says nothing of liveness.
   */
  every: z.number().int().positive().optional(),
  /** The stream sequence of the queued delivery its worker pulled (absent: the attempt was offered to it). */
  seq: z.number().int().positive().optional(),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/** JetStream's error code for a write whose expected last subject sequence did not hold (here: the key exists). */
const WRONG_LAST_SEQUENCE = 10071;

export type Claim = { taken: true } | { taken: false; by: AttemptRecord | null; revision: number };

/** An entry as read now: what it says (null when it does not parse) and its revision (which each write moves on). */
export interface ClaimEntry {
  by: AttemptRecord | null;
  revision: number;
}

export class AttemptLedger {
  private constructor(
    private readonly kv: KV,
    private readonly nc: NatsConnection,
  ) {}

  /** Creates the bucket if it is missing (engines, whose NATS user may). */
  static async ensure(
    jsm: JetStreamManager,
    s: { replicas?: number; storage?: 'file' | 'memory'; ttlMs?: number; maxBytes?: number } = {},
  ): Promise<void> {
    // A bucket made before these bounds gets them (for its own storage); bounds set already, by us or an operator, are kept.
    const made = await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`).catch(() => null);
    if (!made) {
      await createBucket(jsm.jetstream(), ATTEMPTS_BUCKET, s, {
        ttl: s.ttlMs ?? DEFAULT_ATTEMPT_TTL_MS,
        maxValueSize: ATTEMPT_VALUE_MAX_BYTES,
        max_bytes:
          s.maxBytes ?? (s.storage === 'memory' ? DEFAULT_ATTEMPTS_MAX_BYTES_IN_MEMORY : DEFAULT_ATTEMPTS_MAX_BYTES),
      });
    }
    // Retried as the create is: a replicated bucket just made may not answer at once.
    await createRetrying(async () => {
      const { config } = made ?? (await jsm.streams.info(`KV_${ATTEMPTS_BUCKET}`));
      // No rollups: one publish with `Nats-Rollup: all` would delete every claim of every queue. The ledger
      // never purges a key (the only use KV has for them); entries age out.
      const bounded = {
        max_msg_size: config.max_msg_size > 0 ? config.max_msg_size : ATTEMPT_VALUE_MAX_BYTES,
        max_bytes:
          config.max_bytes > 0
            ? config.max_bytes
            : (s.maxBytes ??
              (config.storage === StorageType.Memory
                ? DEFAULT_ATTEMPTS_MAX_BYTES_IN_MEMORY
                : DEFAULT_ATTEMPTS_MAX_BYTES)),
        allow_rollup_hdrs: false,
      };
      if (
        bounded.max_msg_size !== config.max_msg_size ||
        bounded.max_bytes !== config.max_bytes ||
        config.allow_rollup_hdrs !== false
      )
        await jsm.streams.update(config.name, { ...config, ...bounded });
    });
  }

  /** Binds to the bucket an engine created (a worker's NATS user may use it, not create it). */
  static async open(nc: NatsConnection): Promise<AttemptLedger> {
    return new AttemptLedger(
      await new Kvm(jetstream(nc)).create(ATTEMPTS_BUCKET, { bindOnly: true, allow_direct: true }),
      nc,
    );
  }

  /**
   * Each run of an attempt (restarted: its worker was lost) has its own entry. `queue` first, so nats.conf can give
   * each worker user the keys of its own queues only (`$KV.LF_ATTEMPTS.<queue>.>`): it cannot read or write another
   * queue's claims. `instance`: the task's instance token (compiler/instances.ts). `token`: the attempt's, of which the
   * key holds a digest, so nobody without it can name the entry; `claimToken`: a restarted run's own, digested instead.
   */
  static key(
    queue: string,
    runId: string,
    instance: string,
    attempt: number,
    restart: number,
    token: string,
    claimToken?: string,
  ): string {
    // A restarted run handed out with a claim token of its own is named by it: nobody handed an earlier run can name it.
    const base = `${subjectToken(queue)}.${runId}.${instance}.${attempt}.${tokenDigest(restart > 0 && claimToken ? claimToken : token)}`;
    return restart > 0 ? `${base}.r${restart}` : base;
  }

  /**
   * Takes the attempt (`record`: the worker's name, when it started, how often it will refresh the
   * claim); if it was taken before, says by whom (null when the entry cannot be read).
   */
  async claim(key: string, record: AttemptRecord): Promise<Claim> {
    if (await this.create(key, record)) return { taken: true };
    const entry = await this.read(key);
    return { taken: false, by: entry?.by ?? null, revision: entry?.revision ?? 0 };
  }

  /** The entry as it is now, null when there is none (deleted, or expired). */
  async read(key: string): Promise<ClaimEntry | null> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') return null;
    const parsed = AttemptRecord.safeParse(decodeOrUndefined(entry.value));
    return { by: parsed.success ? parsed.data : null, revision: entry.revision };
  }

  /**
   * The claim rewritten as it is, while its worker runs the attempt: the new revision is the word that
   * the worker lives (claim-watch.ts). A plain publish, like finish(): one lost is made up by the next.
   */
  refresh(key: string, record: AttemptRecord): void {
    this.nc.publish(kvPutSubject(this.nc, ATTEMPTS_BUCKET, key), JSON.stringify(record));
  }

  /**
   * Settles an attempt no worker has claimed yet as not wanted (its run settled, it timed out, or the outcome of the
   * run before its restart came first), so its worker drops it unrun. A create, like a claim: true when settled here.
   */
  abort(key: string): Promise<boolean> {
    return this.create(key, { worker: 'engine', startedAt: new Date().toISOString(), finished: 'aborted' });
  }

  /** Writes the entry unless the key exists (then false): as the log is written. */
  private async create(key: string, record: AttemptRecord): Promise<boolean> {
    try {
      await this.kv.create(key, JSON.stringify(record));
      return true;
    } catch (err) {
      if (apiErrorCode(err) === WRONG_LAST_SEQUENCE) return false;
      throw err;
    }
  }

  /**
   * Marks the attempt finished with a plain publish on the bucket's subject, not waiting for the server. Best effort: a
   * lost mark leaves it claimed and unfinished, and a later delivery is reported lost, which the engine then ignores.
   */
  finish(key: string, record: AttemptRecord, outcome: AttemptRecord['finished']): void {
    this.nc.publish(kvPutSubject(this.nc, ATTEMPTS_BUCKET, key), finishedRecord(record, outcome));
  }

  /**
   * Marks the attempt finished and waits until the server has the mark, trying again while the failure is transient
   * (a leader election) until `giveUpAt`; then throws. For an outcome that is only on LF_INPUTS, not yet in the run's
   * log: a mark lost there left the attempt unclaimed (or claimed and no longer rewritten), so that a copy queued when
   * its engine stopped hearing of it was reported lost, restarted, and run a second time (a 3-node failover).
   */
  async finishSurely(
    key: string,
    record: AttemptRecord,
    outcome: AttemptRecord['finished'],
    giveUpAt: number,
  ): Promise<void> {
    const body = finishedRecord(record, outcome);
    for (let pause = 100; ; pause = Math.min(pause * 2, 2000)) {
      try {
        await this.kv.put(key, body);
        return;
      } catch (err) {
        if (!isTransient(err) || Date.now() + pause > giveUpAt) throw err;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }
}

/** The claim as its worker finished it (no longer rewritten: no period). */
function finishedRecord(record: AttemptRecord, outcome: AttemptRecord['finished']): string {
  const { every: _stops, ...rest } = record;
  return JSON.stringify({ ...rest, finished: outcome } satisfies AttemptRecord);
}
