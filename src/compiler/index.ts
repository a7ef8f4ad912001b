/** Definition → XState v5 statechart (JSON config + implementations), and the interpreter the fold runs it with. */
import type { AnyStateMachine } from 'xstate';
import type { Definition, GlobalLimits } from '../definition/index.js';
import { readChart } from './chart.js';
import { implementationsFor } from './implementations.js';
import { Interpreter } from './interpreter.js';
import type { TableMaker } from './task-table.js';
import { buildMachine, initialContext, machineConfig, type MachineConfig } from './machine.js';
import { planTasks, type TaskPlan } from './task-plans.js';
import { gatesOf, type TaskGate } from './task-gates.js';

export * from './context.js';
export { iso, isoMs } from './iso-cache.js';
export { instanceKey, instanceToken, instanceFields, instanceState, type InstanceRef, type InstanceState } from './instances.js';
export { retryDelayMs } from './backoff.js';
export type { MachineConfig } from './machine.js';
export { isFinal, listOf, type ChartConfig, type RegionConfig, type SubsetConfig, type GuardName, type ActionName } from './chart-config.js';
export { scopeOf } from './scope.js';
export { isIsoTime, waitUntil } from './wait.js';
export { childRunId, failureRunId, emitEventId, MAX_CHILD_DEPTH } from './children.js';
export { decide, type DecisionResult } from './decision.js';
export { UnsupportedStatechartError, type RegionState } from './chart.js';
export { valueChunks, type FoldSnapshot, type StateValue } from './fold-snapshot.js';
export { SnapshotMismatchError, type PersistedFold } from './persisted-fold.js';
export { TaskTable, tableOf, taskEntries, countWithStatus, underWayWithStatus, type Shape } from './task-table.js';
export { CHUNK as VECTOR_CHUNK, chunkDerived, keepChunkDerived, type Derived, type PersistentVector } from './persistent-vector.js';
export { Interpreter, type FoldLogic } from './interpreter.js';
export { isHeld, movesWhileHeld, HELD_REASON } from './queued-hold.js';
export { RUN_TIMER_TASK, RUN_TIMEOUT_TIMER_ID, RUN_TIMEOUT_CODE, runDeadline, durationText, isRunTimer } from './run-timeout.js';
export { xstateFold, type XStateRunSnapshot } from './xstate-fold.js';
export type { TaskInfo, TaskPlan } from './task-plans.js';
export { gatesOf, type GateOwner, type GatePart, type TaskGate } from './task-gates.js';

export interface CompiledWorkflow {
  readonly definition: Definition;
  /** The chart, built once: rendered as JSON for Stately and XState, and bound for the interpreter. */
  readonly config: MachineConfig;
  /** The config as an XState machine, for XState's own tools, and the reference the interpreter is tested against. Built on first use. */
  readonly machine: AnyStateMachine;
  /** The config run by the fold's own interpreter: what a run's state is folded with. */
  readonly interpreter: Interpreter;
  /** What starting an attempt needs of each task, by task id (task-plans.ts). Worked out on first use. */
  readonly taskPlans: ReadonlyMap<string, TaskPlan>;
  /** Its gated tasks and what each is held to (task-gates.ts), under `limits` when bound to them. Worked out on first use. */
  readonly gates: ReadonlyMap<string, TaskGate>;
  /**
   * The limits file's limits (per queue and handler), when an executor bound
   * them (runtime withLimits): which tasks wait for a gate. Not part of the
   * definition: the fold never reads it, only the step's choice of what starts.
   */
  readonly limits?: GlobalLimits;
}

export function compile(definition: Definition): CompiledWorkflow {
  const config = machineConfig(definition);
  const implementations = implementationsFor(definition);
  let machine: AnyStateMachine | undefined;
  let taskPlans: ReadonlyMap<string, TaskPlan> | undefined;
  let gates: ReadonlyMap<string, TaskGate> | undefined;
  return {
    definition, config,
    interpreter: createInterpreter(definition, config, implementations),
    // Four fifths of compiling, and the fold never needs it.
    get machine() {
      machine ??= buildMachine(definition, config, implementations);
      return machine;
    },
    // Only a run that starts attempts needs them (a replay or a status does not).
    get taskPlans() {
      taskPlans ??= planTasks(definition);
      return taskPlans;
    },
    // Most workflows have none; read at every step that may start an attempt.
    get gates() {
      gates ??= gatesOf(definition);
      return gates;
    },
  };
}

/** The interpreter for a definition's machine config; throws UnsupportedStatechartError if the config leaves the subset it implements. */
export function createInterpreter(definition: Definition, config: MachineConfig = machineConfig(definition), implementations = implementationsFor(definition)): Interpreter {
  // A long run's tasks start as a table, of the shape this definition's last run had.
  const maker: TableMaker = { shape: null };
  return new Interpreter(readChart(config, implementations), (input) => initialContext(definition, input, maker));
}

/** The text written to machines/<workflow-id>.json: stable key order, trailing newline, so freshness checks can compare bytes. */
export function machineJson(definition: Definition): string {
  return `${JSON.stringify(machineConfig(definition), null, 2)}\n`;
}
