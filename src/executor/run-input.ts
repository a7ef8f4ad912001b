/**
 * A person's input to a run — an approval, a signal, a pause, resume or
 * cancel — as one value, and what became of it as one shape on every store
 * and path (the CLI's `--json` prints it). recordInput records one on the
 * Engine's store: the embedded store's `approve`/`signal`/… and the
 * dashboard, and over NATS when no engine listens (cluster/client/run-inputs.ts).
 */
import type { Level } from '../authority/index.js';
import type { WorkflowStatus } from '../events/index.js';
import type { RunInput } from '../runtime/index.js';
import type { RunCommits } from './run-commits.js';

export type { RunInput };

/** What became of an input: one shape on every store and path. */
export interface InputOutcome {
  /** Who it is recorded as. */
  by: string;
  /** A name given, not proven by a server (recorded so). */
  unauthenticated: boolean;
  /** In the run's log now (recorded here, or by an engine whose verdict came in time). */
  recorded: boolean;
  /** Published and not taken yet: the next engine, or the next `resume` of the run, takes it. */
  queued: boolean;
  /** False when the run did not take it and nothing was recorded (resume of a run not paused, cancel of a settled one). */
  changed: boolean;
  /** The event that recorded it. */
  seq: number | null;
  /** The run's status after it, when known. */
  status: WorkflowStatus | null;
}

/**
 * Judged and recorded now, as `by` (marked `unauthenticated` when the name is
 * given, not proven: over NATS without a user). Refusals throw (an approval
 * not allowed, a pause of a settled run); a resume of a run not paused and a
 * cancel of a settled one record nothing and say so (`changed: false`).
 */
export async function recordInput(engine: Pick<RunCommits, 'input'>, runId: string, input: RunInput, opts: { by: string; unauthenticated?: boolean; level?: Level }): Promise<InputOutcome> {
  const { by, unauthenticated = false, level } = opts;
  const r = await engine.input(runId, input, { by, ...(unauthenticated ? { unauthenticated } : {}), ...(level && input.kind !== 'control' ? { level } : {}) });
  return { by, unauthenticated, recorded: r.changed, queued: false, changed: r.changed, seq: r.changed ? r.view.seq : null, status: r.view.status };
}
