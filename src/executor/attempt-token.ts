/**
 * The token of an attempt an agent outside the engine's process runs (a file
 * agent, src/agent/): what ties its result to that attempt and to no other.
 * Derived from the log, not kept anywhere: the run, the instance, the attempt
 * and the sequence of the `task.started` that began it, so a later attempt
 * of the same task (a retry after a timeout), or the same attempt number in a
 * later loop iteration, has another token, while a restart of the same
 * attempt (`task.restarted`, the engine's process resumed) keeps it: the
 * agent's work for it is still the attempt's outcome. A fence, not a secret:
 * on the file store the file system is the boundary (docs/users.md).
 */
import { createHash } from 'node:crypto';
import { instanceKey } from '../compiler/index.js';
import type { EventEnvelope } from '../events/index.js';

export function attemptToken(runId: string, instance: string, attempt: number, startSeq: number): string {
  // `tk` first: a token of digits alone (or digits and one e) would read back from YAML as a number.
  return `tk${createHash('sha256').update(`${runId}\n${instance}\n${attempt}\n${startSeq}`).digest('hex').slice(0, 24)}`;
}

/** The sequence of the `task.started` of attempt `attempt` of `instance` (the latest, should a loop have run it before). */
export function attemptStartSeq(events: readonly EventEnvelope[], instance: string, attempt: number): number | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const ev = events[i]!;
    if (ev.type === 'task.started' && !ev.data.reused && ev.data.attempt === attempt && instanceKey(ev.data) === instance) return ev.seq;
  }
  return undefined;
}
