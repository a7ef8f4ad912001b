/**
 * Driving one run here with its RunDriver until it is idle (settled, or waiting on the outside world), the caller's
 * abort and drain signals followed, and releasing the run's lease after. Apart from engine.ts, the Engine's public face.
 */
import { runView, type RunView } from '../runtime/index.js';
import type { RunLease } from '../store/index.js';
import type { RunDriver } from './driver.js';
import type { DriveOptions } from './engine-options.js';

/** Starts `driver`, waits until it is idle and stops it; its run as it stands then. */
export async function driveToIdle(driver: RunDriver, opts: DriveOptions): Promise<RunView> {
  // Listeners only for the signals given (most runs have none: no closures made for them).
  const stop = opts.signal ? () => driver.stop() : null;
  const drain = opts.drain ? () => driver.drain() : null;
  if (stop) opts.signal?.addEventListener('abort', stop);
  if (drain) opts.drain?.addEventListener('abort', drain);
  driver.start();
  // A signal aborted before the drive began fires no event: stopped at once, as it would have been.
  if (opts.signal?.aborted) driver.stop();
  if (opts.drain?.aborted) driver.drain();
  try {
    const final = await driver.waitUntilIdle(opts.maxTimerWaitMs ?? 5 * 60_000);
    return runView(final, driver.lastSeq, driver.compiled.definition);
  } finally {
    if (stop) opts.signal?.removeEventListener('abort', stop);
    if (drain) opts.drain?.removeEventListener('abort', drain);
    driver.stop();
  }
}

/** Releases a run's lease once the driver's `beforeLeaseRelease` has resolved (released however that ends). */
export async function releaseAfter(lease: RunLease | undefined, opts: DriveOptions, runId: string): Promise<void> {
  if (!lease) return;
  try {
    await opts.beforeLeaseRelease?.(runId);
  } finally {
    await lease.release();
  }
}
