/**
 * Guard and action implementations for a compiled definition, assembled from guards.ts (whether a transition may be
 * taken) and actions.ts (what it does to the context). Every one is a pure function of (context, event, params): no
 * clock, no randomness, no I/O.
 */
import type { Definition } from '../definition/index.js';
import type { RunContext } from './context.js';
import { actionsFor, actionWritesFor } from './actions.js';
import { guardReadsFor, guardsFor } from './guards.js';
import type { ImplementationArgs } from './implementation-args.js';

export type { ImplementationArgs, ImplementationEvent } from './implementation-args.js';
/** Params come from the JSON config, so a caller that looks an implementation up by name cannot know their type. */
export type GuardImplementation = (args: ImplementationArgs, params: never) => boolean;
export type ActionImplementation = (args: ImplementationArgs, params: never) => Partial<RunContext>;

/** Which context tasks an implementation reads or writes, from its params (see BoundGuard.reads, BoundAction.writes in chart.ts). */
export type TaskFootprint = (params: never) => readonly string[];

export interface Implementations {
  guards: Readonly<Record<string, GuardImplementation>>;
  actions: Readonly<Record<string, ActionImplementation>>;
  /** Guards that read only these tasks of the context, and not the event: what lets the interpreter skip re-checking them. */
  guardReads?: Readonly<Record<string, TaskFootprint>>;
  /** Actions that change only these tasks of the context (and timers, times: nothing a declared guard reads). */
  actionWrites?: Readonly<Record<string, TaskFootprint>>;
}

export function implementationsFor(def: Definition): Implementations {
  return {
    guards: guardsFor(def),
    actions: actionsFor(def),
    guardReads: guardReadsFor(def),
    actionWrites: actionWritesFor(),
  };
}
