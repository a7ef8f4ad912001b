/**
 * Run timeouts (docs/runs.md#run-timeouts): `timeout:` on the workflow ends a
 * run that has not settled in that time, FAILED (timeout_policy: fail, the
 * default) or CANCELLED, with LF_RUN_TIMEOUT; its attempts are aborted, its
 * child runs cancelled, its failure workflow started. A durable timer from
 * the run.started time; paused time counts.
 */
import { describe, expect, it } from 'vitest';
import { compile, machineJson } from '../../src/compiler/index.js';
import type { Definition } from '../../src/definition/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import { Engine, type ChildResolver } from '../../src/local/index.js';
import { applyEvent, reconcile, startFold, type Handlers } from '../../src/runtime/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { def, engine, expectReplayMatches, virtualClock } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

const withTimeout = (extra = '') =>
  def(`
workflow:
  id: bounded
  timeout: 2s
${extra}
  tasks:
    - id: slow
      type: SIMPLE
      handler: slow
`);

/** A handler that answers only when aborted: what a stuck call looks like. */
function stuck(aborted: string[]): Handlers {
  return {
    slow: (_input, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          aborted.push(ctx.idempotencyKey);
          reject(new Error('aborted'));
        });
      }),
  };
}

describe('run timeout', () => {
  it('fails a run that has not settled in time with LF_RUN_TIMEOUT, aborting its running attempt', async () => {
    const clock = virtualClock();
    const { engine: e } = engine({ clock });
    const aborted: string[] = [];
    const view = await e.run(withTimeout(), {}, { handlers: stuck(aborted), maxTimerWaitMs: 60_000 });
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatchObject({ code: 'LF_RUN_TIMEOUT', retryable: false });
    expect(view.error!.message).toContain('2s');
    expect(view.tasks.slow!.status).toBe('CANCELLED');
    expect(aborted).toEqual([`${view.runId}/slow/1`]);
    expect(Date.parse(view.completedAt!) - Date.parse(view.startedAt)).toBe(2000);
    const events = await e.events(view.runId);
    expect(events.map((ev) => ev.type)).toContain('timer.fired');
    expect(events.find((ev) => ev.type === 'timer.fired')!.data).toEqual({
      task: '$run',
      timer: 'run_timeout',
      attempt: 1,
    });
    await expectReplayMatches(e, view);
  });

  it('cancels the run instead under timeout_policy: cancel', async () => {
    const clock = virtualClock();
    const { engine: e } = engine({ clock });
    const view = await e.run(
      withTimeout('  timeout_policy: cancel'),
      {},
      { handlers: stuck([]), maxTimerWaitMs: 60_000 },
    );
    expect(view.status).toBe('CANCELLED');
    expect(view.error).toMatchObject({ code: 'LF_RUN_TIMEOUT' });
    expect(view.error!.message).toContain('timeout_policy: cancel');
    await expectReplayMatches(e, view);
  });

  it('times out a run WAITING for an approval', async () => {
    const clock = virtualClock();
    const { engine: e } = engine({ clock });
    const human = def(`
workflow:
  id: bounded
  timeout: 2s
  tasks:
    - id: approve
      type: HUMAN
      assigned_to: cfo
`);
    const waiting = await e.run(human, {}, { handlers: {}, maxTimerWaitMs: 0 });
    expect(waiting.status).toBe('WAITING');
    expect(waiting.timers.map((t) => t.kind)).toEqual(['run_timeout']);
    const view = await e.drive(waiting.runId, { handlers: {}, untilSettled: true });
    expect(view.status).toBe('FAILED');
    expect(view.error?.code).toBe('LF_RUN_TIMEOUT');
    expect(view.tasks.approve!.status).toBe('CANCELLED');
  });

  it('counts paused time: a paused run times out on time', async () => {
    const clock = virtualClock();
    const { engine: e } = engine({ clock });
    const human = def(`
workflow:
  id: bounded
  timeout: 1h
  tasks:
    - id: approve
      type: HUMAN
      assigned_to: cfo
`);
    const waiting = await e.run(human, {}, { handlers: {}, maxTimerWaitMs: 0 });
    await e.pause(waiting.runId, { by: 'ops' });
    const view = await e.drive(waiting.runId, { handlers: {}, untilSettled: true });
    expect(view.status).toBe('FAILED');
    expect(Date.parse(view.completedAt!) - Date.parse(view.startedAt)).toBe(3_600_000);
  });

  it('starts the failure workflow of a run that timed out, with the timeout as its error', async () => {
    const clock = virtualClock();
    const store = new MemoryEventStore();
    const onFailure = def(`
workflow:
  id: on_failure
  input: { required: [failedRunId, failedTask, error] }
  tasks:
    - id: tell
      type: SIMPLE
      input: { run: "\${workflow.input.failedRunId}", error: "\${workflow.input.error}" }
`);
    const resolveChild: ChildResolver = (ref) => (ref.workflow === 'on_failure' ? { definition: onFailure } : null);
    const e = new Engine({ store, clock, resolveChild });
    let told: unknown;
    const handlers: Handlers = {
      ...stuck([]),
      tell: (input) => {
        told = input;
        return {};
      },
    };
    const view = await e.run(
      withTimeout('  failure_workflow: { id: on_failure }'),
      {},
      { handlers, maxTimerWaitMs: 60_000 },
    );
    expect(view.status).toBe('FAILED');
    await waitFor(
      'the failure run completed',
      async () => (await e.status(`${view.runId}-failure`).catch(() => null))?.status === 'COMPLETED',
    );
    expect(told).toMatchObject({ run: view.runId, error: { code: 'LF_RUN_TIMEOUT' } });
  });

  it('cancels the child run of a SUB_WORKFLOW in flight', async () => {
    const clock = virtualClock();
    const store = new MemoryEventStore();
    const child = def(`
workflow:
  id: child
  tasks:
    - id: slow
      type: SIMPLE
`);
    const resolveChild: ChildResolver = (ref) => (ref.workflow === 'child' ? { definition: child } : null);
    const e = new Engine({ store, clock, resolveChild });
    const parent = def(`
workflow:
  id: parent
  timeout: 5s
  tasks:
    - id: sub
      type: SUB_WORKFLOW
      workflow: child
`);
    const view = await e.run(parent, {}, { handlers: stuck([]), maxTimerWaitMs: 60_000 });
    expect(view.status).toBe('FAILED');
    const childId = view.tasks.sub!.child!;
    await waitFor('the child run cancelled', async () => (await e.status(childId)).status === 'CANCELLED');
  });
});

