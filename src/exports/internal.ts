/**
 * `ledgerflow/internal`: the parts the CLI and the tests build on, for a program that needs them: the compiler, the
 * pure step and fold, the run loader, the trigger pipeline's stages, the metrics' facts. Not a stable API: a name here
 * may change in any version (what `ledgerflow` exports does not without notice).
 */
export { compile, machineJson, type CompiledWorkflow } from '../compiler/index.js';
export {
  foldEvents,
  type RunSnapshot,
  missingHandlers,
  toTaskError,
  step,
  type StepResult,
  reconcile,
  type Effect,
  type StartAttempt,
  type AbortAttempt,
  type ArmTimer,
  type CancelTimer,
  type Held,
  reviewApproval,
  type ApprovalRequest,
  type ApprovalReview,
  retryPlan,
  forkPoint,
  forkPlan,
  REUSED_TASK_TYPES,
  RETRYABLE_STATUSES,
} from '../runtime/index.js';
export { type Clock, loadRun, type LoadedRun, CallerRunIdSchema, IdReuseSchema } from '../executor/index.js';
// Large payloads (docs/language.md#large-payloads): the blob stores, the core's resolver the executors install, the
// edge's loading, keeping apart, checking and collecting.
export {
  usePayloads,
  evaluateLoaded,
  loadPayload,
  resolvePayloads,
  externalize,
  externalizeFields,
  forgetLoadedPayloads,
  checkPayloads,
  collectPayloads,
  refsIn,
  PAYLOAD_GC_GRACE_MS,
  type PayloadCheck,
  type PayloadGcReport,
} from '../executor/index.js';
export { installPayloadResolver, readPayload, type PayloadResolver } from '../expressions/index.js';
export { FileBlobStore, MemoryBlobStore, ObjectBlobStore, BLOB_BUCKET, type BlobStore } from '../store/index.js';
export {
  isPayloadRef,
  payloadLabel,
  PAYLOAD_REF_KEY,
  PayloadRefSchema,
  type PayloadRef,
} from '../events/index.js';
export {
  MAX_DEFINITION_BYTES,
  MAX_DEFINITION_JSON_BYTES,
  MAX_TASKS,
  MAX_DURATION_MS,
  type IdReusePolicy,
  ID_REUSE_POLICIES,
} from '../definition/index.js';
export {
  deriveFacts,
  reportActiveRuns,
  runTraceIds,
  TRACER_NAME,
  type CommitHook,
  type Fact,
  type AttemptOutcome,
} from '../metrics/index.js';
export { writeOutputFile, OUTPUT_OUTSIDE_ROOT } from '../files/index.js';
export {
  admitEvent,
  type Admission,
  type RejectionStage,
  parseEventEnvelope,
  runIdForEvent,
  type TriggerEvent,
  type EventTypeSpec,
  fileDeadLetters,
  deadLetterDir,
  type DeadLetter,
  type DeadLetterSink,
} from '../triggers/index.js';
