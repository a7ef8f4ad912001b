/**
 * Resuming a run on the Engine's store (`ledgerflow resume`, once the run API's `resume` has un-paused a paused one): a
 * FAILED run whose process died before it started its failure workflow made to start it, and the notifications a
 * settled run's history owes delivered under its lease. The caller says what happened and drives the run (Engine.drive
 * with what prepareResume loaded).
 */
import { RunBusyError } from '../errors/index.js';
import type { EventEnvelope } from '../events/index.js';
import { isSettled, runView, type RunView } from '../runtime/index.js';
import type { RunLease } from '../store/index.js';
import type { Engine } from './engine.js';
import type { LoadedRunLog } from './engine-options.js';

/**
 * The notifications a run's history does not note as delivered (src/notify's
 * Notifier does this; a port here, as the executor sits below notify/).
 */
export interface OwedNotifications {
  /** Starts delivering what `history` owes. */
  catchUp(history: EventEnvelope[]): unknown;
  /** Resolves once the deliveries under way have ended. */
  finish(): Promise<void>;
}

/** A run made ready to resume: read and folded once, the same state deciding what to do and being what gets driven. */
export interface ResumableRun {
  loaded: LoadedRunLog;
  /** Settled with nothing to drive: its view (then deliverOwedNotifications). Null: drive `loaded`. */
  settled: RunView | null;
  /** A FAILED run's failure workflow run that never started (its process died first): driving the run starts it, once, by this run id. */
  failure: { runId: string; workflow: string } | null;
  /**
   * A run to drive: its lease where the store leases runs (the file store), taken before anything is said or delivered,
   * so a run another process drives is refused (RunBusyError) before the caller claims to resume it. Drive under it
   * (`heldLease`) and release it after (`releaseResumed`).
   */
  lease?: RunLease;
}

/**
 * Reads the run (a paused one is un-paused first by the run API's `resume`). A run to drive has the notifications its
 * history owes started on `owed` (the driver's lease keeps them); a settled one's are left to deliverOwedNotifications.
 */
export async function prepareResume(
  engine: Engine,
  runId: string,
  opts: { owed?: Pick<OwedNotifications, 'catchUp'> } = {},
): Promise<ResumableRun> {
  const first = await engine.load(runId);
  if (first.snapshot.status !== 'active' && !(await engine.pendingFailureRun(first))) {
    return { loaded: first, settled: runView(first.snapshot, first.seq, first.compiled.definition), failure: null };
  }
  // One driver per run: taken before the owed notifications start, so a refused resume delivers nothing twice.
  const lease = await engine.store.leaseRun?.(runId); // throws RunBusyError while another process drives it
  try {
    // Read again under the lease where a driver before moved the run on since (it may have settled it).
    const loaded = lease && (await engine.store.lastSeq(runId)) !== first.seq ? await engine.load(runId) : first;
    const failure = loaded.snapshot.status !== 'active' ? await engine.pendingFailureRun(loaded) : null;
    if (loaded.snapshot.status !== 'active' && !failure) {
      await lease?.release();
      return { loaded, settled: runView(loaded.snapshot, loaded.seq, loaded.compiled.definition), failure: null };
    }
    opts.owed?.catchUp(loaded.events);
    return { loaded, settled: null, failure, ...(lease ? { lease } : {}) };
  } catch (err) {
    await lease?.release();
    throw err;
  }
}

/** Releases what prepareResume leased once the drive has ended, after `beforeRelease` (the notifications it delivers). */
export async function releaseResumed(
  run: ResumableRun,
  beforeRelease?: (runId: string) => Promise<void>,
): Promise<void> {
  if (!run.lease) return;
  try {
    await beforeRelease?.(run.loaded.snapshot.context.runId);
  } finally {
    await run.lease.release();
  }
}

/**
 * A settled run's notifications its history does not note as delivered (its driver died first), delivered under the
 * run's lease where the store has one: a `serve` on the store leaves them to this process meanwhile. A run another live
 * process holds is left to it (it delivers them): `busy` says which.
 */
export async function deliverOwedNotifications(
  engine: Engine,
  runId: string,
  owed: OwedNotifications,
): Promise<{ busy: RunBusyError | null }> {
  let lease;
  try {
    lease = await engine.store.leaseRun?.(runId);
  } catch (err) {
    if (!(err instanceof RunBusyError)) throw err;
    return { busy: err };
  }
  try {
    // Read again under the lease: a driver before may have noted deliveries since.
    owed.catchUp(await engine.events(runId));
    await owed.finish();
    return { busy: null };
  } finally {
    await lease?.release();
  }
}

/** A FAILED run's failure workflow run that started but has not settled (a crash cut it short: it is a run of its own, resumed by its id); else null. */
export async function unsettledFailureRun(engine: Engine, view: RunView): Promise<RunView | null> {
  const failureRun = view.status === 'FAILED' ? (await engine.status(view.runId)).failureRun : undefined;
  const failed = failureRun ? await engine.status(failureRun) : undefined;
  return failed && !isSettled(failed) ? failed : null;
}
