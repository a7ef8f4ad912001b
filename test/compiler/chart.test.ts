/** The interpreter refuses, when it is built, any machine config outside the subset it implements: the fold can never silently differ from XState. */
import { describe, expect, it } from 'vitest';
import {
  createInterpreter,
  machineJson,
  UnsupportedStatechartError,
  type MachineConfig,
} from '../../src/compiler/index.js';
import { def } from '../helpers/engine.js';

const definition = def(`
workflow:
  id: subset
  name: Subset
  version: 1
  tasks:
    - { id: work, type: SIMPLE, timeout: 30s, retry_policy: { max_attempts: 2 } }
    - { id: sign, type: HUMAN, depends_on: [work], timeout: 1h }
`);

type Json = Record<string, any>;
/** A fresh copy of the compiled config, changed by `edit`. */
function edited(edit: (config: Json) => void): MachineConfig {
  const config = JSON.parse(machineJson(definition)) as Json;
  edit(config);
  // Deliberately outside the type: what a cast, or a compiler change leaving the subset, would hand the interpreter.
  return config as unknown as MachineConfig;
}
const region = (c: Json, task = 'work'): Json => c.states.running.states[task];

describe('the interpreter refuses configs outside its subset', () => {
  it('accepts what the compiler writes', () => {
    expect(() => createInterpreter(definition)).not.toThrow();
  });

  it.each<[string, (c: Json) => void, RegExp]>([
    [
      'a delayed transition',
      (c) => {
        region(c).states.running.after = { 1000: { target: 'done' } };
      },
      /states\.running\.states\.work\.states\.running\.after: "after" is not supported/,
    ],
    [
      'a wildcard event',
      (c) => {
        region(c).states.running.on['task.*'] = { target: 'done' };
      },
      /event descriptor "task\.\*" is not supported/,
    ],
    [
      'an xstate.* event',
      (c) => {
        region(c).states.running.on['xstate.done.state.x'] = { target: 'done' };
      },
      /event descriptor "xstate\.done\.state\.x"/,
    ],
    [
      'entry actions on a region state',
      (c) => {
        region(c).states.scheduled.entry = { type: 'schedule', params: { task: 'work' } };
      },
      /states\.scheduled\.entry: "entry" is not supported/,
    ],
    [
      'exit actions on the parallel state',
      (c) => {
        c.states.running.exit = { type: 'finish' };
      },
      /states\.running\.exit/,
    ],
    [
      'a history state',
      (c) => {
        region(c).states.back = { type: 'history' };
      },
      /states\.back\.type: "type" is not supported/,
    ],
    [
      'a nested compound state',
      (c) => {
        region(c).states.running.states = { a: {} };
      },
      /states\.running\.states: "states" is not supported/,
    ],
    [
      'an invoked actor',
      (c) => {
        region(c).states.running.invoke = { src: 'worker' };
      },
      /"invoke" is not supported/,
    ],
    [
      'a re-entering transition',
      (c) => {
        region(c).states.scheduled.on['task.started.work'].reenter = true;
      },
      /"reenter" is not supported/,
    ],
    [
      'a targetless transition',
      (c) => {
        delete region(c).states.scheduled.on['task.started.work'].target;
      },
      /task\.started\.work\.target: expected a non-empty string/,
    ],
    [
      'a target by id',
      (c) => {
        region(c).states.scheduled.on['task.started.work'].target = '#subset.failed';
      },
      /"#subset\.failed" is not a state of region work/,
    ],
    [
      'a target string shorthand',
      (c) => {
        region(c).states.scheduled.on['task.started.work'] = 'running';
      },
      /task\.started\.work: expected an object/,
    ],
    [
      'a guard without an implementation',
      (c) => {
        region(c).states.scheduled.on['task.started.work'].guard.type = 'isLucky';
      },
      /guard "isLucky" has no implementation/,
    ],
    [
      'an action without an implementation',
      (c) => {
        c.states.completed.entry = { type: 'celebrate' };
      },
      /states\.completed\.entry\[0\]: action "celebrate" has no implementation/,
    ],
    [
      'a region starting in a final state',
      (c) => {
        region(c).initial = 'done';
      },
      /a region cannot start in a final state/,
    ],
    [
      'a region with its own transitions',
      (c) => {
        region(c).onDone = { target: 'done' };
      },
      /work\.onDone: "onDone" is not supported/,
    ],
    [
      'a top-level state that is not final',
      (c) => {
        c.states.paused = {};
      },
      /states\.paused\.type: every top-level state but the initial one must be final/,
    ],
    [
      'an initial state that is not parallel',
      (c) => {
        delete c.states.running.type;
      },
      /states\.running\.type: the initial state must be parallel/,
    ],
    [
      'an exit to a state that is not a top-level final one',
      (c) => {
        c.states.running.on['run.cancel'].target = 'running';
      },
      /"running" is not a top-level final state/,
    ],
    [
      'state ids',
      (c) => {
        region(c).id = 'custom';
      },
      /work\.id: "id" is not supported/,
    ],
    [
      'machine-level transitions',
      (c) => {
        c.on = { 'run.cancel': { target: '.cancelled' } };
      },
      /machine\.on: "on" is not supported/,
    ],
  ])('%s', (_name, edit, message) => {
    const attempt = () => createInterpreter(definition, edited(edit));
    expect(attempt).toThrow(UnsupportedStatechartError);
    expect(attempt).toThrow(message);
  });
});
