/**
 * Damaged logs at the CLI (src/query/damage.ts): `status` and `history` warn and exit 1, and the commands that drive or
 * write to a run on the embedded store refuse a damaged one (LF_RUN_LOG_DAMAGED, exit 2) before writing. Only the file
 * store has witnesses: over NATS no log is found damaged.
 */
// damage.js, not the query index: that also holds the NATS run index, which `run` and `resume` on the embedded store never need.
import { LogWitness, damagedText } from '../../query/damage.js';
import type { DamagedLog } from '../../query/index.js';
import { storeFor } from '../open-store.js';
import type { GlobalOpts } from '../flags/store.js';

/** The damage of a run whose log ends at `foundSeq`, null when the log is whole; for many runs, one witness (the index and the journal read once, while they stay as they are). */
export function damageCheck(g: GlobalOpts): (runId: string, foundSeq: number) => Promise<DamagedLog | null> {
  const witness = new LogWitness(storeFor(g));
  return (runId, foundSeq) => witness.check(runId, foundSeq);
}

/** The journal's word on the runs `list` shows, read once for all of them (the run index told its own). */
export function journalDamage(
  g: GlobalOpts,
  runs: readonly { runId: string; lastSeq: number }[],
): Promise<Map<string, DamagedLog>> {
  return new LogWitness(storeFor(g)).journalDamage(runs);
}

/** Throws RunLogDamagedError for a damaged run: before anything is driven or written. */
export async function refuseDamaged(g: GlobalOpts, runId: string): Promise<void> {
  const store = storeFor(g);
  const witness = new LogWitness(store);
  // No witness, no read: over NATS a person's user may not read the log (the run API asks the engines then).
  if (witness.index === null) return;
  const seq = await store.lastSeq(runId);
  if (seq > 0) await witness.refuse(runId, seq);
}

/** The warning `status`, `history` and `list` print on stderr. */
export const damagedWarning = (d: DamagedLog): string => `warning: ${damagedText(d)}`;
