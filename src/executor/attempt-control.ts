/**
 * The control of one attempt this process runs (a handler, a child run, an
 * EMIT): whether it is still wanted, and the AbortSignal its work reads.
 */
import type { InstanceRef } from '../compiler/index.js';

/**
 * One running attempt. Its AbortSignal is made only when the handler reads it: most handlers never do, and an
 * AbortController per attempt showed in engine profiles. An abort before that yields an already-aborted signal.
 */
export class AttemptControl {
  aborted = false;
  /** Aborted because the attempt is no longer wanted (not because this process stops): a child run it started is cancelled. */
  cancelled = false;
  private controller: AbortController | null = null;
  private reason: unknown;

  constructor(
    readonly attempt: number,
    readonly restart: number,
    readonly ref: InstanceRef,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown, cancel = false): void {
    if (this.aborted) return;
    this.aborted = true;
    this.cancelled = cancel;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
