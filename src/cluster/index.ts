/** Several engines and remote workers sharing runs over NATS JetStream. */
export { ClusterEngine, type ClusterEngineOptions } from './engine/index.js';
export { createWorker, type Worker, type WorkerOptions } from './worker/index.js';
export { ClusterClient } from './client/index.js';
export { DefinitionRegistry } from './transport/index.js';
export { KvScheduleCursor } from './transport/index.js';
export { askPresence } from './transport/index.js';
export { KvGateStore, StreamGateLog } from './engine/index.js';
export { ensureCluster } from './transport/index.js';
export { ATTEMPTS_BUCKET } from './transport/index.js';
export { STREAMS, subjects, taskStream, TASK_STREAM_PREFIX } from './transport/index.js';
export { TaskMessage, InputMessage } from './transport/index.js';
export { wireJsonSchemas } from './transport/index.js';
export { DeadLetterQueue, parseDeadLetterId, DEAD_LETTER_KINDS, type DeadLetterEntry } from './admin/index.js';
export { EXCERPT_BYTES } from './transport/index.js';
export { DLQ_DEFAULTS } from './transport/index.js';
export { natsSettings, offersEnabled } from './transport/index.js';
export {
  natsServerBinary,
  clusterNode,
  newRoutePassword,
  nodeName,
  waitForJetStream,
  ROUTE_PASSWORD,
  ROUTE_PASSWORD_RULE,
  ROUTE_USER,
  type NodePorts,
} from './admin/index.js';
export { deliverInput } from './client/index.js';
export { engineListening, lastSeqIfReadable, takeQueuedInputs } from './client/index.js';
export { hasUsers } from './transport/index.js';
export { freshRunId, requestDeploy, requestLimits, requestStart, type RequestOutcome } from './client/index.js';
export { inspectCluster } from './admin/index.js';
export { writerText } from './admin/index.js';
