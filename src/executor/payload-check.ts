/**
 * The references a run's events hold, and each checked against the store's blobs: what `replay` reports (a body that
 * is missing, or whose bytes no longer hash to its digest) and what GC keeps.
 */
import { BlobAlteredError, BlobMissingError, type LedgerflowError } from '../errors/index.js';
import { isPayloadRef, PAYLOAD_REF_KEY, type EventEnvelope } from '../events/index.js';
import type { BlobStore } from '../store/index.js';

/** A reference in a run's log: its digest and the event holding it. */
export interface HeldRef {
  digest: string;
  size: number;
  seq: number;
  type: string;
}

/** Every reference in the events' data (run.started's recorded definition aside: a definition holds none). */
export function refsIn(events: readonly EventEnvelope[]): HeldRef[] {
  const out: HeldRef[] = [];
  const walk = (v: unknown, ev: EventEnvelope): void => {
    if (v === null || typeof v !== 'object') return;
    if (isPayloadRef(v)) {
      const { digest, size } = v[PAYLOAD_REF_KEY];
      out.push({ digest, size, seq: ev.seq, type: ev.type });
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(v)) walk(x, ev);
  };
  for (const ev of events) {
    const data = ev.data as Record<string, unknown>;
    if (ev.type === 'run.started') {
      walk(data.input, ev);
      walk(data.source, ev);
    } else walk(data, ev);
  }
  return out;
}

/** What replay says of a run's payloads: how many references it checked and the problems, each a typed error's JSON. */
export interface PayloadCheck {
  checked: number;
  problems: ReturnType<LedgerflowError['toJSON']>[];
}

/** Reads every referenced body (once per digest): the store's read checks it against the reference's digest. */
export async function checkPayloads(
  blobs: BlobStore | undefined,
  runId: string,
  events: readonly EventEnvelope[],
): Promise<PayloadCheck | undefined> {
  const refs = refsIn(events);
  if (refs.length === 0) return undefined;
  const problems: PayloadCheck['problems'] = [];
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.digest)) continue;
    seen.add(r.digest);
    const where = `event ${r.seq} (${r.type}) of run ${runId}`;
    const body = blobs ? await blobs.open(r.digest) : null;
    if (!body) {
      problems.push(new BlobMissingError(r.digest, where).toJSON());
      continue;
    }
    try {
      for await (const _ of body); // the store checks it against the digest as it reads
    } catch (err) {
      if (!(err instanceof BlobAlteredError)) throw err;
      problems.push(err.referredBy(where).toJSON());
    }
  }
  return { checked: seen.size, problems };
}
