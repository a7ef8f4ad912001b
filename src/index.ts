/**
 * ledgerflow's library API: load and validate definitions, compile them to XState machines, and start, resume, approve,
 * cancel and replay runs on an event store. The CLI is a thin layer over exactly this.
 *
 * Every public name is listed here by hand: what most programs need, and every error class. Three more entries
 * (src/exports/): `ledgerflow/cluster` (NATS), `ledgerflow/query` (the run index) and `ledgerflow/internal` (what the
 * CLI builds on; not a stable API). A name in none of them is internal and may change without notice (tests import
 * internals from their modules).
 */
import { openStore, type EventStore } from './store/index.js';
import { withDataKeys } from './encryption/index.js';
import type { Engine, EngineOptions } from './local/index.js';
import { outputWriter } from './files/index.js';
import { createCommandExecutor, createHttpExecutor } from './handlers/index.js';
import { diskEngine } from './triggers/index.js';

export {
  LedgerflowError,
  DefinitionError,
  ExpressionError,
  UsageError,
  InputError,
  RunNotFoundError,
  RunNotArchivedError,
  RunArchivedError,
  AppendConflictError,
  CommitContendedError,
  StoreError,
  CorruptRunError,
  DataKeyError,
  RunNotStartedError,
  AttemptFailedError,
  RunBusyError,
  UnsupportedTaskTypeError,
  HandlerError,
  TransformError,
  ApprovalRefusedError,
  PauseRefusedError,
  CancelRefusedError,
  NonRetryableError,
  RetryAfterError,
  RunCannotStartError,
  DeadLetterNotFoundError,
  DeadLetterNotReplayableError,
  RetryRefusedError,
  ForkRefusedError,
  RunIdTakenError,
  ConcurrencyLimitError,
  StoreUnusableError,
  SignalRefusedError,
  RunLogDamagedError,
  BlobMissingError,
  BlobAlteredError,
  BlobNotLoadedError,
  NotificationsConfigError,
  UsersFileError,
  AuthorityError,
  formatDiagnostic,
  errorMessage,
  ERROR_KINDS,
  type Diagnostic,
  type JsonSafe,
  type ErrorCode,
  type ErrorKind,
} from './errors/index.js';
// Every error class a caller can receive is here, whichever tier throws it: `instanceof` works on all of them.
export { UnsupportedStatechartError, SnapshotMismatchError } from './compiler/index.js';
export { QueryError, RecordGapError } from './query/index.js';
export { EventTypeFileError } from './triggers/index.js';
export { BridgeLineError } from './bridge/index.js';
export { CommandError, HttpTaskError } from './handlers/index.js';
export { ConductorTooDeepError } from './import/conductor/depth.js';

// Definitions
export {
  parseDefinition,
  definitionHash,
  definitionJsonSchema,
  parseDuration,
  MONITORING_METRICS,
  type MonitoringMetric,
  type Definition,
  type TaskDef,
} from './definition/index.js';
export {
  loadDefinitionFile,
  outputWriter,
  parseYaml,
  stringifyYaml,
  type OutputWriter,
  type LoadedDefinition,
} from './files/index.js';
// Runs: the engine, its stores, what a run looks like, replay
export {
  Engine,
  type EngineOptions,
  type StartOptions,
  type DriveOptions,
  type DriverHooks,
  type LoadedRunLog,
  type RetryOptions,
  type StartedRun,
  type CallerIdOptions,
} from './local/index.js';
// Bulk actions: one action on every run a filter matches (docs/operations.md#bulk-actions)
export { bulk, type BulkCallOptions } from './runs/bulk.js';
export type { BulkAction } from './query/index.js';
export {
  MemoryEventStore,
  FileEventStore,
  openStore,
  type EventStore,
  type RunSummary,
  type CorruptRun,
} from './store/index.js';
export type { EventEnvelope, EventType, WorkflowStatus } from './events/index.js';
export {
  isSettled,
  runView,
  type RunView,
  type TaskView,
  replayRun,
  type ReplayReport,
  type Divergence,
} from './runtime/index.js';
// The code tasks run
export {
  type Handlers,
  type TaskHandler,
  type TaskContext,
  type TaskInfo,
  COMMAND_HANDLER,
  type AttemptCommand,
  type CommandContext,
  type CommandRunner,
} from './runtime/index.js';
export {
  loadHandlerModule,
  createCommandExecutor,
  DEFAULT_COMMAND_OUTPUT_LIMIT,
  type CommandExecutorOptions,
  createHttpExecutor,
  type HttpExecutorOptions,
} from './handlers/index.js';
/** Where `${secrets.NAME}` values come from: `new Engine({ secrets })`, `createWorker({ secrets })` (docs/operations.md#secrets). */
export { chainSecrets, envSecrets, fileSecrets, type SecretsProvider, type SecretsStore } from './secrets/providers.js';
export {
  encryptedBlobs,
  encryptedSnapshots,
  encryptedStore,
  KeyRing,
  rotateDataKey,
  withDataKeys,
} from './encryption/index.js';
// Keeping runs going, starting them from events, watching them
export { Service, type ServiceOptions, type ServiceNotice, type TickHook, type StopReport } from './service/index.js';
export {
  emitEvent,
  type EmitOptions,
  type EmitResult,
  type EmittedRun,
  loadTriggerCatalog,
  type LoadedCatalog,
  type TriggerCatalog,
} from './triggers/index.js';
export { embeddedScheduleAction, type ScheduleAction, type ScheduleActionResult } from './triggers/index.js';
export {
  createMetrics,
  serveMetrics,
  type LedgerflowMetrics,
  type MetricsOptions,
  type MetricsServer,
} from './metrics/index.js';
// NATS (createWorker, ClusterClient, the JetStream store): 'ledgerflow/cluster'. The run index: 'ledgerflow/query'. The
// compiler, the pure step and fold, and the rest the CLI builds on: 'ledgerflow/internal' (not a stable API).

/**
 * An engine on a store (default: the embedded file store in `.ledgerflow/` or LEDGERFLOW_STORE). `output_to` files are
 * written under `outputRoot` (default: the process's current directory), never outside it. COMMAND tasks run with
 * `createCommandExecutor({ outputLimit: commandOutputLimit })` unless `runCommand` is given; HTTP tasks with
 * `createHttpExecutor()` (any host) unless `runHttp` is given.
 */
export function createEngine(
  opts: Partial<EngineOptions> & { storeDir?: string; outputRoot?: string; commandOutputLimit?: number } = {},
): Engine {
  const { outputRoot, storeDir, commandOutputLimit, ...given } = opts;
  const rest = {
    runCommand: createCommandExecutor(commandOutputLimit !== undefined ? { outputLimit: commandOutputLimit } : {}),
    runHttp: createHttpExecutor(),
    ...given,
  };
  const writeOutput = outputWriter(outputRoot);
  // Encrypted at rest when a data key is among the secrets (docs/security.md); a store given is used as it is.
  const store: EventStore = rest.store ?? withDataKeys(openStore(storeDir ? { dir: storeDir } : {}));
  // Child runs and EMITs find their definitions beside the parent's file unless the caller says otherwise.
  return diskEngine({
    writeOutput,
    ...rest,
    store,
    storeDir: storeDir ?? process.env.LEDGERFLOW_STORE ?? '.ledgerflow',
  });
}
