/**
 * A person's input to a run — an approval, a signal, a pause, resume or
 * cancel — as one value, and what became of it as one shape on every store
 * and path (the CLI's `--json` prints it). recordInput records one on the
 * Engine's store: the embedded store's `approve`/`signal`/… and the
 * dashboard, and over NATS when no engine listens (cluster/client/run-inputs.ts).
 */
import type { Level } from '../authority/index.js';
import type { WorkflowStatus } from '../events/index.js';
import type { RunInput, RunView } from '../runtime/index.js';
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
export async function recordInput(engine: Pick<RunCommits, 'decide' | 'signal' | 'pause' | 'unpause' | 'cancel'>, runId: string, input: RunInput, opts: { by: string; unauthenticated?: boolean; level?: Level }): Promise<InputOutcome> {
  const { by } = opts;
  const flag = opts.unauthenticated ? { unauthenticated: true as const } : {};
  const done = (view: RunView, changed = true): InputOutcome => ({
    by, unauthenticated: opts.unauthenticated ?? false, recorded: changed, queued: false, changed, seq: changed ? view.seq : null, status: view.status,
  });
  if (input.kind === 'approval') return done(await engine.decide(runId, input.taskId, input.decision, by, input.comment, { ...flag, ...(opts.level ? { level: opts.level } : {}) }));
  if (input.kind === 'signal') return done(await engine.signal(runId, input.name, { ...(input.data !== undefined ? { data: input.data } : {}), by, ...flag, ...(opts.level ? { level: opts.level } : {}) }));
  const reason = input.reason !== undefined ? { reason: input.reason } : {};
  if (input.action === 'pause') return done(await engine.pause(runId, { by, ...reason, ...flag }));
  const r = input.action === 'resume' ? await engine.unpause(runId, { by, ...flag }) : await engine.cancel(runId, { by, ...reason, ...flag });
  return done(r.view, r.changed);
}
