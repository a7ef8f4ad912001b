/**
 * SET and pause/resume (docs/constructs.md): in the fold, in the
 * pure commit, and SET driven on the memory store with real handlers. TERMINATE and pause,
 * resume and cancel driven by an executor are the executor contract's (test/executor/contract.ts).
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import { applyEvent, prepareCommit, recordedState, runStatus, startFold } from '../../src/runtime/index.js';
import { def, engine, runToIdle } from '../helpers/engine.js';

const T0 = '2026-01-01T09:00:00.000Z';

const setThenUse = def(`
workflow:
  id: set-then-use
  name: SET then use
  version: 1
  output: { region: "\${workflow.variables.region}", total: "\${workflow.variables.total}" }
  tasks:
    - { id: a, type: SIMPLE }
    - id: remember
      type: SET
      depends_on: [a]
      values: { region: "\${a.output.region}", total: 3, tag: "r-\${a.output.region}" }
    - id: use
      type: SIMPLE
      depends_on: [remember]
      input: { region: "\${workflow.variables.region}", tag: "\${workflow.variables.tag}", all: "\${workflow.variables}" }
    - id: again
      type: SET
      depends_on: [use]
      values: { total: 4 }
`);

const pausable = def(`
workflow:
  id: pausable
  name: Pausable
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
    - { id: c, type: SIMPLE, depends_on: [a] }
`);

describe('SET', () => {
  it('merges its values into workflow.variables, which later tasks, the output and status read', async () => {
    const { engine: e } = engine();
    const seen: unknown[] = [];
    const view = await runToIdle(
      e,
      setThenUse,
      {},
      {
        a: async () => ({ region: 'eu' }),
        use: async (input) => {
          seen.push(input);
          return {};
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    expect(seen).toEqual([{ region: 'eu', tag: 'r-eu', all: { region: 'eu', total: 3, tag: 'r-eu' } }]);
    expect(view.tasks.remember).toMatchObject({ status: 'COMPLETED', output: { region: 'eu', total: 3, tag: 'r-eu' } });
    expect(view.tasks.again!.output).toEqual({ total: 4 });
    expect(view.variables).toEqual({ region: 'eu', total: 4, tag: 'r-eu' });
    expect(view.output).toEqual({ region: 'eu', total: 4 });
  });

  it('leaves a run without SET exactly as before: no variables in its context, view or state', () => {
    const compiled = compile(pausable);
    const s = startFold(compiled, { runId: 'r', time: T0, input: {} });
    expect('variables' in s.context).toBe(false);
    expect('paused' in s.context).toBe(false);
  });
});

describe('pause and resume in the fold', () => {
  const compiled = compile(pausable);
  const at = (s: number) => new Date(Date.parse(T0) + s * 1000).toISOString();
  const ev = (e: PendingEvent) => e;

  it('adds no task.started while paused; run.resumed lets the same commit start every scheduled task', () => {
    let s = startFold(compiled, { runId: 'r', time: T0, input: {} });
    let c = prepareCommit(compiled, s, 1, [], Date.parse(at(1)));
    expect(c.events.map((e) => e.type)).toEqual(['task.started']);
    s = c.snapshot;
    c = prepareCommit(
      compiled,
      s,
      c.seq,
      [ev({ type: 'run.paused', time: at(2), data: { by: 'ops', reason: 'maintenance' } })],
      Date.parse(at(2)),
    );
    expect(c.events.map((e) => e.type)).toEqual(['run.paused']);
    expect(c.events[0]!.state.status).toBe('PAUSED');
    expect(runStatus(c.snapshot)).toBe('PAUSED');
    // The running attempt reports: recorded, and b and c are scheduled, not started.
    c = prepareCommit(
      compiled,
      c.snapshot,
      c.seq,
      [ev({ type: 'task.completed', time: at(3), data: { task: 'a', attempt: 1, output: {} } })],
      Date.parse(at(3)),
    );
    expect(c.events.map((e) => e.type)).toEqual(['task.completed']);
    expect(c.snapshot.context.tasks.b!.status).toBe('SCHEDULED');
    expect(c.events[0]!.state.status).toBe('PAUSED');
    // Pausing again is refused: nothing to record.
    const again = prepareCommit(
      compiled,
      c.snapshot,
      c.seq,
      [ev({ type: 'run.paused', time: at(4), data: {} })],
      Date.parse(at(4)),
    );
    expect(again.events).toEqual([]);
    expect(again.stale.map((x) => x.reason)).toEqual(['the run is already paused']);
    c = prepareCommit(
      compiled,
      c.snapshot,
      c.seq,
      [ev({ type: 'run.resumed', time: at(5), data: { by: 'ops' } })],
      Date.parse(at(5)),
    );
    expect(c.events.map((e) => (e.type === 'task.started' ? `started ${e.data.task}` : e.type))).toEqual([
      'run.resumed',
      'started b',
      'started c',
    ]);
    expect(runStatus(c.snapshot)).toBe('RUNNING');
    // Resuming a run that is not paused is refused.
    expect(applyEvent(compiled, c.snapshot, ev({ type: 'run.resumed', time: at(6), data: {} })).accepted).toBe(false);
  });

  it('keeps the state hash of a state that was never paused; a settled run takes no pause', () => {
    const s = startFold(compiled, { runId: 'r', time: T0, input: {} });
    const paused = applyEvent(compiled, s, ev({ type: 'run.paused', time: at(1), data: {} }));
    const resumed = applyEvent(compiled, paused.snapshot, ev({ type: 'run.resumed', time: at(2), data: {} }));
    expect(recordedState(paused.snapshot).hash).toBe(recordedState(s).hash);
    expect(recordedState(resumed.snapshot)).toEqual(recordedState(s));
    const cancelled = applyEvent(compiled, s, ev({ type: 'run.cancelled', time: at(1), data: {} })).snapshot;
    expect(applyEvent(compiled, cancelled, ev({ type: 'run.paused', time: at(2), data: {} })).accepted).toBe(false);
  });
});
