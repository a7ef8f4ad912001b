/** Definition → XState v5 statechart (JSON config + implementations). */
import type { AnyStateMachine } from 'xstate';
import type { Definition } from '../definition/index.js';
import { buildMachine, machineConfig, type MachineConfig } from './machine.js';

export * from './context.js';
export { retryDelayMs } from './backoff.js';
export type { MachineConfig } from './machine.js';
export { scopeOf } from './scope.js';
export { decide, type DecisionResult } from './decision.js';

export interface CompiledWorkflow {
  definition: Definition;
  config: MachineConfig;
  machine: AnyStateMachine;
}

export function compile(definition: Definition): CompiledWorkflow {
  const config = machineConfig(definition);
  return { definition, config, machine: buildMachine(definition, config) };
}

/** The text written to machines/<workflow-id>.json: stable key order, trailing newline, so freshness checks can compare bytes. */
export function machineJson(definition: Definition): string {
  return `${JSON.stringify(machineConfig(definition), null, 2)}\n`;
}
