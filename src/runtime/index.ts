/**
 * The deterministic core: fold, replay, `step` (events and effects), commit preparation, and the approval, signal,
 * restart and retry rules. No store, no clock, no timers, no `node:` imports (test/architecture/purity.test.ts); the
 * executors (src/local, src/cluster) perform what it decides.
 */
export { retryPlan, assertRetryable, REUSED_TASK_TYPES, RETRYABLE_STATUSES } from './retry.js';
export { forkPoint, forkPlan, forkInput, assertForkTarget, type ForkPoint } from './fork.js';
export {
  applyEvent,
  startFold,
  foldStartOf,
  reuseOf,
  recordedState,
  envelopeOf,
  runStatus,
  rejectionReason,
  toMachineEvent,
  type RunSnapshot,
} from './fold.js';
export { NEW_RUN_STATE_HASH_VERSION } from './state-hash.js';
// A definition's workflow value (compiler/workflow.ts): what executors carry with a run.
export { workflowOf } from '../compiler/index.js';
export { replayRun, foldEvents, type ReplayReport, type Divergence } from './replay.js';
export {
  sealedParting,
  partingAt,
  partedView,
  derivedHidden,
  sealedFromText,
  type SealedFrom,
} from './sealed-parting.js';
export {
  judgeMigration,
  migratedEvent,
  workflowAfter,
  latestWorkflow,
  compiledForRun,
  startedOf,
  type TaskMap,
} from './migration.js';
export {
  runView,
  runOrigin,
  isSettled,
  type RunView,
  type TaskView,
  type TaskProgress,
  type ItemView,
} from './view.js';
export { workerWaits, markUnserved } from './worker-waits.js';
export { markUndriven, needsDriver, undrivenText } from './driver-waits.js';
export {
  prepareCommit,
  foldedStatesOf,
  withFoldedStates,
  pushFolded,
  foldOntoRun,
  hasStartable,
  reuseDue,
} from './commit.js';
export { step, commitEffects, type StepResult } from './step.js';
export {
  reviewApproval,
  refusedBefore,
  waitingFor,
  type ApprovalRequest,
  type ApprovalReview,
  type WaitingFor,
} from './approvals.js';
export { DEFAULT_SIGNALER_LEVEL, reviewSignal } from './signals.js';
export {
  reviewInput,
  inputWouldRecordRefusal,
  type RunInput,
  type InputSender,
  type InputReview,
} from './input-review.js';
export { reviewLoss, reviewRelease, MAX_RESTARTS } from './restarts.js';
export {
  reconcile,
  heldBy,
  timersArmed,
  startAttempt,
  timerFired,
  attemptQueue,
  attemptPlan,
  DEFAULT_QUEUE,
  failureChild,
} from './effects.js';
export type {
  Effect,
  StartAttempt,
  AbortAttempt,
  ArmTimer,
  StartChild,
  EmitEvent,
  ParentRef,
  CancelTimer,
  Held,
  HeldAttempt,
  WaitAttempt,
} from './effect-types.js';
export {
  taskGates,
  gatesOf,
  stillWaiting,
  holdsSlot,
  grantedStart,
  delayedByBreaker,
  delayedBySkills,
  slotsFreed,
  holderKey,
  runPriority,
  breakerOutcomes,
  type BreakerOutcome,
  type TaskGate,
  type GatePart,
  type SlotRef,
} from './task-gates.js';
export { prepareInput } from './input.js';
export {
  handlerFor,
  handlerName,
  handlersForStartedRun,
  missingHandlers,
  toTaskError,
  type Handlers,
  type TaskHandler,
  type TaskContext,
  type TaskInfo,
} from './handlers.js';
export {
  COMMAND_HANDLER,
  HTTP_HANDLER,
  type HttpRunner,
  type AttemptCommand,
  type CommandContext,
  type CommandRunner,
} from './commands.js';
export { assertHandlersFor } from './handlers-owed.js';
export {
  failureHandlerDefinition,
  failureHandlerId,
  type FailureStepContext,
  type FailureStepRunner,
} from './failure-handler.js';
