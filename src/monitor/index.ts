/**
 * The terminal monitor (`ledgerflow watch`): frames drawn from watched runs (pure: frame.ts, track.ts, lines.ts) and
 * the live loop at the edge that follows runs in a store and redraws them (live.ts); and the notice a driving process
 * gives of attempts still running (in-flight.ts).
 */
export { renderFrame } from './frame.js';
export { trackRun, advanceRun, type WatchedRun } from './track.js';
export { plainLine } from './lines.js';
export { watchRuns, type WatchOptions, type WatchTarget, type MonitorOptions } from './live.js';
export { renderOverview } from './overview.js';
export { onKey, splitKeys, INITIAL_KEYS, type KeyState } from './keys.js';
export { mediansOf, pastMedians } from './medians.js';
export { InFlightNotices } from './in-flight.js';
