/**
 * The errors of payloads kept apart from the events (events/payload-ref.ts): a body the store does not have, a body
 * whose bytes are not the digest its reference names, and the core's signal that a value it must read is not loaded.
 */
import { LedgerflowError } from './base.js';

/** The store has no body for a reference a run's events hold (deleted by hand, or an archive moved without it). */
export class BlobMissingError extends LedgerflowError {
  constructor(digest: string, where: string) {
    super(
      'LF_BLOB_MISSING',
      `the payload ${digest} that ${where} refers to is not in the store's blobs: it was deleted or never copied; put the blob back from a copy of the store (its file is named by its digest)`,
      { digest, where },
    );
  }
}

/** Where a body that no longer hashes right is kept, and how to put it right there (each store says its own). */
export interface BlobPlace {
  /** The file, or the bucket and object, holding the altered bytes. */
  place: string;
  /** What to do: where an intact copy may be and the command that puts it back. */
  fix: string;
}

/**
 * A stored body whose bytes do not hash to the digest its reference names: it was changed after it was written. Every
 * BlobStore's read throws it (store/blobs/digests.ts), naming the place; a reader that knows what refers to the body
 * (a run's event, a task's input) says so with `referredBy`.
 */
export class BlobAlteredError extends LedgerflowError {
  /** `where`: what refers to the body, null when the reader does not know (a store's own read). */
  constructor(digest: string, found: string, where: string | null, at?: BlobPlace) {
    const whose = where ? ` that ${where} refers to` : '';
    super(
      'LF_BLOB_ALTERED',
      `the payload ${digest}${whose} was changed after it was written (its bytes${at ? ` in ${at.place}` : ''} hash to ${found}); ${at?.fix ?? 'put the original back from a copy of the store'}`,
      { digest, found, where, ...(at ? { place: at.place, fix: at.fix } : {}) },
    );
  }

  /** The same finding, said of what refers to the body (a run's event, a task's input). */
  referredBy(where: string): BlobAlteredError {
    const m = this.meta;
    const at = typeof m.place === 'string' && typeof m.fix === 'string' ? { place: m.place, fix: m.fix } : undefined;
    // Made through this.constructor, not by its name: a class that names itself inside its body is renamed apart by
    // the bundler (_BlobAlteredError), and err.name would say so (test/package/class-names.test.ts).
    const Made = this.constructor as new (...a: ConstructorParameters<typeof BlobAlteredError>) => BlobAlteredError;
    return new Made(String(m.digest), String(m.found), where, at);
  }
}

/**
 * Thrown by the core when a template or condition walks into a payload reference whose value this process has not
 * loaded: the executor's edge loads it (asynchronously) and evaluates the pure step again. Not a failure of the run.
 */
export class BlobNotLoadedError extends LedgerflowError {
  readonly digest: string;
  constructor(digest: string) {
    super(
      'LF_BLOB_NOT_LOADED',
      `the payload ${digest} is not loaded in this process: the executor loads it and evaluates again (a caller of the core without a blob store sees this)`,
      { digest },
    );
    this.digest = digest;
  }
}
