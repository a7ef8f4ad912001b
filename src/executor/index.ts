/**
 * What both executors (in-process `src/local`, NATS `src/cluster`) share at
 * the edge of the deterministic core: the clock, run and attempt ids, loading
 * a run through its snapshot, the one commit loop (`commitWithRetry`) with
 * the append it retries and the catch-up after a lost round (`appendCommit`,
 * `catchUp`), the port the effects are performed through
 * (`EffectPerformer`, `performEffect`), and the commits from outside a run's
 * rounds (`RunCommits`: a start, a retry, a person's input, the admissions
 * they free). Each executor is that loop: an input arrives → the core's step
 * → commit with retry → perform the effects.
 */
export { systemClock, type Clock } from './clock.js';
export { newRunId, randomHex } from './ids.js';
export { loadRun, snapshotOf, snapshotDue, type LoadedRun } from './snapshots.js';

import { installDigest } from '../digest/index.js';
import { nativeDigest } from './native-digest.js';
// Executors run on Node: the core hashes every event, so it gets the native sha256 (same digests).
installDigest(nativeDigest);
export { commitWithRetry, MAX_COMMIT_ROUNDS } from './commit-with-retry.js';
export { appendCommit, catchUp, RunLog, type CaughtUp, type GroupInput, type OpenGroup, type RunLogOptions } from './run-log.js';
export { performEffect, type EffectPerformer } from './perform-effect.js';
export { CALLER_RUN_ID_MAX, CallerRunIdSchema, IdReuseSchema, checkCallerRunId, checkIdReuse, decideStart, generationRunId, reusable, runHead, winnerOf, type RunHead, type StartDecision } from './caller-ids.js';
export { admissionOf, checkPriority, byAdmissionOrder, concurrencyKey, slotsOf, type Admission, type QueuedRun, type Slots } from './admission.js';
export { admitAfterCommit, admitWaiting, decideLimitedStart } from './admission-batch.js';
export { afterCommit } from './after-commit.js';
export { askAttemptGate, judgeAttemptWait, withdrawAttemptWait, recordBreakerOutcomes, setBreaker, BREAKER_NAME, breakerReport, allBreakers, listBreakers, openBreakers, breakersForView, breakerDocName, BREAKERS_DOC, type BreakerReport } from './breaker-gate.js';
export { hasSkills, SKILL_POLL_MS, type SkillCheck } from './skill-gate.js';
export { BreakerStateSchema, phaseAt as breakerPhaseAt, type BreakerState, type BreakerPhase } from './breaker-state.js';
export { askGate, withdrawWait, releaseSlots, gateDocName, gateDocs, gateParts, kickGate, onGateKick, type GateAnswer } from './task-gate.js';
export { decide as decideGate, emptyGateState, GateStateSchema, POLL_MS as GATE_POLL_MS, WAITER_TTL_MS, type GateState, type GateHolder, type GateWaiter } from './gate-state.js';
export { readLimits, limitsForView, writeLimits, LimitsWatch, LIMITS_DOC } from './global-limits.js';
export { childIdTaken, childRunOf, placeChild, shownChildRunId, withChildrenShown, type ChildPlace, type ChildRef, type StartedAs } from './child-owner.js';
export { childOutcome, type ChildOutcome } from './child-outcome.js';
export { AttemptControl } from './attempt-control.js';
export { assertOwnStart, startedByOther, type StartedRun } from './start-owner.js';
export { RunCommits, type RunCommitsOptions, type StartedUnderId } from './run-commits.js';
export { CommitAdmissions } from './commit-admissions.js';
export { recordInput, type RunInput, type InputOutcome } from './run-input.js';
export type { CallerIdOptions, CallerStart } from './caller-start.js';
export type { Begun } from './start-commit.js';
export type { StartOptions, RetryOptions, Loaded, LoadedRunLog } from './start-options.js';
export { cancelChildRun, startChildRun, type ChildPort, type FoundChild } from './child-runs.js';
export { ATTEMPT_KEY, attemptKeyOf, attemptStartSeq, attemptToken, keyedAttemptToken } from './attempt-token.js';
export { AGENT_QUEUES_DOC, agentSkillSets, declareAgentQueue, forFileAgents, readAgentQueueDoc, readAgentQueues, type AgentQueue } from './agent-queues.js';
export { judgeInput, type AgentOutcomeVerdict } from './outside-inputs.js';
export { checkTaskMap, migrateRun, migrateRuns, migrationAnswer, migrationCounts, type MigrationCounts, type MigrationRow, type MigrateOptions } from './migrate.js';
