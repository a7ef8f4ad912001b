/**
 * `ledgerflow verify`: properties checked on every path of a workflow's statechart (each decision case, success,
 * failure and retry exhaustion, approval and rejection, timeouts; loops and MAPs up to a stated bound), each violation
 * with the shortest path that shows it, in words and as an expectation `ledgerflow test` runs. Pure: no I/O, no clock.
 */
import type { Definition } from '../definition/index.js';
import { continued, toExpectation } from './expectation.js';
import { explore, type Walk } from './explore.js';
import type { Declared } from './monitor.js';
import {
  DEFAULT_LOOP_BOUND,
  DEFAULT_MAX_STATES,
  type CounterExample,
  type PropertyResult,
  type VerifyOptions,
  type VerifyReport,
} from './types.js';
import { pathWords } from './words.js';

export type {
  BuiltInProperty,
  CounterExample,
  DeclaredProperty,
  PropertyResult,
  VerifyBound,
  VerifyOptions,
  VerifyReport,
} from './types.js';
export { DEFAULT_LOOP_BOUND, DEFAULT_MAX_STATES } from './types.js';

/** The path to a witness node: in words up to where the property broke, as an expectation to where the run ends. */
function counterExample(def: Definition, walk: Walk, id: number, name: string, broken: string): CounterExample {
  const { input, actions, states } = walk.path(id);
  const whole = continued(walk, actions, states);
  return {
    // The path in words, then what it broke (a task that started shows no step of its own).
    steps: [...pathWords(def, actions, states), broken],
    expectation: toExpectation(def, name, input, whole.actions, whole.states),
  };
}

function declaredText(d: Declared): { holds: string; broken: string } {
  switch (d.property) {
    case 'at_most_once':
      return { holds: `${d.task} runs at most once on every path`, broken: `${d.task} runs twice on one path` };
    case 'always_before':
      return {
        holds: `${d.task} runs only after ${d.others.join(', ')} completed`,
        broken: `${d.task} runs before ${d.others.join(', ')} completed`,
      };
    case 'never_together': {
      const group = [d.task, ...d.others].join(', ');
      return { holds: `no two of ${group} run on one path`, broken: `two of ${group} run on one path` };
    }
    case 'eventually':
      return { holds: `${d.task} runs on every path that completes`, broken: `a path completes without ${d.task}` };
  }
}

export function verifyDefinition(def: Definition, opts: VerifyOptions = {}): VerifyReport {
  const maxStates = opts.maxStates ?? DEFAULT_MAX_STATES;
  const loopBound = opts.loopBound ?? DEFAULT_LOOP_BOUND;
  const walk = explore(def, maxStates, loopBound);
  const bounded = walk.reached.length > 0;
  const within = bounded ? ' on the paths explored' : '';
  const results: PropertyResult[] = [];
  const result = (
    r: Omit<PropertyResult, 'holds' | 'counterExample' | 'message'>,
    key: string,
    broken: string,
    holds: string,
  ) => {
    const id = walk.witness.get(key);
    if (id === undefined) {
      results.push({ ...r, holds: true, message: `${holds}${within}` });
      return;
    }
    const name = `verify: ${r.property}${r.task ? ` ${r.task}` : ''}: ${broken}`;
    results.push({ ...r, holds: false, message: broken, counterExample: counterExample(def, walk, id, name, broken) });
  };

  result(
    { property: 'no-stuck-state' },
    'stuck',
    'the run gets stuck: it waits for nothing that can come',
    'no path gets stuck',
  );
  for (const t of def.tasks) {
    if (t.type === 'DO_WHILE') {
      const exits = walk.loopExited.has(t.id);
      const limit = t.maxIterations !== undefined ? `max_iterations (${t.maxIterations})` : `${loopBound} iterations`;
      result(
        { property: 'no-loop-without-exit', task: t.id },
        exits ? '' : `loop:${t.id}`,
        `loop ${t.id} never ends by its loop_condition: it runs to ${limit} on every path`,
        `loop ${t.id} can end by its loop_condition`,
      );
    }
  }
  for (const t of def.tasks) {
    results.push(
      walk.ran.has(t.id)
        ? { property: 'task-can-run', task: t.id, holds: true, message: `${t.id} runs on some path` }
        : {
            property: 'task-can-run',
            task: t.id,
            holds: false,
            message: `${t.id} runs on no path${bounded ? ' explored' : ''}: nothing that can happen schedules it`,
          },
    );
  }
  for (const t of def.tasks) {
    if (t.type !== 'HUMAN' && !(t.type === 'WAIT' && t.event !== undefined)) continue;
    const what = t.type === 'HUMAN' ? 'approval' : `signal ${t.event}`;
    result(
      { property: 'wait-times-out', task: t.id },
      `wait:${t.id}`,
      `${t.id} waits for its ${what} with no timeout: add timeout: (and on_timeout:), or wait_forever: true if that is meant`,
      t.waitForever ? `${t.id} may wait forever (wait_forever: true)` : `${t.id} times out`,
    );
  }
  for (const t of def.tasks) {
    if (t.type !== 'DECISION') continue;
    result(
      { property: 'decision-covered', task: t.id },
      `decision:${t.id}`,
      `${t.id} takes no case for a value its cases do not name (add a default case)`,
      t.defaultNext ? `${t.id} has a default case` : `every value ${t.id} was given is covered by a case`,
    );
  }
  walk.monitors.declared.forEach((d, k) => {
    const text = declaredText(d);
    result(
      { property: d.property, task: d.task, ...(d.others.length ? { tasks: d.others } : {}) },
      `declared:${k}`,
      text.broken,
      text.holds,
    );
  });
  return {
    workflowId: def.id,
    states: walk.states,
    bounded,
    bound: { maxStates, loopIterations: loopBound, mapItems: 2, pathsUpTo: walk.pathsUpTo, reached: walk.reached },
    properties: results,
  };
}
export { propertyPlace, type PropertyPlace } from './where.js';
