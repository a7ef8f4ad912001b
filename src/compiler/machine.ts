/**
 * Definition → XState v5 machine. The config is plain JSON (written to machines/<id>.json, loadable in Stately's
 * visualiser); the implementations are closures over the definition. Top level: running (parallel, one region per task)
 * → completed | failed | cancelled.
 */
import {
  assign,
  setup,
  type AnyStateMachine,
  type EventObject,
  type MachineConfig as XStateMachineConfig,
  type ParameterizedObject,
} from 'xstate';
import { iteratorMap, loopOwners, type Definition } from '../definition/index.js';
import type { ChartConfig, SubsetConfig } from './chart-config.js';
import type { MachineInput, RunContext, TaskState } from './context.js';
import { implementationsFor, type Implementations } from './implementations.js';
import { regionFor } from './regions.js';
import { RUN_TIMEOUT_EVENT, runTimer } from './run-timeout.js';
import { initialSearch } from './search.js';
import { pendingTasks, TABLE_FROM_TASKS, type TableMaker } from './task-table.js';

/** The machine config: the chart as the compiler builds it (see chart-config.ts). */
export type MachineConfig = ChartConfig;

/** The chart of a definition, built once per compile. */
export function machineConfig(def: Definition): MachineConfig {
  const loops = loopOwners(def);
  const iterators = iteratorMap(def.tasks);
  const regions = Object.fromEntries(def.tasks.map((t) => [t.id, regionFor(t, loops.get(t.id), iterators)]));
  // A TERMINATE task that ran ends the run with its status, before a failure elsewhere could (only where there is one: other charts keep their JSON).
  const terminates = def.tasks.some((t) => t.type === 'TERMINATE')
    ? ([
        { guard: 'terminatedCompleted', target: 'completed' },
        { guard: 'terminatedFailed', target: 'failed' },
      ] as const)
    : [];
  return {
    id: def.id,
    initial: 'running',
    states: {
      running: {
        type: 'parallel',
        states: regions,
        // A failed task (not optional) fails the run at once; in-flight siblings are cancelled.
        always:
          terminates.length > 0
            ? [...terminates, { guard: 'anyFatalFailure', target: 'failed' }]
            : { guard: 'anyFatalFailure', target: 'failed' },
        onDone: [{ guard: 'anyFatalFailure', target: 'failed' }, { target: 'completed' }],
        // run.fail: the engine could not fold an input (see RunFailedData); the run fails with that error. run.pause /
        // run.resume: targetless (the value does not change); they set and clear context.paused.
        on: {
          'run.cancel': { target: 'cancelled' },
          'run.fail': { target: 'failed' },
          'run.pause': { guard: 'notPaused', actions: { type: 'pauseRun' } },
          'run.resume': { guard: 'isPaused', actions: { type: 'resumeRun' } },
          // The run timeout (run-timeout.ts), only where the workflow has one: other charts keep their JSON.
          ...(def.timeoutMs !== undefined
            ? {
                [RUN_TIMEOUT_EVENT]: {
                  guard: 'runTimeoutDue',
                  target: def.timeoutPolicy === 'cancel' ? 'cancelled' : 'failed',
                },
              }
            : {}),
        },
      },
      completed: { type: 'final', entry: { type: 'finish', params: { status: 'COMPLETED' } } },
      failed: { type: 'final', entry: { type: 'finish', params: { status: 'FAILED' } } },
      cancelled: { type: 'final', entry: { type: 'finish', params: { status: 'CANCELLED' } } },
    },
  };
}

const pending = (): TaskState => ({
  status: 'PENDING',
  attempts: 0,
  startedAt: null,
  completedAt: null,
  output: null,
  error: null,
});

/**
 * The context a run starts with. `maker`: the fold's (the interpreter's), with which a long run's tasks start as a
 * table (task-table.ts), as they would be from their first change on; without it (XState's machine), a plain record.
 */
export function initialContext(def: Definition, input: MachineInput, maker: TableMaker | null = null): RunContext {
  const startedAt = new Date(input.time).toISOString();
  const timer = runTimer(def, input.time);
  let tasks: Record<string, TaskState>;
  if (maker !== null && def.tasks.length > TABLE_FROM_TASKS) {
    tasks = pendingTasks(
      def.tasks.map((t) => t.id),
      pending,
      maker,
    );
  } else {
    tasks = {};
    for (const t of def.tasks) tasks[t.id] = pending();
  }
  const context: RunContext = {
    runId: input.runId,
    workflowId: input.workflowId,
    version: input.version,
    input: input.input,
    startedAt,
    completedAt: null,
    updatedAt: startedAt,
    tasks,
    timers: timer ? { [timer.id]: timer } : {},
    error: null,
    output: null,
    ...(input.reuse ? { reuse: input.reuse } : {}),
    ...(input.decided ? { decided: input.decided } : {}),
    ...(input.stateHashVersion !== undefined ? { stateHashVersion: input.stateHashVersion } : {}),
    ...(input.priority !== undefined ? { priority: input.priority } : {}),
  };
  const search = initialSearch(def, context);
  if (search !== undefined) context.search = search;
  return context;
}

export function buildMachine(
  def: Definition,
  config: SubsetConfig = machineConfig(def),
  implementations: Implementations = implementationsFor(def),
): AnyStateMachine {
  const { guards, actions } = implementations;
  // The chart is an XState machine config: checked here by XState's own type.
  const xstateConfig: XStateMachineConfig<
    RunContext,
    EventObject,
    never,
    ParameterizedObject,
    ParameterizedObject,
    string,
    string,
    MachineInput
  > = {
    ...config,
    context: ({ input }: { input: MachineInput }) => initialContext(def, input),
  };
  // Each action returns the context it changes: for XState that is an assign.
  const assigns = Object.fromEntries(Object.entries(actions).map(([name, fn]) => [name, assign(fn as never)]));
  return setup({
    types: {} as { context: RunContext; input: MachineInput },
    // The implementations are typed loosely on purpose: params differ per action and come from JSON.
    guards: guards as never,
    actions: assigns as never,
  }).createMachine(xstateConfig as never) as unknown as AnyStateMachine;
}
