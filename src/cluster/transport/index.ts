/**
 * The NATS transport every role of a cluster shares: the subjects and streams (subjects.ts), the
 * messages and their schemas (messages.ts, wire.ts), creating streams, consumers and buckets (setup.ts),
 * reading a message one way (parse.ts), the attempt ledger and the engines' signatures on attempts, dead
 * letters, presence and who is speaking. How it fits: ./NOTES.md.
 */
export { ATTEMPT_SIG_HEADER, AttemptVerifier, publishAttemptKey } from './attempt-keys.js';
export { ATTEMPT_MAC_HEADER, SESSION_HEADER } from './attempt-sessions.js';
export { AttemptTokens, ENGINE_BUCKET, reportDigest } from './attempt-tokens.js';
export { BatchSigner } from './attempt-batch.js';
export { ATTEMPTS_BUCKET, AttemptLedger, type AttemptRecord, type Claim, type ClaimEntry } from './attempts.js';
export { createBucket, createRetrying } from './create-retry.js';
export { PROGRESS_BUCKET, ProgressBucket } from './progress-bucket.js';
export type { Custody } from './custody.js';
export { EXCERPT_BYTES, REDELIVERY_DEFAULTS, deadLetterOf, publishDeadLetter } from './dead-letters.js';
export { retryDelayMs, type DeadLetterDetails } from './dead-letters.js';
export { DefinitionRegistry } from './definitions.js';
export { InHand, STOP_GRACE_MS } from './in-hand.js';
export { AskAnswer, AskMessage, DeadLetterMessage, GateWaitMessage, InputMessage, OfferAnswer } from './messages.js';
export { ReportAnswer, TaskMessage, TimerMessage, credentials, decodeOrUndefined } from './messages.js';
export { encode, kickBody, type HeldMessage, type OutcomeMessage, type ReleaseMessage } from './messages.js';
export { ApprovalVerdict, ControlMessage, ControlVerdict, SignalMessage, SignalVerdict } from './run-verdicts.js';
export { TriggerVerdict } from './run-verdicts.js';
export { REPORT_RECORDED_HEADER, TAKES_NEXT_HEADER } from './report-headers.js';
export { natsSettings, offersEnabled } from './nats-settings.js';
export {
  DeployRequest,
  DeployVerdict,
  LimitsRequest,
  LimitsVerdict,
  StartRequest,
  StartVerdict,
  UPKEEP_ARCHIVE_MAX,
  UPKEEP_LEFT_MAX,
  UPKEEP_REASON_MAX,
  UPKEEP_PERIODS_MAX,
  UpkeepRequest,
  UpkeepVerdict,
  type UpkeepVerb,
} from './requests.js';
export { parseInbound, personInput, rawOf, safeSubject, type Inbound, type Malformed } from './parse.js';
export { maxOutputBytes, maxReportBytes } from './payload-limits.js';
export { HEARD_ALL_MS, PresenceRegistry, UnservedLog, announcePresence, askPresence } from './presence.js';
export { KvScheduleCursor, SCHEDULES_BUCKET } from './schedule-cursor.js';
export { hasUsers, senderOf } from './sender.js';
export { DEFAULT_TASK_ACK_WAIT_MS, DLQ_DEFAULTS, PULL_EXPIRES_MS, REQUESTS_LIMITS, ensureCluster } from './setup.js';
export { ensureWorkerConsumer, type ClusterSettings } from './setup.js';
export { ANONYMOUS_SENDER, DEFAULT_LEVEL, DEFAULT_QUEUE, DEFINITIONS_BUCKET, ENGINE_CONSUMERS } from './subjects.js';
export { ENGINE_SENDER, LEGACY_TASKS, STREAMS, TASK_STREAM_PREFIX, levelConsumerName } from './subjects.js';
export { noticeLevel, offerGroup, subjects, taskStream, taskSubjectParts, token } from './subjects.js';
export { workerConsumerName, skillKey, splitSkillKey } from './subjects.js';
export { TaskQueues } from './task-queues.js';
export { wireJsonSchemas } from './wire.js';
export { purgeUploads, takeUploads, uploadLargeFields, UPLOADS_LIMITS, UPLOADS_STREAM } from './uploads.js';
