/** Several engines and remote workers sharing runs over NATS JetStream. */
export { ClusterEngine, type ClusterEngineOptions } from './engine/index.js';
export { createWorker, type Worker, type WorkerOptions } from './worker/index.js';
export { ClusterClient } from './client/index.js';
export { DefinitionRegistry, KvScheduleCursor, askPresence, ensureCluster, hasUsers } from './transport/index.js';
export { KvGateStore, StreamGateLog } from './engine/index.js';
export { ATTEMPTS_BUCKET, STREAMS, subjects, taskStream, TASK_STREAM_PREFIX, TaskMessage } from './transport/index.js';
export { InputMessage, wireJsonSchemas, EXCERPT_BYTES, DLQ_DEFAULTS, natsSettings } from './transport/index.js';
export { offersEnabled, PROGRESS_BUCKET, ProgressBucket } from './transport/index.js';
export { UPKEEP_ARCHIVE_MAX, UPKEEP_PERIODS_MAX, type UpkeepRequest, type UpkeepVerdict } from './transport/index.js';
export { DeadLetterQueue, parseDeadLetterId, DEAD_LETTER_KINDS, type DeadLetterEntry } from './admin/index.js';
export {
  natsServerBinary,
  clusterNode,
  newRoutePassword,
  nodeName,
  waitForJetStream,
  awaitServer,
} from './admin/index.js';
export { ROUTE_PASSWORD, ROUTE_PASSWORD_RULE, ROUTE_USER, type NodePorts } from './admin/index.js';
export { archivedRun, deliverInput, engineListening, lastSeqIfReadable, takeQueuedInputs } from './client/index.js';
export {
  freshRunId,
  requestDeploy,
  requestLimits,
  requestStart,
  requestUpkeep,
  type RequestOutcome,
} from './client/index.js';
export { inspectCluster, writerText } from './admin/index.js';
