/**
 * What every guard (guards.ts) and action (actions.ts) is given, and the lookups both make: the task's definition and
 * its state in the context.
 */
import type { Definition, TaskDef } from '../definition/index.js';
import type { TaskError } from '../events/index.js';
import type { RunContext, TaskState, TaskStatus } from './context.js';

/** Params in the machine config: the task a guard or action is about, and a status some actions set. */
export type TaskParams = { task: string; status?: TaskStatus };

/**
 * The event as the implementations see it: a machine event (which has `time`), xstate.init (which carries it in
 * `input`), or a state's done event (which has neither).
 */
export type ImplementationEvent = {
  type: string;
  time?: number;
  input?: { time: number };
  attempt?: number;
  restart?: number;
  iteration?: number;
  item?: number;
  output?: unknown;
  error?: TaskError;
  by?: string;
  comment?: string;
  reason?: string;
  data?: unknown;
  reused?: { runId: string };
};
export type ImplementationArgs = { context: RunContext; event: ImplementationEvent };

/** A task's definition by id, for a definition's implementations (ids come from the config, so each is there). */
export function taskLookup(def: Definition): (id: string) => TaskDef {
  const byId = new Map<string, TaskDef>(def.tasks.map((t) => [t.id, t]));
  return (id) => byId.get(id)!;
}

export const taskState = (ctx: RunContext, id: string): TaskState => ctx.tasks[id]!;
