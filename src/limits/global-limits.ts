/**
 * Where the limits file's limits live (docs/limits.md#limits-per-queue-or-handler): one shared document of the store,
 * `limits` (the embedded store's `<store>/gates/limits.json`; on NATS the entry `limits` of KV LF_TASK_GATES), written
 * by `ledgerflow limits set` and read by every process that decides which attempts wait: so every `run`, `resume`,
 * `serve` and `ui` on one store, and every engine of a cluster, holds the same attempts to the same limits, whatever
 * its own directory or flags.
 */
import { hasLimits, StoredLimitsSchema, type GlobalLimits } from '../definition/index.js';
import { StoreError, errorMessage } from '../errors/index.js';
import type { EventStore } from '../store/index.js';

const LIMITS_DOC = 'limits';

/** The stored limits, or undefined when none (or a store that keeps no shared documents). One that does not parse is an error naming the fix. */
export async function readLimits(store: EventStore): Promise<GlobalLimits | undefined> {
  if (!store.readShared) return undefined;
  const doc = await store.readShared(LIMITS_DOC);
  if (doc === null || doc === undefined) return undefined;
  const parsed = StoredLimitsSchema.safeParse(doc);
  if (!parsed.success)
    throw new StoreError(
      `the stored limits (shared document ${LIMITS_DOC}) are not limits ledgerflow wrote: store them again with \`ledgerflow limits set <file>\``,
      { doc: LIMITS_DOC },
    );
  return hasLimits(parsed.data as GlobalLimits) ? (parsed.data as GlobalLimits) : undefined;
}

/**
 * The stored limits for showing a run (`status`, `watch`): what a waiting task waits for. A document that cannot be
 * read shows the run with its own limits only, rather than failing a read of its state: nothing is decided from it
 * here, and every start and `ledgerflow limits show` still report the error with its fix.
 */
export function limitsForView(store: EventStore): Promise<GlobalLimits | undefined> {
  return readLimits(store).catch(() => undefined);
}

/** Stores validated limits for every process of the store (an empty set clears them). */
export async function writeLimits(store: EventStore, limits: GlobalLimits): Promise<void> {
  if (!store.updateShared)
    throw new StoreError(
      'this store keeps no shared documents: limits apply across processes of a file store or a NATS cluster',
      {},
    );
  await store.updateShared(LIMITS_DOC, () => ({ doc: limits, result: null }));
}

/**
 * The stored limits as a long-running process sees them: read again every `everyMs` (the same object while they do not
 * change, so what is bound to them is kept). A read that fails keeps the last ones and says why.
 */
export class LimitsWatch {
  private limits: GlobalLimits | undefined;
  private text = '';
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly warn: (message: string) => void,
    private readonly everyMs = 2000,
  ) {}

  current(): GlobalLimits | undefined {
    return this.limits;
  }

  async refresh(): Promise<GlobalLimits | undefined> {
    try {
      const next = await readLimits(this.store);
      const text = JSON.stringify(next ?? null);
      if (text !== this.text) {
        this.text = text;
        this.limits = next;
      }
    } catch (err) {
      this.warn(`limits: ${errorMessage(err)} (the last ones read are kept)`);
    }
    return this.limits;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer ??= setInterval(() => {
      void this.refresh();
    }, this.everyMs);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
