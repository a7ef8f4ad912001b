/**
 * Schedule cursors on NATS: KV bucket LF_SCHEDULES, key `<workflowId>.<triggerIndex>`, value a ScheduleCursorEntry
 * (JSON). Every engine fires schedules; each claims a slot with `update(key, value, revision)` (JetStream's expected
 * last subject sequence), so of several engines that saw the same cursor exactly one claim succeeds and fires.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { isCasConflict } from '../../query/index.js';
import { kvKeys } from '../../store/index.js';
import { ScheduleCursorEntrySchema, type ScheduleCursor, type ScheduleCursorEntry } from '../../triggers/index.js';
import { createBucket } from './create-retry.js';
import { decodeOrUndefined } from './messages.js';

export const SCHEDULES_BUCKET = 'LF_SCHEDULES';

/** The new revision, or null when another engine's write came first. */
const orNullOnConflict = (write: Promise<number>): Promise<number | null> =>
  write.catch((err: unknown) => {
    if (isCasConflict(err)) return null;
    throw err;
  });

export class KvScheduleCursor implements ScheduleCursor {
  private kvPromise: Promise<KV> | undefined;
  constructor(
    private readonly js: JetStreamClient,
    private readonly opts: { replicas?: number; storage?: 'file' | 'memory' } = {},
  ) {}

  private kv(): Promise<KV> {
    this.kvPromise ??= createBucket(this.js, SCHEDULES_BUCKET, this.opts);
    return this.kvPromise;
  }

  async get(key: string): Promise<{ entry: ScheduleCursorEntry; revision: number } | null> {
    const e = await (await this.kv()).get(key);
    if (!e || e.operation !== 'PUT') return null;
    const parsed = ScheduleCursorEntrySchema.safeParse(decodeOrUndefined(e.value));
    // A value that does not parse is treated as absent (the schedule starts from now): overwrite it at its revision.
    if (!parsed.success)
      return { entry: { cron: '', timezone: '', through: new Date(0).toISOString() }, revision: e.revision };
    return { entry: parsed.data, revision: e.revision };
  }

  async create(key: string, entry: ScheduleCursorEntry): Promise<number | null> {
    return orNullOnConflict((await this.kv()).create(key, JSON.stringify(entry)));
  }

  async update(key: string, entry: ScheduleCursorEntry, revision: number): Promise<number | null> {
    return orNullOnConflict((await this.kv()).update(key, JSON.stringify(entry), revision));
  }

  async all(): Promise<Map<string, ScheduleCursorEntry>> {
    await this.kv();
    const out = new Map<string, ScheduleCursorEntry>();
    // Not kv.keys(): it could wait for ever when a key was deleted as it listed (kv-keys.ts).
    for (const key of await kvKeys(this.js, SCHEDULES_BUCKET)) {
      const got = await this.get(key);
      if (got && got.entry.cron !== '') out.set(key, got.entry);
    }
    return out;
  }
}
