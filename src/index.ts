/**
 * ledgerflow's library API: load and validate definitions, compile them to
 * XState machines, and start, resume, approve, cancel and replay runs on an
 * event store. The CLI is a thin layer over exactly this.
 *
 * Every public name is listed here by hand: a name not listed is internal,
 * and may change without notice (tests import internals from their modules).
 */
import { openStore, type EventStore } from './store/index.js';
import type { Engine, EngineOptions } from './local/index.js';
import { outputWriter } from './files/index.js';
import { createCommandExecutor } from './handlers/index.js';
import { diskEngine } from './triggers/index.js';

export {
  LedgerflowError, DefinitionError, ExpressionError, UsageError, InputError, RunNotFoundError, AppendConflictError, CommitContendedError,
  StoreError, CorruptRunError, RunBusyError, UnsupportedTaskTypeError, HandlerError, ApprovalRefusedError, PauseRefusedError, CancelRefusedError, NonRetryableError, RunCannotStartError, DeadLetterNotFoundError, DeadLetterNotReplayableError,
  RetryRefusedError, RunIdTakenError, ConcurrencyLimitError, StoreUnusableError, SignalRefusedError, RunLogDamagedError, NotificationsConfigError,
  formatDiagnostic, errorMessage, ERROR_KINDS, type Diagnostic, type JsonSafe, type ErrorCode, type ErrorKind,
} from './errors/index.js';
export { parseDefinition, definitionHash, definitionJsonSchema, parseDuration, MAX_DEFINITION_BYTES, MAX_DEFINITION_JSON_BYTES, MAX_TASKS, MAX_DURATION_MS, type Definition, type TaskDef, type IdReusePolicy, ID_REUSE_POLICIES } from './definition/index.js';
export { compile, machineJson, UnsupportedStatechartError, SnapshotMismatchError, type CompiledWorkflow } from './compiler/index.js';
export type { EventEnvelope, EventType, WorkflowStatus } from './events/index.js';
export { MemoryEventStore, FileEventStore, JetStreamEventStore, openStore, openJetStreamStore, type EventStore, type RunSummary, type CorruptRun } from './store/index.js';
export { isSettled, replayRun, foldEvents, type ReplayReport, type Divergence, type RunSnapshot, runView, type RunView, type TaskView, missingHandlers, toTaskError, type Handlers, type TaskHandler, type TaskContext, type TaskInfo, step, type StepResult, reconcile, type Effect, type StartAttempt, type AbortAttempt, type ArmTimer, type CancelTimer, type Held, reviewApproval, type ApprovalRequest, type ApprovalReview, retryPlan, REUSED_TASK_TYPES, RETRYABLE_STATUSES } from './runtime/index.js';
export { Engine, type EngineOptions, type StartOptions, type DriveOptions, type DriverHooks, type LoadedRunLog, type RetryOptions, type StartedRun, type CallerIdOptions } from './local/index.js';
export { type Clock, loadRun, type LoadedRun, CallerRunIdSchema, IdReuseSchema } from './executor/index.js';
export { loadHandlerModule, createCommandExecutor, CommandError, DEFAULT_COMMAND_OUTPUT_LIMIT, type CommandExecutorOptions } from './handlers/index.js';
// NATS: remote workers (the same handler modules, pulled from the work queue) and a client of the cluster's runs.
export { createWorker, type Worker, type WorkerOptions } from './cluster/worker/worker.js';
export { ClusterClient, type ControlOutcome, type DecisionOutcome } from './cluster/client/client.js';
export type { ClusterSettings } from './cluster/transport/setup.js';
export { COMMAND_HANDLER, type AttemptCommand, type CommandContext, type CommandRunner } from './runtime/index.js';
export {
  openRunIndex, recordOf, advance, track, parseRunQuery, pageOf, matches, RunQuerySchema, QueryError, RecordGapError, reindex,
  type RunIndex, type RunPage, type RunRecord, type RunTrigger, type TaskRecord, type WaitingTask, type RunQuery, type RunQueryInput, type RunIndexOptions, type TrackedRun,
} from './query/index.js';
export { Service, type ServiceOptions, type ServiceNotice, type TickHook, type StopReport } from './service/index.js';
export {
  createMetrics, serveMetrics, deriveFacts, reportActiveRuns, runTraceIds, TRACER_NAME,
  type LedgerflowMetrics, type MetricsOptions, type MetricsServer, type CommitHook, type Fact, type AttemptOutcome,
} from './metrics/index.js';
export { loadDefinitionFile, writeOutputFile, outputWriter, OUTPUT_OUTSIDE_ROOT, parseYaml, stringifyYaml, type OutputWriter, type LoadedDefinition } from './files/index.js';
export {
  emitEvent, type EmitOptions, type EmitResult, type EmittedRun,
  loadTriggerCatalog, type LoadedCatalog, type TriggerCatalog,
  admitEvent, type Admission, type RejectionStage,
  parseEventEnvelope, runIdForEvent, type TriggerEvent,
  EventTypeFileError, type EventTypeSpec,
  fileDeadLetters, deadLetterDir, type DeadLetter, type DeadLetterSink,
} from './triggers/index.js';

/**
 * An engine on a store (default: the embedded file store in `.ledgerflow/` or LEDGERFLOW_STORE).
 * `output_to` files are written under `outputRoot` (default: the process's current directory), never outside it.
 * COMMAND tasks run with `createCommandExecutor({ outputLimit: commandOutputLimit })` unless `runCommand` is given.
 */
export function createEngine(opts: Partial<EngineOptions> & { storeDir?: string; outputRoot?: string; commandOutputLimit?: number } = {}): Engine {
  const { outputRoot, storeDir, commandOutputLimit, ...given } = opts;
  const rest = { runCommand: createCommandExecutor(commandOutputLimit !== undefined ? { outputLimit: commandOutputLimit } : {}), ...given };
  const writeOutput = outputWriter(outputRoot);
  const store: EventStore = rest.store ?? openStore(storeDir ? { dir: storeDir } : {});
  // Child runs and EMITs find their definitions beside the parent's file unless the caller says otherwise.
  return diskEngine({ writeOutput, ...rest, store, storeDir: storeDir ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow' });
}