describe('run timeout in the fold', () => {
  const d: Definition = withTimeout();
  const T0 = Date.parse('2026-01-01T00:00:00.000Z');
  const at = (ms: number) => new Date(T0 + ms).toISOString();
  const fired = (ms: number, attempt = 1): PendingEvent => ({
    type: 'timer.fired',
    time: at(ms),
    data: { task: '$run', timer: 'run_timeout', attempt },
  });

  it('arms the timer from the run.started time, and reconcile arms it on every executor', () => {
    const compiled = compile(d);
    const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
    expect(start.context.timers).toEqual({
      '$run/run_timeout/1': {
        id: '$run/run_timeout/1',
        task: '$run',
        kind: 'run_timeout',
        attempt: 1,
        dueAt: at(2000),
      },
    });
    expect(reconcile(compiled, start).filter((x) => x.type === 'timer.arm')).toHaveLength(1);
  });

  it('takes no early or forged firing', () => {
    const compiled = compile(d);
    const start = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
    expect(applyEvent(compiled, start, fired(1999)).accepted).toBe(false);
    expect(applyEvent(compiled, start, fired(5000, 2)).accepted).toBe(false);
    const done = applyEvent(compiled, start, fired(2000));
    expect(done.accepted).toBe(true);
    expect(done.snapshot.value).toBe('failed');
  });

  it('leaves a workflow without timeout as it was: no timer, no transition', () => {
    const plain = def(`
workflow:
  id: bounded
  tasks:
    - id: slow
      type: SIMPLE
      handler: slow
`);
    const compiled = compile(plain);
    expect(startFold(compiled, { runId: 'r1', time: at(0), input: {} }).context.timers).toEqual({});
    expect(machineJson(plain)).not.toContain('run_timeout');
    expect(Object.keys(plain)).not.toContain('timeoutMs');
    const started = startFold(compiled, { runId: 'r1', time: at(0), input: {} });
    expect(applyEvent(compiled, started, fired(5000)).accepted).toBe(false);
  });
});
