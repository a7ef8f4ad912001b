/**
 * XState rules the compiler's configs cannot show, on a hand-made chart of the
 * same subset whose one action writes down, in order, what ran and with
 * which event: eventless transitions run in the order their states were
 * entered (not document order), integer-like keys come first in document
 * order, a region's transition preempts the parallel state's, raised done
 * events become the event later eventless transitions and entry actions see.
 * Every sequence of up to four events, through XState and the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { readChart } from '../../src/compiler/chart.js';
import type { SubsetConfig } from '../../src/compiler/chart-config.js';
import type { ActionImplementation, GuardImplementation, Implementations } from '../../src/compiler/implementations.js';
import { Interpreter } from '../../src/compiler/interpreter.js';
import { buildMachine, initialContext } from '../../src/compiler/machine.js';
import { xstateFold, type MachineEvent, type RunContext } from '../../src/compiler/index.js';
import { prng } from './random-events.js';
import type { Definition } from '../../src/definition/index.js';

const notes = (ctx: RunContext): string[] => (ctx.output as string[] | null) ?? [];
const note = (text: string) => ({ type: 'note', params: { text } });
/** Enabled when one of `any` has been noted and none of `none`. */
const noted = (any: string[], none: string[] = []) => ({ type: 'noted', params: { any, none } });
const OPENED = ['open', 'open by boss'];

type NotedParams = { any: string[]; none: string[] };
const hasNoted = (ctx: RunContext, p: NotedParams) => {
  const texts = new Set(notes(ctx).map((n) => n.slice(0, n.indexOf('@'))));
  return p.any.some((t) => texts.has(t)) && !p.none.some((t) => texts.has(t));
};

const IMPLEMENTATIONS: Implementations = {
  guards: {
    noted: (({ context }, p: NotedParams) => hasNoted(context, p)) as GuardImplementation,
    byBoss: (({ event }) => event.by === 'boss') as GuardImplementation,
    // Guards of eventless transitions that read the event: how the event being processed (external, raised done event) shows.
    eventIs: (({ event }, p: { type: string }) => event.type === p.type) as GuardImplementation,
    raisedBy: (({ context, event }, p: { state: string } & Partial<NotedParams>) =>
      event.type === `xstate.done.state.${p.state}` &&
      (!p.any || hasNoted(context, { any: p.any, none: p.none ?? [] }))) as GuardImplementation,
  },
  actions: {
    // Writes down what ran, with which event and the time that event carries (xstate.init's is in its input).
    note: (({ context, event }, p: { text: string }) => {
      const time = event.time ?? event.input?.time;
      return { output: [...notes(context), `${p.text}@${event.type}${time === undefined ? '' : `:${time}`}`] };
    }) as ActionImplementation,
  },
};

const CHART: SubsetConfig = {
  id: 'toy',
  initial: 'running',
  states: {
    running: {
      type: 'parallel',
      states: {
        boot: {
          initial: 'start',
          states: { start: { always: { target: 'ready', actions: note('boot') } }, ready: { type: 'final' } },
        },
        left: {
          initial: 'idle',
          states: {
            idle: {
              on: {
                'go.left': { target: 'waiting', actions: note('left waits') },
                fatal: { target: 'broken', actions: note('left breaks') },
              },
            },
            waiting: {
              always: [{ guard: noted(OPENED), target: 'done', actions: [note('left done'), note('left again')] }],
              on: { 'go.left': { target: 'done', actions: note('left forced') } },
            },
            broken: { type: 'final' },
            done: { type: 'final' },
          },
        },
        // An integer-like key: first in XState's document order, though written after `left`. Its guard is only
        // enabled if it sees the context from before `left`'s actions of the same step.
        7: {
          initial: 'idle',
          states: {
            idle: { on: { 'go.seven': { target: 'waiting', actions: note('seven waits') } } },
            waiting: {
              always: [
                { guard: noted(['never']), target: 'done' },
                { guard: noted(OPENED, ['left done']), target: 'done', actions: note('seven done') },
              ],
              on: { 'go.seven': { target: 'done', actions: note('seven forced') } },
            },
            done: { type: 'final' },
          },
        },
        gate: {
          initial: 'shut',
          states: {
            shut: {
              on: {
                open: [
                  { guard: 'byBoss', target: 'open', actions: note('open by boss') },
                  { target: 'open', actions: note('open') },
                ],
              },
            },
            open: { type: 'final' },
          },
        },
        watcher: {
          initial: 'idle',
          states: {
            idle: {
              always: [
                {
                  guard: { type: 'raisedBy', params: { state: 'toy.running.left' } },
                  target: 'saw',
                  actions: note('watcher saw left'),
                },
                // Enabled together with the parallel state's own `always` on a fatal event: this one, a descendant's, goes first.
                { guard: noted(['left breaks']), target: 'saw', actions: note('watcher mourns') },
              ],
            },
            saw: { type: 'final' },
          },
        },
        poked: {
          initial: 'idle',
          states: {
            idle: {
              always: { guard: { type: 'eventIs', params: { type: 'poke' } }, target: 'done', actions: note('poked') },
            },
            done: { type: 'final' },
          },
        },
      },
      always: [
        { guard: noted(['left breaks']), target: 'failed', actions: note('fatal') },
        // Sees the gate's done event only if it is processed before the parallel state's own.
        {
          guard: { type: 'raisedBy', params: { state: 'toy.running.gate', any: ['open by boss'] } },
          target: 'cancelled',
          actions: note('boss closed it'),
        },
      ],
      onDone: [
        { guard: noted(['never']), target: 'failed' },
        { target: 'completed', actions: note('all done') },
      ],
      // `open` reaches the parallel state only once the gate no longer takes it.
      on: {
        cancel: { target: 'cancelled', actions: note('cancel') },
        open: { target: 'cancelled', actions: note('open again') },
      },
    },
    completed: { type: 'final', entry: note('completed') },
    failed: { type: 'final', entry: [note('failed'), note('failed twice')] },
    cancelled: { type: 'final', entry: note('cancelled') },
  },
};

