/**
 * A definition that got past validation but cannot run (here: durations far
 * past what a date can hold, built by hand as a bug in validation would let
 * through) must never crash the engine or leave a run stuck: the run fails
 * with the error, recorded, and replays; a run whose first state cannot be
 * computed is refused before anything is written.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import type { Definition } from '../../src/definition/index.js';
import { replayRun, startFold, step } from '../../src/runtime/index.js';
import { def, engine } from '../helpers/engine.js';

const base = def(`
workflow:
  id: unrunnable
  name: U
  version: 1
  tasks:
    - { id: fetch, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s } }
    - { id: sign, type: HUMAN, depends_on: [fetch] }
    - { id: after, type: SIMPLE, depends_on: [sign] }
`);

/** The definition with one task's fields replaced. */
function withTask(id: string, patch: Record<string, unknown>): Definition {
  return { ...base, tasks: base.tasks.map((t) => (t.id === id ? { ...t, ...patch } : t)) } as Definition;
}

const handlers = {
  fetch: async () => {
    throw new Error('flaky');
  },
  after: async () => ({}),
};

describe('a run the fold cannot continue fails with the error, recorded', () => {
  it('in the pure step: the input that threw becomes run.failed, naming it', () => {
    const compiled = compile(withTask('fetch', { timeoutMs: 1e300 }));
    const snapshot = startFold(compiled, { runId: 'r1', time: '2026-01-01T00:00:00.000Z', input: {} });
    const s = step(compiled, snapshot, 1, [], Date.parse('2026-01-01T00:00:00.000Z'));
    expect(s.events.map((e) => e.type)).toEqual(['run.failed']);
    expect(s.events[0]!.data).toEqual({
      error: {
        code: 'LF_RUN_ERROR',
        retryable: false,
        message: expect.stringMatching(/could not apply task\.started of task fetch to this run: Invalid time value/),
      },
    });
    expect(s.snapshot.value).toBe('failed');
    expect(s.effects).toEqual([]);
  });

  it('through the engine: a timeout no date can hold fails the run at its first start, and it replays', async () => {
    const { engine: e, store } = engine();
    const view = await e.run(withTask('fetch', { timeoutMs: 1e300 }), {}, { handlers, maxTimerWaitMs: 1000 });
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatchObject({ code: 'LF_RUN_ERROR' });
    expect(view.tasks.fetch!.status).toBe('CANCELLED');
    const events = await store.read(view.runId);
    expect(events.map((ev) => ev.type)).toEqual(['run.started', 'run.failed']);
    expect(replayRun(events).divergence).toBeNull();
    // Nothing is left to do: driving it again changes nothing.
    expect((await e.drive(view.runId, { handlers })).status).toBe('FAILED');
    expect(await store.read(view.runId)).toHaveLength(2);
  });

  it('through the engine: a backoff no date can hold fails the run when the first attempt fails, after that attempt ran once', async () => {
    const { engine: e, store } = engine();
    let calls = 0;
    const view = await e.run(
      withTask('fetch', { retry: { ...base.tasks[0]!.retry, initialDelayMs: 1e300, maxDelayMs: 1e300 } }),
      {},
      {
        handlers: {
          ...handlers,
          fetch: async () => {
            calls++;
            throw new Error('flaky');
          },
        },
        maxTimerWaitMs: 1000,
      },
    );
    expect(calls).toBe(1);
    expect(view.status).toBe('FAILED');
    expect(view.error?.message).toMatch(/could not apply task\.failed of task fetch/);
    const events = await store.read(view.runId);
    expect(events.map((ev) => ev.type)).toEqual(['run.started', 'task.started', 'run.failed']);
    expect(replayRun(events).divergence).toBeNull();
  });

  it('a run whose first state cannot be computed is refused, and nothing is written', async () => {
    const { engine: e, store } = engine();
    const broken = {
      ...base,
      tasks: [{ ...base.tasks[1]!, dependsOn: [], timeoutMs: 1e300 }, base.tasks[2]!],
    } as Definition;
    await expect(e.run(broken, {}, { handlers })).rejects.toMatchObject({
      code: 'LF_RUN_CANNOT_START',
      message: expect.stringMatching(/workflow unrunnable cannot start: Invalid time value; nothing was recorded/),
    });
    expect(await store.listRuns()).toEqual([]);
  });
});
