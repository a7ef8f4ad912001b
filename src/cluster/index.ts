/** Several engines and remote workers sharing runs over NATS JetStream. */
export { ClusterEngine, type ClusterEngineOptions } from './engine.js';
export { createWorker, type Worker, type WorkerOptions } from './worker.js';
export { ClusterClient } from './client.js';
export { DefinitionRegistry } from './definitions.js';
export { KvScheduleCursor, SCHEDULES_BUCKET } from './schedule-cursor.js';
export { ensureCluster, type ClusterSettings } from './setup.js';
export { AttemptLedger, ATTEMPTS_BUCKET } from './attempts.js';
export { STREAMS, subjects, taskStream, DEFAULT_QUEUE, TASK_STREAM_PREFIX } from './subjects.js';
export { TaskMessage, InputMessage, TimerMessage, ApprovalMessage, DeadLetterMessage } from './messages.js';
export { WIRE_SCHEMAS, wireJsonSchemas, type WireSchemaName } from './wire.js';
export { DeadLetterQueue, DEAD_LETTER_KINDS, type DeadLetterEntry, type DeadLetterKind, type DeadLetterWriter, type ReplayResult } from './dead-letter-queue.js';
export { KEEP_BODY_BYTES, EXCERPT_BYTES, MAX_DEAD_LETTER_BYTES, REDELIVERY_DEFAULTS } from './dead-letters.js';
export { DLQ_DEFAULTS } from './setup.js';
export { natsSettings } from './nats-settings.js';
export { deliverInput, engineListening, senderFor, type RunInput, type InputOutcome } from './run-inputs.js';
export { resumeOverCluster, type ClusterResume, type ClusterResumeOptions } from './resume.js';
export { inspectCluster, type DoctorReport, type StreamHealth } from './doctor.js';
export { writerText } from './dead-letter-rules.js';