const NO_TASKS = { tasks: [] } as unknown as Definition;
/** The toy's events are not the compiler's MachineEvents. */
const ev = (type: string, time: number, by?: string) =>
  ({ type, time, ...(by ? { by } : {}) }) as unknown as MachineEvent;
const EVENTS = [
  ...['go.left', 'go.seven', 'open', 'fatal', 'cancel', 'poke', 'unknown'].map((type, i) => ev(type, 1000 * (i + 1))),
  ev('open', 9000, 'boss'),
];

function* sequences(length: number): Generator<MachineEvent[]> {
  if (length === 0) {
    yield [];
    return;
  }
  for (const head of sequences(length - 1)) for (const e of EVENTS) yield [...head, e];
}

describe('the interpreter on a hand-made chart', () => {
  const reference = xstateFold(buildMachine(NO_TASKS, CHART, IMPLEMENTATIONS));
  const interpreter = new Interpreter(readChart(CHART, IMPLEMENTATIONS), (input) => initialContext(NO_TASKS, input));
  const input = { runId: 'toy', workflowId: 'toy', version: 1, input: {}, time: 0 };

  it('runs eventless transitions in the order their states were entered, each seeing the event being processed', () => {
    let s = interpreter.initial(input);
    for (const [n, type] of ['go.left', 'go.seven', 'open', 'poke'].entries())
      s = interpreter.transition(s, ev(type, n + 1));
    expect(s.value).toBe('completed');
    expect(notes(s.context)).toEqual([
      'boot@xstate.init:0',
      'left waits@go.left:1',
      'seven waits@go.seven:2',
      'open@open:3',
      // `left` was entered before 7, and 7's guard saw the context from before left's actions.
      'left done@open:3',
      'left again@open:3',
      'seven done@open:3',
      'watcher saw left@xstate.done.state.toy.running.left',
      // Nothing takes `poke`, but eventless transitions are still evaluated with it.
      'poked@poke:4',
      'all done@xstate.done.state.toy.running',
      'completed@xstate.done.state.toy.running',
    ]);
  });

  it("a region's eventless transition preempts the parallel state's; the boss's gate ends the run on its done event", () => {
    let s = interpreter.initial(input);
    s = interpreter.transition(s, ev('fatal', 1));
    expect([s.value, notes(s.context)]).toEqual([
      'failed',
      [
        'boot@xstate.init:0',
        'left breaks@fatal:1',
        'watcher mourns@fatal:1',
        'fatal@fatal:1',
        'failed@fatal:1',
        'failed twice@fatal:1',
      ],
    ]);
    s = interpreter.transition(interpreter.initial(input), ev('open', 1, 'boss'));
    expect([s.value, notes(s.context).slice(1)]).toEqual([
      'cancelled',
      [
        'open by boss@open:1',
        'boss closed it@xstate.done.state.toy.running.gate',
        'cancelled@xstate.done.state.toy.running.gate',
      ],
    ]);
    // The gate last to finish: its own done event is processed before the parallel state's.
    s = interpreter.initial(input);
    for (const type of ['go.left', 'go.left', 'go.seven', 'go.seven', 'poke'])
      s = interpreter.transition(s, ev(type, 2));
    s = interpreter.transition(s, ev('open', 3, 'boss'));
    expect([s.value, notes(s.context).slice(-3)]).toEqual([
      'cancelled',
      [
        'open by boss@open:3',
        'boss closed it@xstate.done.state.toy.running.gate',
        'cancelled@xstate.done.state.toy.running.gate',
      ],
    ]);
  });

  /** Folds the events through both, comparing after each; returns how many were compared. */
  function compare(events: MachineEvent[]): number {
    let x = reference.initial(input);
    let i = interpreter.initial(input);
    for (const [n, e] of events.entries()) {
      const [nx, ni] = [reference.transition(x, e), interpreter.transition(i, e)];
      const got = {
        accepted: ni !== i,
        value: JSON.stringify(ni.value),
        status: ni.status,
        context: JSON.stringify(ni.context),
      };
      const want = {
        accepted: nx !== x,
        value: JSON.stringify(nx.value),
        status: nx.status,
        context: JSON.stringify(nx.context),
      };
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        expect(
          got,
          `after ${events
            .slice(0, n + 1)
            .map((ev) => ev.type)
            .join(', ')}`,
        ).toEqual(want);
      }
      [x, i] = [nx, ni];
    }
    return events.length;
  }

  it('gives the same snapshots as XState for every sequence of up to four events', () => {
    let compared = 0;
    for (let length = 1; length <= 4; length++) for (const events of sequences(length)) compared += compare(events);
    expect(compared).toBeGreaterThan(10_000);
  });

  it('gives the same snapshots as XState on seeded random sequences of ten events', () => {
    const rng = prng(7);
    for (let n = 0; n < 1_000; n++)
      compare(Array.from({ length: 10 }, () => EVENTS[Math.floor(rng() * EVENTS.length)]!));
  });
});
