/** Definition → XState v5 statechart (JSON config + implementations), and the interpreter the fold runs it with: the compiled part of a workflow value (workflow.ts). */
import type { AnyStateMachine } from 'xstate';
import type { Definition, GlobalLimits } from '../definition/index.js';
import { definitionHash, hasLimits } from '../definition/index.js';
import { readChart } from './chart.js';
import { implementationsFor } from './implementations.js';
import { Interpreter } from './interpreter.js';
import type { TableMaker } from './task-table.js';
import { buildMachine, initialContext, machineConfig, type MachineConfig } from './machine.js';
import { planTasks, type TaskPlan } from './task-plans.js';
import { gatesOf, type TaskGate } from './task-gates.js';

/** A workflow value (workflow.ts): a definition and what it implies, each part worked out once, most on first use. */
export interface CompiledWorkflow {
  readonly definition: Definition;
  /** Its definition hash (sha256 of its canonical JSON): what every run.started records. */
  readonly hash: string;
  /** `JSON.stringify(definition)`: what a store writes for every run.started of it. Made on first use. */
  readonly json: string;
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
   * The limits file's limits (per queue and handler), when an executor bound them (`bound`): which tasks wait for a
   * gate. Not part of the definition: the fold never reads it, only the step's choice of what starts.
   */
  readonly limits?: GlobalLimits;
  /** The value unbound from any limits: itself unless it is a bound copy. */
  readonly base: CompiledWorkflow;
  /**
   * The base value under the limits file's `limits` (per queue and handler): the same chart and plans, with gates of
   * its own (worked out on first use), so the step holds the attempts of the tasks those limits name. No limits, or
   * empty ones: the base itself. One copy per limits object, kept by the base, so a run's steps share one.
   */
  bound(limits: GlobalLimits | undefined): CompiledWorkflow;
}

/**
 * Compiles `definition` afresh. `hash`: its definition hash when the caller has it. Executors reach a definition's
 * value through workflowOf, which compiles a definition once.
 */
export function compile(definition: Definition, hash?: string): CompiledWorkflow {
  const config = machineConfig(definition);
  const implementations = implementationsFor(definition);
  let json: string | undefined;
  let machine: AnyStateMachine | undefined;
  let taskPlans: ReadonlyMap<string, TaskPlan> | undefined;
  let gates: ReadonlyMap<string, TaskGate> | undefined;
  const copies = new WeakMap<GlobalLimits, CompiledWorkflow>();
  const base: CompiledWorkflow = {
    definition,
    config,
    // A bound copy inherits it (and `bound`): the value it was bound from.
    get base() {
      return base;
    },
    // A start needs it at once; a replay or a status that reads a recorded one never asks.
    get hash() {
      hash ??= definitionHash(definition);
      return hash;
    },
    get json() {
      json ??= JSON.stringify(definition);
      return json;
    },
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
    bound(limits) {
      if (!limits || !hasLimits(limits)) return base;
      let copy = copies.get(limits);
      if (!copy) copies.set(limits, (copy = boundCopy(base, limits)));
      return copy;
    },
  };
  return base;
}

/** `base` under `limits`: everything of it but the limits and the gates they imply. */
function boundCopy(base: CompiledWorkflow, limits: GlobalLimits): CompiledWorkflow {
  let gates: ReadonlyMap<string, TaskGate> | undefined;
  return Object.create(base, {
    limits: { value: limits, enumerable: true },
    gates: { get: () => (gates ??= gatesOf(base.definition, limits)), enumerable: true },
  }) as CompiledWorkflow;
}

/** The interpreter for a definition's machine config; throws UnsupportedStatechartError if the config leaves the subset it implements. */
export function createInterpreter(
  definition: Definition,
  config: MachineConfig = machineConfig(definition),
  implementations = implementationsFor(definition),
): Interpreter {
  // A long run's tasks start as a table, of the shape this definition's last run had.
  const maker: TableMaker = { shape: null };
  return new Interpreter(readChart(config, implementations), (input) => initialContext(definition, input, maker));
}

/** The text written to machines/<workflow-id>.json: stable key order, trailing newline, so freshness checks can compare bytes. */
export function machineJson(definition: Definition): string {
  return `${JSON.stringify(machineConfig(definition), null, 2)}\n`;
}
