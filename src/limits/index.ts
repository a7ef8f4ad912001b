/**
 * What holds runs and attempts back, and frees them: admission under a workflow's concurrency limit and
 * priority (admission*.ts, commit-admissions.ts), a task's or handler's gate (task-gate.ts, gate-state.ts),
 * circuit breakers (breaker-*.ts), skills (skill-gate.ts), the limits file (global-limits.ts), and what
 * a commit frees (after-commit.ts: slots, breaker outcomes). The executors ask it; it commits through
 * the executor's commit primitives (executor/commit.ts).
 */
export { checkPriority, byAdmissionOrder, concurrencyKey, admissionOf, type Admission } from './admission.js';
export { admitWaiting, decideLimitedStart } from './admission-batch.js';
export { afterCommit } from './after-commit.js';
export {
  askAttemptGate,
  recordBreakerOutcomes,
  setBreaker,
  BREAKER_NAME,
  breakerReport,
  breakersForView,
  allBreakers,
  listBreakers,
  type BreakerReport,
} from './breaker-gate.js';
export { askWait, GateWaits, sayAgain } from './gate-waits.js';
export { hasSkills, type SkillCheck } from './skill-gate.js';
export { BreakerStateSchema } from './breaker-state.js';
export { askGate, releaseSlots, withdrawWait, gateDocName } from './task-gate.js';
export { decide as decideGate, emptyGateState, GateStateSchema, WAITER_TTL_MS, type GateState } from './gate-state.js';
export { readLimits, limitsForView, writeLimits, LimitsWatch } from './global-limits.js';
export { CommitAdmissions } from './commit-admissions.js';
