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

/** A stored body whose bytes do not hash to the digest its reference names: it was changed after it was written. */
export class BlobAlteredError extends LedgerflowError {
  constructor(digest: string, found: string, where: string) {
    super(
      'LF_BLOB_ALTERED',
      `the payload ${digest} that ${where} refers to was changed after it was written (its bytes hash to ${found}); put the original back from a copy of the store`,
      { digest, found, where },
    );
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
