/**
 * Guard and action implementations for a compiled definition, assembled from
 * guards.ts (whether a transition may be taken) and actions.ts (what it does
 * to the context). Every one is a pure function of (context, event, params):
 * no clock, no randomness, no I/O.
 */
import type { Definition } from '../definition/index.js';
import type { RunContext } from './context.js';
import { actionsFor } from './actions.js';
import { guardsFor } from './guards.js';
import type { ImplementationArgs } from './implementation-args.js';

export type { ImplementationArgs, ImplementationEvent } from './implementation-args.js';
/** Params come from the JSON config, so a caller that looks an implementation up by name cannot know their type. */
export type GuardImplementation = (args: ImplementationArgs, params: never) => boolean;
export type ActionImplementation = (args: ImplementationArgs, params: never) => Partial<RunContext>;

export interface Implementations {
  guards: Readonly<Record<string, GuardImplementation>>;
  actions: Readonly<Record<string, ActionImplementation>>;
}

export function implementationsFor(def: Definition): Implementations {
  return { guards: guardsFor(def), actions: actionsFor(def) };
}
