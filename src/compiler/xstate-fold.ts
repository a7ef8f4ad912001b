/**
 * The fold through XState itself: the reference the interpreter is tested against (test/compiler/interpreter.test.ts),
 * and what the fold ran before it.
 */
import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import type { RunContext } from './context.js';
import type { FoldLogic } from './interpreter.js';

/** A machine snapshot whose context is a RunContext (XState's own generics are erased by the JSON config). */
export type XStateRunSnapshot = Omit<AnyMachineSnapshot, 'context'> & { context: RunContext };

/**
 * XState's `initialTransition()` / `transition()` helpers build a throw-away actor per call, and an actor eagerly
 * computes the machine's initial state: that doubled the cost of every step. This scope is built once and, like the one
 * those helpers build, executes nothing: actions are dropped (the driver derives effects from state) and our machines
 * spawn no children.
 */
function inertScope(machine: AnyStateMachine): AnyActorScope {
  const self = createActor(machine, { input: { runId: 'inert', workflowId: 'inert', version: 0, input: {}, time: 0 } });
  return {
    self,
    id: '',
    sessionId: '',
    system: self.system,
    defer: () => {},
    logger: () => {},
    stopChild: () => {},
    emit: () => {},
    actionExecutor: () => {},
  } as unknown as AnyActorScope;
}

export function xstateFold(machine: AnyStateMachine): FoldLogic<XStateRunSnapshot> {
  const scope = inertScope(machine);
  return {
    initial: (input) => machine.getInitialSnapshot(scope, input) as XStateRunSnapshot,
    transition: (snapshot, event) =>
      machine.transition(snapshot as AnyMachineSnapshot, event, scope) as XStateRunSnapshot,
  };
}
