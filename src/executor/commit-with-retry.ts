/**
 * The one commit loop of every executor. A commit is: load the run's latest
 * state, decide (the core's pure step, review or fold) what to append, append
 * it with the sequence it was decided on. When another writer appended first
 * the store refuses (AppendConflictError) and nothing was written: the whole
 * round runs again on a fresh load, so a decision is never made on a stale
 * state (DESIGN: one history per run). One limit, one error when it is
 * exceeded, for the in-process engine, its driver and the NATS engines alike.
 */
import { AppendConflictError, CommitContendedError } from '../errors/index.js';

/** Rounds before giving up: many more than two writers ever need (each lost round means another commit landed). */
export const MAX_COMMIT_ROUNDS = 50;

/**
 * Runs `round` until it returns without an AppendConflictError, at most
 * MAX_COMMIT_ROUNDS times; other errors pass through at once. `round` gets
 * its number (0 first) and must load afresh each time.
 */
export async function commitWithRetry<T>(runId: string, round: (n: number) => Promise<T>): Promise<T> {
  let lost: AppendConflictError | undefined;
  for (let n = 0; n < MAX_COMMIT_ROUNDS; n++) {
    try {
      return await round(n);
    } catch (err) {
      if (!(err instanceof AppendConflictError)) throw err;
      lost = err;
    }
  }
  throw new CommitContendedError(runId, MAX_COMMIT_ROUNDS, { cause: lost });
}
