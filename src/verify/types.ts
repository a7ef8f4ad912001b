/** What `verifyDefinition` answers: each property, whether it holds on every explored path, and a shortest counter-example. */
import type { Expectation } from '../coverage/index.js';

export type BuiltInProperty =
  | 'no-stuck-state'
  | 'no-loop-without-exit'
  | 'task-can-run'
  | 'wait-times-out'
  | 'decision-covered';
export type DeclaredProperty = 'at_most_once' | 'always_before' | 'never_together' | 'eventually';

export interface CounterExample {
  /** The path in words, in order: outcomes, decisions, approvals and signals (`scan_files fails (attempt 1)`). */
  steps: string[];
  /** The same path as an expectation `ledgerflow test` runs; its `expect` is what the path leads to. */
  expectation: Expectation;
}

export interface PropertyResult {
  property: BuiltInProperty | DeclaredProperty;
  /** The task it is about (the first of a never_together group; absent for no-stuck-state). */
  task?: string;
  /** never_together: the group; always_before: the tasks that must complete first. */
  tasks?: string[];
  holds: boolean;
  message: string;
  counterExample?: CounterExample;
}

export interface VerifyBound {
  /** Most model states explored (`--max-states`). */
  maxStates: number;
  /** Most iterations of a DO_WHILE explored. */
  loopIterations: number;
  /** Items a MAP runs over on an explored path. */
  mapItems: number;
  /** Paths of up to this many steps were all explored (every path, when `bounded` is false). */
  pathsUpTo: number;
  /** Which bound cut exploration short, if any. */
  reached: ('states' | 'loop')[];
}

export interface VerifyReport {
  workflowId: string;
  /** Model states explored. */
  states: number;
  /** A bound was reached: the results hold for the paths explored, not beyond. */
  bounded: boolean;
  bound: VerifyBound;
  properties: PropertyResult[];
}

export interface VerifyOptions {
  maxStates?: number;
  loopBound?: number;
}

export const DEFAULT_MAX_STATES = 20_000;
export const DEFAULT_LOOP_BOUND = 5;
