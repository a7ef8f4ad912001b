/**
 * What both executors (in-process `src/local`, NATS `src/cluster`) share at the edge of the deterministic core: the
 * clock, run and attempt ids, loading a run through its snapshot, the one commit loop (`commitWithRetry`) with the
 * append it retries and the catch-up after a lost round (`appendCommit`, `catchUp`), the port the effects are performed
 * through (`EffectPerformer`, `performEffect`), and the commits from outside a run's rounds (`RunCommits`: a start, a
 * retry, a person's input, the admissions they free). Each executor is that loop: an input arrives → the core's step →
 * commit with retry → perform the effects.
 */
export { systemClock, type Clock } from './clock.js';
export { newRunId, randomHex } from './ids.js';
export { loadRun, snapshotOf, snapshotDue, type LoadedRun } from './snapshots.js';
export { useNativeDigest } from './native-digest.js';
export { surelyOver } from './json-chunks.js';
export { collectPayloads, PAYLOAD_GC_GRACE_MS, PAYLOAD_GC_LIST_MAX, type PayloadGcReport } from './payload-gc.js';
export { checkPayloads, refsIn, type HeldRef, type PayloadCheck } from './payload-check.js';
export {
  evaluateLoaded,
  foldLoaded,
  externalize,
  externalizeFields,
  forgetLoadedPayloads,
  loadPayload,
  readBlob,
  resolvePayloads,
  usePayloads,
} from './payloads.js';
export { commitWithRetry, MAX_COMMIT_ROUNDS } from './commit-with-retry.js';
export { catchUp, RunLog } from './run-log.js';
export { performEffect, type EffectPerformer } from './perform-effect.js';
export { CallerRunIdSchema, IdReuseSchema, checkCallerRunId, checkIdReuse } from './caller-ids.js';
export { childRunOf, placeChild, shownChildRunId, withChildrenShown, type ChildRef } from './child-owner.js';
export { childOutcome, type ChildOutcome } from './child-outcome.js';
export { AttemptControl } from './attempt-control.js';
export {
  outcomeEvent,
  runHandler,
  toJson,
  type HandlerAttempt,
  type HandlerOutcome,
  type HandlerRunners,
} from './run-handler.js';
export { assertOwnStart } from './start-owner.js';
export { RunCommits, type StartedUnderId } from './run-commits.js';
export { keylessParting, keylessView, keylessReplay, unjudgedFrom } from './keyless-view.js';
export type { CallerIdOptions } from './caller-start.js';
export type { StartOptions, RetryOptions, Loaded, LoadedRunLog } from './start-options.js';
export { cancelChildRun, detachedEffect, detachedOutput, startChildRun } from './child-runs.js';
export {
  ATTEMPT_KEY,
  attemptKeyFor,
  attemptKeyIn,
  attemptKeyOf,
  attemptStartSeq,
  attemptToken,
  keyedAttemptToken,
} from './attempt-token.js';
export { agentSkillSets, agentTaskBody, declareAgentQueue, forFileAgents, readAgentQueues } from './agent-queues.js';
export {
  judgeInput,
  recordInput,
  type InputOutcome,
  type RunInput,
} from './outside-inputs.js';
export {
  checkTaskMap,
  migrateRun,
  migrateRuns,
  migrationAnswer,
  migrationCounts,
  type MigrationRow,
} from './migrate.js';
