/** Fold, replay and the live executor. */
export { newRunId } from './ids.js';
export { Engine, isSettled, type EngineOptions, type StartOptions, type DriveOptions, type LoadedRunLog } from './engine.js';
export { RunDriver, type DriverHooks, type DriverOptions, type ChildExecutor, type ChildOutcome } from './driver.js';
export { ChildRuns, childOutcome, type ChildResolver, type ChildDefinitionRef, type ResolvedChild, type EventEmitter } from './child-runs.js';
export { applyEvent, startFold, recordedState, runStatus, rejectionReason, toMachineEvent, type RunSnapshot } from './fold.js';
export { replayRun, foldEvents, compiledForRun, type ReplayReport, type Divergence } from './replay.js';
export { runView, type RunView, type TaskView } from './view.js';
export { prepareCommit, foldOnto, type PreparedCommit } from './commit.js';
export { step, type StepResult } from './step.js';
export { reviewApproval, type ApprovalRequest, type ApprovalReview } from './approvals.js';
export { reviewSignal, signalEvent, type SignalRequest, type SignalReview } from './signals.js';
export { reviewLoss, MAX_RESTARTS, type LostAttempt, type LossReview } from './restarts.js';
export { reconcile, heldBy, timerFired, DEFAULT_QUEUE, type Effect, type StartAttempt, type AbortAttempt, type ArmTimer, type StartChild, type EmitEvent, type ParentRef, failureChild, type CancelTimer, type Held } from './effects.js';
export { loadRun, snapshotOf, snapshotDue, type LoadedRun } from './snapshots.js';
export { prepareInput } from './input.js';
export { systemClock, type Clock } from './clock.js';
export { handlerFor, handlerName, missingHandlers, toTaskError, type Handlers, type TaskHandler, type TaskContext, type TaskInfo } from './handlers.js';
export { COMMAND_HANDLER, resolveCommand, type AttemptCommand, type CommandContext, type CommandRunner } from './commands.js';
