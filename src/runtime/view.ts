/** The run as people and scripts see it (`status --json`): derived from a snapshot, never stored. */
import { instanceFields, instanceKey, type ItemState, type RunError, type TaskState, type TimerState } from '../compiler/index.js';
import type { WorkflowStatus } from '../events/index.js';
import { runStatus, type RunSnapshot } from './fold.js';

/** A task as shown: its state without the fold's internals (decision details, who decided). */
export type TaskView = Pick<TaskState, 'status' | 'attempts' | 'startedAt' | 'completedAt' | 'output' | 'error'> & {
  /** A MAP's items once it is mapping, in item order (shown as `task[i]`). */
  items?: ItemView[];
};
/** A MAP item as shown: its key (`task[i]`) and its attempts' state, without its value (in the MAP's input). */
export type ItemView = { instance: string } & Pick<ItemState, 'status' | 'attempts' | 'startedAt' | 'completedAt' | 'output' | 'error'>;

export interface RunView {
  runId: string;
  workflowId: string;
  version: number;
  status: WorkflowStatus;
  startedAt: string;
  completedAt: string | null;
  input: Record<string, unknown>;
  tasks: Record<string, TaskView>;
  output: unknown;
  error: RunError | null;
  /** Durable timers still armed (backoffs, timeouts, approval deadlines). */
  timers: TimerState[];
  /** Sequence of the last event folded. */
  seq: number;
}

export function runView(snapshot: RunSnapshot, seq: number): RunView {
  const ctx = snapshot.context;
  const tasks: Record<string, TaskView> = {};
  for (const [id, t] of Object.entries(ctx.tasks)) {
    tasks[id] = { status: t.status, attempts: t.attempts, startedAt: t.startedAt, completedAt: t.completedAt, output: t.output, error: t.error };
    if (t.items) {
      tasks[id]!.items = t.items.map((it, i) => ({ instance: instanceKey({ task: id, ...instanceFields({ iteration: t.iteration, item: i }) }), status: it.status, attempts: it.attempts, startedAt: it.startedAt, completedAt: it.completedAt, output: it.output, error: it.error }));
    }
  }
  return {
    runId: ctx.runId, workflowId: ctx.workflowId, version: ctx.version, status: runStatus(snapshot),
    startedAt: ctx.startedAt, completedAt: ctx.completedAt, input: ctx.input, tasks,
    output: ctx.output, error: ctx.error,
    timers: Object.values(ctx.timers).sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
    seq,
  };
}
