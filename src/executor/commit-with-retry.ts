/**
 * The one commit loop of every executor. A commit is: load the run's latest state, decide (the core's pure step, review
 * or fold) what to append, append it with the sequence it was decided on. When another writer appended first the store
 * refuses (AppendConflictError) and nothing was written: the whole round runs again on a fresh load, so a decision is
 * never made on a stale state (a run has one history, never a fork). One limit, one error when it is exceeded, for the
 * in-process engine, its driver and the NATS engines alike.
 */
import { AppendConflictError, CommitContendedError } from '../errors/index.js';

/** Rounds before giving up: many more than two writers ever need (each lost round means another commit landed). */
export const MAX_COMMIT_ROUNDS = 50;

/**
 * Runs `round` until it returns without an AppendConflictError, at most MAX_COMMIT_ROUNDS times; other errors pass
 * through at once. `round` gets its number (0 first) and must load afresh each time.
 */
export function commitWithRetry<T>(runId: string, round: (n: number) => Promise<T>): Promise<T> {
  // The first round as it is (no async frame around it: every step of every run commits through here);
  // the loop only after a lost one.
  let first: Promise<T>;
  try {
    first = round(0);
  } catch (err) {
    return Promise.reject(err);
  }
  return first.catch((err: unknown) => {
    if (!(err instanceof AppendConflictError)) throw err;
    return retryRounds(runId, round, err);
  });
}

async function retryRounds<T>(
  runId: string,
  round: (n: number) => Promise<T>,
  lostFirst: AppendConflictError,
): Promise<T> {
  let lost = lostFirst;
  for (let n = 1; n < MAX_COMMIT_ROUNDS; n++) {
    try {
      return await round(n);
    } catch (err) {
      if (!(err instanceof AppendConflictError)) throw err;
      lost = err;
    }
  }
  throw new CommitContendedError(runId, MAX_COMMIT_ROUNDS, { cause: lost });
}
