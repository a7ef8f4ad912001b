/** Definition → XState v5 statechart (JSON config + implementations), and the interpreter the fold runs it with. */
import type { AnyStateMachine } from 'xstate';
import type { Definition } from '../definition/index.js';
import { readChart } from './chart.js';
import { implementationsFor } from './implementations.js';
import { Interpreter } from './interpreter.js';
import { buildMachine, initialContext, machineConfig, type MachineConfig } from './machine.js';

export * from './context.js';
export { retryDelayMs } from './backoff.js';
export type { MachineConfig } from './machine.js';
export { scopeOf } from './scope.js';
export { decide, type DecisionResult } from './decision.js';
export { UnsupportedStatechartError } from './chart.js';
export { Interpreter, type FoldLogic, type FoldSnapshot, type StateValue } from './interpreter.js';
export { xstateFold, type XStateRunSnapshot } from './xstate-fold.js';

export interface CompiledWorkflow {
  readonly definition: Definition;
  readonly config: MachineConfig;
  /** The config as an XState machine: what the fold runs, for now, and the reference the interpreter is tested against. */
  readonly machine: AnyStateMachine;
  /** The same config run by the fold's own interpreter. */
  readonly interpreter: Interpreter;
}

export function compile(definition: Definition): CompiledWorkflow {
  const config = machineConfig(definition);
  const implementations = implementationsFor(definition);
  return {
    definition, config,
    machine: buildMachine(definition, config, implementations),
    interpreter: createInterpreter(definition, config, implementations),
  };
}

/** The interpreter for a definition's machine config; throws UnsupportedStatechartError if the config leaves the subset it implements. */
export function createInterpreter(definition: Definition, config: MachineConfig = machineConfig(definition), implementations = implementationsFor(definition)): Interpreter {
  return new Interpreter(readChart(config, implementations), (input) => initialContext(definition, input));
}

/** The text written to machines/<workflow-id>.json: stable key order, trailing newline, so freshness checks can compare bytes. */
export function machineJson(definition: Definition): string {
  return `${JSON.stringify(machineConfig(definition), null, 2)}\n`;
}
