/**
 * The EventStore decorator of encryption at rest: each commit's payload fields sealed before the store below gets it,
 * each event read opened before the caller gets it. So the fold, replay and the state hashes an event records see
 * clear values; the store, its journal, the streams and whatever moves its bytes (archives) see ciphertext only; a
 * log written before (clear) reads unchanged. Without any key a reader sees `[encrypted]` in place of each sealed
 * value, and may not append to a run it saw so (it would fold on values it cannot see).
 */
import { DataKeyError } from '../errors/index.js';
import { isBuiltByFold, markBuiltByFold, type EventEnvelope } from '../events/index.js';
import {
  AT_REST,
  overridden,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type OnEvents,
} from '../store/index.js';
import { encryptedBlobs } from './blobs.js';
import { openEvent, sealEvent, sealedKeyIds, type Opener } from './events.js';
import type { KeyRing } from './keys.js';

export interface EncryptedStoreInfo {
  /** The ring the store seals and opens with. */
  readonly ring: KeyRing;
  /** Whether this process read the run with `[encrypted]` in place of its values (it had no key). */
  redacted(runId: string): boolean;
}
export const ENCRYPTION = Symbol.for('ledgerflow.encryption');

export function encryptedStore<S extends EventStore>(store: S, ring: KeyRing): S {
  /** Runs this process read as `[encrypted]`: it may not append to them. */
  const redacted = new Set<string>();

  const keyFor =
    (runId: string): Opener =>
    (id) => {
      const key = ring.cached(id);
      if (key) return key;
      if (!ring.hasAnyKey) {
        redacted.add(runId);
        return 'redact';
      }
      throw new DataKeyError(
        'LF_DATA_KEY_MISSING',
        `run ${runId} holds values sealed with data key ${id}, which no secrets provider has: set LF_DATA_KEY_${id} (the key it was before a rotation) where LF_DATA_KEY is set`,
        { keyId: id, runId },
      );
    };

  async function opened(runId: string, events: EventEnvelope[]): Promise<EventEnvelope[]> {
    const ids = sealedKeyIds(events);
    if (ids.size === 0) return events;
    await ring.load(ids);
    return events.map((ev) => openEvent(ev, keyFor(ev.runId || runId)));
  }

  const append = async (req: AppendRequest): Promise<AppendResult> => {
    // The current key once looked up, without a promise a commit (ring.current() chains one on every call).
    const key = ring.loaded !== undefined ? ring.loaded : await ring.current();
    if (!key) {
      if (redacted.has(req.runId))
        throw new DataKeyError(
          'LF_DATA_KEY_MISSING',
          `run ${req.runId} holds encrypted values and this process has no data key: set LF_DATA_KEY (docs/security.md) to drive it`,
          { runId: req.runId },
        );
      return store.append(req);
    }
    const events = req.events.map((ev) => sealEvent(ev, key));
    // Sealed fields still parse with the events' schemas: what the fold built stays marked so.
    if (isBuiltByFold(req.events)) markBuiltByFold(events);
    return store.append({ ...req, events });
  };

  const read: EventStore['read'] = async (runId, opts) => opened(runId, await store.read(runId, opts));

  const readAll: EventStore['readAll'] = (filter) => ({
    async *[Symbol.asyncIterator]() {
      for await (const run of store.readAll(filter))
        yield { runId: run.runId, events: await opened(run.runId, run.events) };
    },
  });

  const follow: EventStore['follow'] = (runId, afterSeq, onEvents: OnEvents, opts) => {
    // Batches are delivered in order: at once when their keys are loaded, else after the batches before them.
    let queue: Promise<void> | null = null;
    const deliver = (events: EventEnvelope[]) => {
      const ids = sealedKeyIds(events);
      if (
        queue === null &&
        [...ids].every((id) => ring.cached(id) !== undefined || (ring.loaded === null && !ring.hasAnyKey))
      ) {
        if (ids.size === 0) onEvents(events);
        else onEvents(events.map((ev) => openEvent(ev, keyFor(runId))));
        return;
      }
      const p: Promise<void> = (queue ?? Promise.resolve())
        .then(async () => onEvents(await opened(runId, events)))
        .catch((err: unknown) => process.emitWarning(`run ${runId}: events not delivered: ${String(err)}`))
        .finally(() => {
          if (queue === p) queue = null;
        });
      queue = p;
    };
    void ring.current().catch(() => {});
    return store.follow(runId, afterSeq, deliver, opts);
  };

  const overrides = new Map<PropertyKey, unknown>([
    ['append', append],
    ['read', read],
    ['readAll', readAll],
    ['follow', follow],
    [AT_REST, store],
    [ENCRYPTION, { ring, redacted: (runId: string) => redacted.has(runId) } satisfies EncryptedStoreInfo],
  ]);
  // Read on from a mark (the run page's fold): opened as read() opens, only where the store under it reads on.
  if (typeof store.readOn === 'function') {
    const inner = store.readOn.bind(store);
    const readOn: NonNullable<EventStore['readOn']> = async (runId, from) => {
      const on = await inner(runId, from);
      return on && { events: await opened(runId, on.events), mark: on.mark };
    };
    overrides.set('readOn', readOn);
  }
  if (typeof store.blobs === 'function') {
    const inner = store.blobs.bind(store);
    let wrapped: ReturnType<typeof encryptedBlobs> | undefined;
    overrides.set('blobs', () => (wrapped ??= encryptedBlobs(inner(), ring)));
  }
  return overridden(store, overrides);
}

/** The ring of an encrypted store (or of the decorator under an observing one), or null. */
export function ringOf(store: EventStore): KeyRing | null {
  const info = (store as unknown as Record<symbol, EncryptedStoreInfo | undefined>)[ENCRYPTION];
  return info?.ring ?? null;
}

/** Whether this process read the run without the key (`[encrypted]` values): false for a store that does not encrypt. */
export function readWithoutKey(store: EventStore, runId: string): boolean {
  const info = (store as unknown as Record<symbol, EncryptedStoreInfo | undefined>)[ENCRYPTION];
  return info?.redacted(runId) ?? false;
}
