/**
 * What both executors (in-process `src/local`, NATS `src/cluster`) share at
 * the edge of the deterministic core: the clock, run and attempt ids, loading
 * a run through its snapshot, and the one commit loop (`commitWithRetry`).
 */
export { systemClock, type Clock } from './clock.js';
export { newRunId, randomHex } from './ids.js';
export { loadRun, snapshotOf, snapshotDue, type LoadedRun } from './snapshots.js';

import { installDigest } from '../digest/index.js';
import { nativeDigest } from './native-digest.js';
// Executors run on Node: the core hashes every event, so it gets the native sha256 (same digests).
installDigest(nativeDigest);
export { commitWithRetry, MAX_COMMIT_ROUNDS } from './commit-with-retry.js';
