/**
 * Live progress of attempts (docs/handlers.md#progress): what a report is (value.ts), the per-store channel it goes on
 * (channel.ts; the embedded store's files: file-channel.ts), an attempt's coalescing reporter (reporter.ts) and what
 * readers make of it with a run's view (read.ts).
 */
export {
  etaMs,
  parseProgressLine,
  validFraction,
  validMessage,
  type LiveProgress,
  type Progress,
} from './value.js';
export {
  instanceToken,
  isLiveProgress,
  LiveProgressSchema,
  type ProgressChannel,
  type ProgressListener,
} from './channel.js';
export { FileProgressChannel } from './file-channel.js';
export { PROGRESS_INTERVAL_MS, ProgressReporter, type ProgressAttempt } from './reporter.js';
export { keptProgress, progressOf, withProgress, type TaskProgress } from './read.js';
