/**
 * Definition → XState v5 machine. The config is plain JSON (written to
 * machines/<id>.json, loadable in Stately's visualiser); the implementations
 * are closures over the definition. Top level: running (parallel, one region
 * per task) → completed | failed | cancelled.
 */
import { assign, setup, type AnyStateMachine } from 'xstate';
import type { Definition } from '../definition/index.js';
import type { MachineInput, RunContext, TaskState } from './context.js';
import { implementationsFor, type Implementations } from './implementations.js';
import { regionFor } from './regions.js';

export type MachineConfig = Record<string, unknown>;

export function machineConfig(def: Definition): MachineConfig {
  const regions = Object.fromEntries(def.tasks.map((t) => [t.id, regionFor(t)]));
  return {
    id: def.id,
    initial: 'running',
    states: {
      running: {
        type: 'parallel',
        states: regions,
        // A failed task (not optional) fails the run at once; in-flight siblings are cancelled.
        always: { guard: 'anyFatalFailure', target: 'failed' },
        onDone: [{ guard: 'anyFatalFailure', target: 'failed' }, { target: 'completed' }],
        on: { 'run.cancel': { target: 'cancelled' } },
      },
      completed: { type: 'final', entry: { type: 'finish', params: { status: 'COMPLETED' } } },
      failed: { type: 'final', entry: { type: 'finish', params: { status: 'FAILED' } } },
      cancelled: { type: 'final', entry: { type: 'finish', params: { status: 'CANCELLED' } } },
    },
  };
}

export function initialContext(def: Definition, input: MachineInput): RunContext {
  const startedAt = new Date(input.time).toISOString();
  const tasks: Record<string, TaskState> = {};
  for (const t of def.tasks) {
    tasks[t.id] = { status: 'PENDING', attempts: 0, startedAt: null, completedAt: null, output: null, error: null };
  }
  return {
    runId: input.runId, workflowId: input.workflowId, version: input.version, input: input.input,
    startedAt, completedAt: null, updatedAt: startedAt, tasks, timers: {}, error: null, output: null,
  };
}

export function buildMachine(def: Definition, config: MachineConfig = machineConfig(def), implementations: Implementations = implementationsFor(def)): AnyStateMachine {
  const { guards, actions } = implementations;
  // Each action returns the context it changes: for XState that is an assign.
  const assigns = Object.fromEntries(Object.entries(actions).map(([name, fn]) => [name, assign(fn as never)]));
  return setup({
    types: {} as { context: RunContext; input: MachineInput },
    // The implementations are typed loosely on purpose: params differ per action and come from JSON.
    guards: guards as never,
    actions: assigns as never,
  }).createMachine({
    ...(config as object),
    context: ({ input }: { input: MachineInput }) => initialContext(def, input),
  } as never) as unknown as AnyStateMachine;
}
