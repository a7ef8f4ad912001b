/** Definition → XState v5 statechart (JSON config + implementations), and the interpreter the fold runs it with. */

export * from './context.js';
export { iso, isoMs } from './iso-cache.js';
export { instanceKey, instanceToken, instanceFields, instanceState, type InstanceRef } from './instances.js';
export { retryDelayMs } from './backoff.js';
export type { MachineConfig } from './machine.js';
export { isFinal, listOf, type RegionConfig } from './chart-config.js';
export { scopeOf } from './scope.js';
export { isIsoTime } from './wait.js';
export { childRunId, failureRunId, spareChildRunId, MAX_CHILD_DEPTH } from './children.js';
export { decide } from './decision.js';
export { branchOf, forkBranchAt } from './fork-dynamic.js';
export { UnsupportedStatechartError } from './chart.js';
export type { RegionState } from './chart-model.js';
export { valueChunks, type FoldSnapshot } from './fold-snapshot.js';
export { SnapshotMismatchError, type PersistedFold } from './persisted-fold.js';
export {
  TaskTable,
  tableOf,
  taskEntries,
  progressPercent,
  countWithStatus,
  underWayWithStatus,
  type Shape,
} from './task-table.js';
export {
  ITEM_CHUNK,
  itemChunkDerived,
  itemCounts,
  itemsWithStatus,
  someItemIn,
  type ItemCounts,
} from './item-list.js';
export {
  CHUNK as VECTOR_CHUNK,
  chunkDerived,
  keepChunkDerived,
  type Derived,
  type PersistentVector,
} from './persistent-vector.js';
export type { FoldLogic } from './interpreter.js';
export { isHeld, movesWhileHeld, HELD_REASON } from './queued-hold.js';
export { RUN_TIMER_TASK, RUN_TIMEOUT_TIMER_ID, runDeadline, durationText, isRunTimer } from './run-timeout.js';
export { xstateFold, type XStateRunSnapshot } from './xstate-fold.js';
export type { TaskInfo } from './task-plans.js';
export { gatesOf, type GatePart, type TaskGate } from './task-gates.js';
export { compile, createInterpreter, machineJson, type CompiledWorkflow } from './compile.js';
export { carryWorkflow, workflowOf } from './workflow.js';
