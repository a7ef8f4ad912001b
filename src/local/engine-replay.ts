/**
 * Replaying recorded runs for an Engine (its replay and replayAll): each report with the torn lines the store once
 * cut from the run's log, if it keeps such things. Apart from engine.ts, the Engine's public face.
 */
import type { Definition } from '../definition/index.js';
import { replayRun, type ReplayReport } from '../runtime/index.js';
import type { EventEnvelope } from '../events/index.js';
import { checkPayloads, evaluateLoaded, keylessReplay } from '../executor/index.js';
import type { BlobStore, CorruptRunHandler, EventStore } from '../store/index.js';
import { BlobAlteredError, BlobMissingError } from '../errors/index.js';

/** Adds to a report the torn lines the store once cut from the run's log, if it keeps such things. */
export async function withTorn(store: EventStore, report: ReplayReport): Promise<ReplayReport> {
  const torn = await store.tornTail?.(report.runId);
  return torn ? { ...report, torn } : report;
}

/**
 * A run replayed: its events folded (a payload a template reads loaded first) and every payload it holds checked
 * against its digest, with the torn lines the store once cut from its log.
 */
export async function replayChecked(
  store: EventStore,
  events: EventEnvelope[],
  opts: { to?: number; candidate?: Definition },
): Promise<ReplayReport> {
  const blobs = store.blobs?.();
  // Without the data key, where the fold could not follow the run's sealed values is said as such (keyless-view.ts).
  const report = keylessReplay(store, events, await folded(blobs, events, opts));
  const payloads = await checkPayloads(blobs, report.runId, events);
  return withTorn(store, payloads ? { ...report, payloads } : report);
}

/**
 * The run folded by replay, a payload a template reads loaded first. A body missing or changed stops the fold: the
 * error then names the event that holds the reference (as the payload check does), not only "a template".
 */
async function folded(
  blobs: BlobStore | undefined,
  events: EventEnvelope[],
  opts: { to?: number; candidate?: Definition },
): Promise<ReplayReport> {
  try {
    return await evaluateLoaded(blobs, () => replayRun(events, opts));
  } catch (err) {
    if (!(err instanceof BlobMissingError || err instanceof BlobAlteredError) || events.length === 0) throw err;
    const check = await checkPayloads(blobs, events[0]!.runId, events);
    const named = check?.problems.find((p) => p.code === err.code && p.meta.digest === err.meta.digest);
    if (!named) throw err;
    const digest = String(err.meta.digest);
    const where = String(named.meta.where);
    throw err instanceof BlobMissingError ? new BlobMissingError(digest, where) : err.referredBy(where);
  }
}

/** Every recorded run replayed (Engine.replayAll), one report per run, in the store's order. */
export async function* replayAllRuns(
  store: EventStore,
  opts: { workflowId?: string; candidate?: Definition } & CorruptRunHandler,
): AsyncIterable<ReplayReport> {
  const filter = {
    ...(opts.workflowId !== undefined ? { workflowId: opts.workflowId } : {}),
    ...(opts.onCorrupt ? { onCorrupt: opts.onCorrupt } : {}),
  };
  for await (const { events } of store.readAll(filter)) {
    yield await replayChecked(store, events, opts.candidate ? { candidate: opts.candidate } : {});
  }
}
