/**
 * The file store's options (FileEventStore's constructor, openStore's `file`): their own file so that the
 * store's class (file.ts) holds only the store.
 */
/**
 * How long an append waits for the writer lock a live process holds. Waiters take the lock at random, not in turn: with
 * `serve` busy and forty `start`s at once on two cores, one waited more than 5 s (the default before, when 8 of 200
 * starts failed); a lock whose holder died is broken at once whatever this says.
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

export interface FileStoreOptions {
  /** How long an append waits for another process's writer lock before a StoreError (default DEFAULT_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
  /** Age after which a lock whose pid is dead is broken (default 10000). */
  staleLockMs?: number;
  /** follow()'s polling period, the fallback when fs.watch misses a change (default 200). */
  pollMs?: number;
  /**
   * Batches of appends the store's writer has in the journal at once, syncing (default 2: the next batch's sync
   * starts while the previous one's is under way); 1 waits for each batch to be durable before starting the next.
   */
  batchesInFlight?: number;
  /** Told what an operator should know (a torn line cut from a log); default: process.emitWarning. */
  onWarning?: (message: string) => void;
}
