/**
 * The in-process executor: `Engine` (start, resume, approve, signal, retry a run on any EventStore; resume.ts: what
 * resuming does besides driving), the `RunDriver` that performs a run's effects with in-process handlers and timers,
 * and child runs. It decides nothing itself: each input goes through the core's `prepareCommit` and the executors'
 * `RunLog`, and the commits from outside a run's rounds (starts, a person's input) through the executor's `RunCommits`.
 */
export {
  Engine,
  type EngineOptions,
  type StartOptions,
  type DriveOptions,
  type LoadedRunLog,
  type RetryOptions,
  type StartedRun,
  type CallerIdOptions,
} from './engine.js';
export { prepareResume, releaseResumed, deliverOwedNotifications, unsettledFailureRun } from './resume.js';
export type { DriverHooks, ChildExecutor, TransformRunner } from './driver-options.js';
export type { ChildOutcome } from '../executor/index.js';
export type { ChildResolver, EventEmitter } from './child-runs.js';
export { progressSweeps, sweepProgressFolders, PROGRESS_SWEEP_MS } from './progress-sweep.js';
