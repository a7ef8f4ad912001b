/**
 * How the core reads a payload kept apart from the events (events/payload-ref.ts). A run's state holds the reference
 * (so the recorded state hash is over it and old logs replay unchanged); a template or condition that walks into it, or
 * prints it inside a longer string, reads the value through the resolver the executor's edge installed (as digest/'s
 * native sha256 is installed): synchronous, from a cache of loaded values. On a miss it throws BlobNotLoadedError; the
 * edge loads the body and evaluates the pure step again. Without an installed resolver every read is such a miss.
 */
import { BlobNotLoadedError } from '../errors/index.js';
import { isPayloadRef, PAYLOAD_REF_KEY, type PayloadRef } from '../events/payload-ref.js';

/** The value a reference stands for, or a BlobNotLoadedError thrown. */
export type PayloadResolver = (ref: PayloadRef) => unknown;

const notLoaded: PayloadResolver = (ref) => {
  throw new BlobNotLoadedError(ref[PAYLOAD_REF_KEY].digest);
};

let current: PayloadResolver = notLoaded;

/** Installs the edge's resolver (executor/payloads.ts); `null` puts back the one that loads nothing. */
export function installPayloadResolver(resolver: PayloadResolver | null): void {
  current = resolver ?? notLoaded;
}

/** A reference read as its value; any other value as it is. A cheap own-key test first: this runs on every lookup. */
export function readPayload(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, PAYLOAD_REF_KEY)) return value;
  return isPayloadRef(value) ? current(value) : value;
}
