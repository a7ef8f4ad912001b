/**
 * The terminal monitor (`ledgerflow watch`): frames drawn from watched runs
 * (pure: frame.ts, track.ts, lines.ts) and the live loop at the edge that
 * follows runs in a store and redraws them (live.ts); and the notice a
 * driving process gives of attempts still running (in-flight.ts).
 */
export { renderFrame, runBlock, type FrameOptions } from './frame.js';
export { trackRun, advanceRun, EventGapError, KEPT_EVENTS, type WatchedRun } from './track.js';
export { plainLine, jsonLine, eventSubject, eventDetail } from './lines.js';
export { GLYPHS, formatDuration, taskLook, runLook, colors } from './look.js';
export { watchRuns, type WatchOptions, type WatchResult, type WatchTarget, type WatchOutput, type MonitorOptions } from './live.js';
export { renderOverview, runBox, progressOf, median, clock, type OverviewOptions } from './overview.js';
export { onKey, promptOf, splitKeys, INITIAL_KEYS, type KeyState, type KeyAction } from './keys.js';
export { mediansOf, pastMedians, PAST_RUNS } from './medians.js';
export { discoverRuns, DISCOVERY_POLL_MS, type Discovery } from './discover.js';
export { InFlightNotices, DEFAULT_WAIT_NOTICE_MS } from './in-flight.js';
