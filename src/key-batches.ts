/**
 * Work on one key asked for at once, done in batches: a caller that asks while a batch of its key is under way joins
 * the *next* batch, started when that one ends (never the one under way, which may have read the server before the
 * caller asked). So every caller's work sees the server as it stood at some moment after it asked, as with a request of
 * its own, and N callers at once cost two batches rather than N. Keys do not wait for one another. Used for a shared
 * document's reads (every in-process start reads the limits: `CoalescedReads`), its changes (one read and one
 * compare-and-set per batch: store/jetstream/shared-docs.ts) and the definitions registry's revision, asked per trigger
 * event (cluster/engine/trigger-events.ts).
 */

/** One caller's part of a batch: what it asked (`item`) and how its promise settles. */
export interface Pending<I, R> {
  item: I;
  resolve: (v: R) => void;
  reject: (err: unknown) => void;
}

export class KeyBatches<I, R> {
  /** Keys with a batch under way. */
  private readonly busy = new Set<string>();
  /** Callers waiting for the batch after the one under way, by key. */
  private readonly next = new Map<string, Pending<I, R>[]>();

  /** `settle` does one batch's work and settles each caller's promise; if it throws, every caller not yet settled gets its error. */
  constructor(private readonly settle: (key: string, batch: readonly Pending<I, R>[]) => Promise<void>) {}

  add(key: string, item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const waiting = this.next.get(key);
      if (waiting) waiting.push({ item, resolve, reject });
      else this.next.set(key, [{ item, resolve, reject }]);
      if (!this.busy.has(key)) void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    this.busy.add(key);
    try {
      for (let batch = this.next.get(key); batch; batch = this.next.get(key)) {
        this.next.delete(key);
        try {
          await this.settle(key, batch);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.busy.delete(key);
    }
  }
}

/** Reads of one key asked for at once share one request (see above): every caller gets the same value. */
export class CoalescedReads<T> {
  private readonly batches: KeyBatches<void, T>;

  constructor(fetch: (key: string) => Promise<T>) {
    this.batches = new KeyBatches<void, T>(async (key, batch) => {
      const value = await fetch(key);
      for (const p of batch) p.resolve(value);
    });
  }

  get(key: string): Promise<T> {
    return this.batches.add(key, undefined);
  }
}
