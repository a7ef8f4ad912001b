/**
 * Collecting the large payloads no run refers to any more: every run in the live log is read for the references it
 * holds, and the archive's records give those of archived runs (a body stays while any run, live or archived, holds
 * it: it is collected with the runs that held it); a blob none names is deleted, unless it was stored within the grace
 * period. A run read without the data key (its values `[encrypted]`) hides its references: nothing is deleted then. The grace is what makes it
 * safe beside writers: a worker puts a body before its outcome (the reference) is appended, and a start or a signal
 * puts its body before run.started or signal.received is; a body younger than the grace may be such a one.
 */
import type { EventStore } from '../store/index.js';
import { readWithoutKey } from '../encryption/index.js';
import { refsIn } from './payload-check.js';

/** An hour: longer than any put takes to be followed by the append that records its reference. */
export const PAYLOAD_GC_GRACE_MS = 60 * 60 * 1000;
/**
 * The most blobs (and unreadable runs) a report names; the counts and bytes are always whole. On NATS a person's report
 * is one reply (cluster/engine/upkeep-requests.ts), and a message is at most 1 MB: 500 names are about 45 KB.
 */
export const PAYLOAD_GC_LIST_MAX = 500;

export interface PayloadGcReport {
  /** Blobs some run refers to, kept. */
  kept: number;
  /** Blobs no run refers to, deleted (or that would be, dry): the first PAYLOAD_GC_LIST_MAX of them. */
  collected: { digest: string; size: number }[];
  /** How many blobs no run refers to, deleted (or that would be): all of them, named or not. */
  collectedCount: number;
  /** Bytes of all of those. */
  bytes: number;
  /** Unreferenced blobs younger than the grace period, kept for now. */
  young: number;
  /** Runs whose log could not be read (or was read without the data key): what they refer to is unknown, so nothing was deleted. The first PAYLOAD_GC_LIST_MAX. */
  corrupt: string[];
  /** How many runs could not be read. */
  corruptCount: number;
  /** `collected` or `corrupt` names fewer than its count. */
  truncated: boolean;
}

export async function collectPayloads(
  store: EventStore,
  opts: { graceMs?: number; now?: number; dryRun?: boolean } = {},
): Promise<PayloadGcReport> {
  const report: PayloadGcReport = {
    kept: 0,
    collected: [],
    collectedCount: 0,
    bytes: 0,
    young: 0,
    corrupt: [],
    corruptCount: 0,
    truncated: false,
  };
  const unreadable = (runId: string) => {
    if (report.corruptCount++ < PAYLOAD_GC_LIST_MAX) report.corrupt.push(runId);
    else report.truncated = true;
  };
  const blobs = store.blobs?.();
  if (!blobs) return report;
  // The blobs are listed first: one stored after the list is not judged at all, so none is judged on a log read before it was referred to.
  const stored: { digest: string; size: number; storedAt: number }[] = [];
  for await (const b of blobs.list()) stored.push(b);
  if (stored.length === 0) return report;
  const referenced = new Set<string>();
  for await (const { runId, events } of store.readAll({ onCorrupt: (c) => unreadable(c.runId) })) {
    if (readWithoutKey(store, runId)) unreadable(runId);
    for (const r of refsIn(events)) referenced.add(r.digest);
  }
  for (const digest of (await store.archive?.().attachedDigests()) ?? []) referenced.add(digest);
  // A run that cannot be read may refer to any of them: none is deleted then (the report names the runs).
  const dryRun = opts.dryRun === true || report.corruptCount > 0;
  const before = (opts.now ?? Date.now()) - (opts.graceMs ?? PAYLOAD_GC_GRACE_MS);
  for (const b of stored) {
    if (referenced.has(b.digest)) report.kept++;
    else if (b.storedAt > before) report.young++;
    else {
      if (!dryRun) await blobs.delete(b.digest);
      if (report.collectedCount++ < PAYLOAD_GC_LIST_MAX) report.collected.push({ digest: b.digest, size: b.size });
      else report.truncated = true;
      report.bytes += b.size;
    }
  }
  return report;
}
