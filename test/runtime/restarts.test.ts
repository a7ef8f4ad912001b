/**
 * An attempt lost with the process running it (a crash, Ctrl-C, kill -9)
 * runs again on `resume`: recorded as task.restarted, same attempt number and
 * idempotency key, retries untouched, and its timeout counted from the
 * restart, so downtime is not attempt time. Bounded: past MAX_RESTARTS the
 * loss fails the attempt (LF_ATTEMPT_LOST) and the retry policy decides.
 */
import { describe, expect, it } from 'vitest';
import { MAX_RESTARTS, type Handlers } from '../../src/runtime/index.js';
import type { Clock } from '../../src/executor/index.js';
import type { Engine } from '../../src/local/index.js';
import { def, engine, expectReplayMatches } from '../helpers/engine.js';
import { waitFor } from '../helpers/wait.js';

/** Time that moves only when the test says so; timers fire when it passes them. */
class ManualClock implements Clock {
  private readonly timers = new Map<object, { due: number; fire: () => void }>();
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
  setTimer(delayMs: number, fire: () => void): unknown {
    const handle = {};
    this.timers.set(handle, { due: this.t + Math.max(0, delayMs), fire });
    return handle;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as object);
  }
  advance(ms: number): void {
    this.t += ms;
    for (const [h, timer] of [...this.timers]) {
      if (timer.due <= this.t) {
        this.timers.delete(h);
        timer.fire();
      }
    }
  }
}

const T0 = Date.UTC(2026, 0, 1, 9);
const slow = def(`
workflow:
  id: slow
  name: Slow
  version: 1
  tasks:
    - { id: export, type: SIMPLE, timeout: 10s }
    - { id: notify, type: SIMPLE, depends_on: [export] }
`);

/** Drives the run until `export` is running, then stops as a crash would (nothing more is written). */
async function crashWhileRunning(e: Engine, runId: string, calls: string[]): Promise<void> {
  const stop = new AbortController();
  const before = calls.length;
  const first = e.drive(runId, {
    handlers: {
      export: (_i, ctx) => {
        calls.push(ctx.idempotencyKey);
        return new Promise(() => {});
      },
      notify: async () => ({}),
    },
    maxTimerWaitMs: 0,
    signal: stop.signal,
  });
  await waitFor('export to be running', () => calls.length > before);
  stop.abort();
  await first;
}

describe('an attempt lost with its process runs again on resume', () => {
  it('downtime is not attempt time: an attempt whose timeout passed while nothing ran is re-run, its timeout counted from the restart', async () => {
    const clock = new ManualClock(T0);
    const { engine: e } = engine({ clock });
    const calls: string[] = [];
    const runId = await e.start(slow, {});
    await crashWhileRunning(e, runId, calls);
    clock.advance(60 * 60_000); // an hour of downtime: far past the 10 s timeout

    const handlers: Handlers = {
      export: async (_i, ctx) => {
        calls.push(ctx.idempotencyKey);
        return { rows: 3 };
      },
      notify: async () => ({}),
    };
    const view = await e.drive(runId, { handlers, maxTimerWaitMs: 0 });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.export).toMatchObject({ status: 'COMPLETED', attempts: 1, output: { rows: 3 } });
    // The same attempt under the same idempotency key, twice: the lost run and the re-run.
    expect(calls).toEqual([`${runId}/export/1`, `${runId}/export/1`]);

    const events = await e.events(runId);
    const restarted = events.find((ev) => ev.type === 'task.restarted');
    expect(restarted).toMatchObject({
      type: 'task.restarted',
      time: new Date(T0 + 3_600_000).toISOString(),
      data: { task: 'export', attempt: 1, restart: 1, reason: 'resumed' },
    });
    expect(events.filter((ev) => ev.type === 'timer.fired')).toEqual([]);
    await expectReplayMatches(e, view);
  });

  it('the restarted attempt still times out, 10 s after the restart and not before', async () => {
    const clock = new ManualClock(T0);
    const { engine: e } = engine({ clock });
    const calls: string[] = [];
    const runId = await e.start(slow, {});
    await crashWhileRunning(e, runId, calls);
    clock.advance(60 * 60_000);
    const hang: Handlers = { export: () => new Promise(() => {}), notify: async () => ({}) };
    const resumed = e.drive(runId, { handlers: hang, maxTimerWaitMs: 60_000 });
    await waitFor('the restart to be recorded', async () =>
      (await e.events(runId)).some((ev) => ev.type === 'task.restarted'),
    );
    const restartedAt = clock.now();
    expect((await e.status(runId)).tasks.export!.status).toBe('IN_PROGRESS');
    clock.advance(9_999);
    expect((await e.status(runId)).tasks.export!.status).toBe('IN_PROGRESS');
    clock.advance(1);
    const view = await resumed;
    expect(view.status).toBe('FAILED');
    expect(view.tasks.export!.status).toBe('TIMED_OUT');
    const fired = (await e.events(runId)).find((ev) => ev.type === 'timer.fired')!;
    expect(Date.parse(fired.time) - restartedAt).toBe(10_000);
  });

  it(`restarts do not use up retries, and stop after ${MAX_RESTARTS}: the next loss fails the attempt (LF_ATTEMPT_LOST) and the retry policy takes over`, async () => {
    const retried = def(`
workflow:
  id: crashy
  name: Crashy
  version: 1
  tasks:
    - { id: export, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s } }
`);
    const clock = new ManualClock(T0);
    const { engine: e } = engine({ clock });
    const calls: string[] = [];
    const runId = await e.start(retried, {});
    for (let crash = 0; crash <= MAX_RESTARTS; crash++) await crashWhileRunning(e, runId, calls);
    // Each crash after a resume lost the restarted attempt 1; the last loss failed it instead of restarting it.
    const events = await e.events(runId);
    expect(
      events.filter((ev) => ev.type === 'task.restarted').map((ev) => ev.type === 'task.restarted' && ev.data.restart),
    ).toEqual(Array.from({ length: MAX_RESTARTS }, (_, i) => i + 1));
    const driving = e.drive(runId, {
      handlers: {
        export: async (_i, ctx) => {
          calls.push(ctx.idempotencyKey);
          return {};
        },
      },
      maxTimerWaitMs: 5_000,
    });
    await waitFor('attempt 1 to fail', async () => (await e.events(runId)).some((ev) => ev.type === 'task.failed'));
    clock.advance(1_000); // the backoff before attempt 2
    const view = await driving;
    expect(view.status).toBe('COMPLETED');
    const failed = (await e.events(runId)).find((ev) => ev.type === 'task.failed');
    expect(failed).toMatchObject({
      data: { task: 'export', attempt: 1, error: { code: 'LF_ATTEMPT_LOST', retryable: true } },
    });
    expect(view.tasks.export!.attempts).toBe(2);
    expect(calls.filter((c) => c.endsWith('/export/1'))).toHaveLength(MAX_RESTARTS + 1);
    expect(calls.at(-1)).toBe(`${runId}/export/2`);
    await expectReplayMatches(e, view);
  });
});

/**
 * Drives the run until `task` runs `times` calls more, then stops it: `clean`, as Ctrl-C or SIGTERM stops the CLI
 * (releaseOnStop: the attempts in flight are given back, task.released), else as a crash would (nothing more written).
 */
async function stopWhileRunning(
  e: Engine,
  runId: string,
  calls: string[],
  clean: boolean,
  handlers: Handlers = { notify: async () => ({}) },
  task = 'export',
  times = 1,
): Promise<void> {
  const stop = new AbortController();
  const before = calls.length;
  const first = e.drive(runId, {
    handlers: {
      ...handlers,
      [task]: (_i, ctx) => {
        calls.push(ctx.idempotencyKey);
        return new Promise(() => {});
      },
    },
    maxTimerWaitMs: 0,
    signal: stop.signal,
    ...(clean ? { releaseOnStop: true } : {}),
  });
  await waitFor(`${task} to be running`, () => calls.length >= before + times);
  stop.abort();
  await first;
}

describe('an attempt given back by a clean stop (Ctrl-C, SIGTERM) is not lost', () => {
  const done: Handlers = { export: async () => ({ rows: 3 }), notify: async () => ({}) };

  it(`however often it is stopped cleanly (more than ${MAX_RESTARTS} times), the next drive runs it again and the run completes`, async () => {
    const { engine: e } = engine();
    const calls: string[] = [];
    const runId = await e.start(slow, {});
    const stops = MAX_RESTARTS + 2;
    for (let i = 0; i < stops; i++) await stopWhileRunning(e, runId, calls, true);
    const view = await e.drive(runId, { handlers: done, maxTimerWaitMs: 0 });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.export).toMatchObject({ status: 'COMPLETED', attempts: 1, output: { rows: 3 } });
    expect(new Set(calls)).toEqual(new Set([`${runId}/export/1`]));
    const events = await e.events(runId);
    // Each stop gave back the run it stopped (0, 1, ...); each drive after took it up as the next restart.
    expect(events.flatMap((ev) => (ev.type === 'task.released' ? [ev.data.restart] : []))).toEqual(
      Array.from({ length: stops }, (_, i) => i),
    );
    expect(events.flatMap((ev) => (ev.type === 'task.restarted' ? [ev.data.restart] : []))).toEqual(
      Array.from({ length: stops }, (_, i) => i + 1),
    );
    expect(events.some((ev) => ev.type === 'task.failed')).toBe(false);
    await expectReplayMatches(e, view);
  });

  it(`the losses between clean stops still count: the ${MAX_RESTARTS + 1}th crash fails the attempt (LF_ATTEMPT_LOST)`, async () => {
    const { engine: e } = engine();
    const calls: string[] = [];
    const runId = await e.start(slow, {});
    // clean, crash, clean, then three crashes: four losses, however the clean stops fall between them.
    for (const clean of [true, false, true, false, false, false]) await stopWhileRunning(e, runId, calls, clean);
    const view = await e.drive(runId, { handlers: done, maxTimerWaitMs: 0 });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.export!.error).toMatchObject({
      code: 'LF_ATTEMPT_LOST',
      message: expect.stringContaining(`attempt 1 was lost ${MAX_RESTARTS + 1} times (its process stopped)`),
    });
    await expectReplayMatches(e, view);
  });

  it('a MAP item given back is run again without counting a loss, its completed siblings not again', async () => {
    const mapped = def(`
workflow:
  id: fanned
  name: Fanned
  version: 1
  input:
    optional:
      - items: [1, 2, 3]
  tasks:
    - id: fan
      type: MAP
      items: "\${workflow.input.items}"
      handler: item
      input: { n: "\${item}" }
      max_concurrency: 2
`);
    const { engine: e } = engine();
    const calls: string[] = [];
    const runId = await e.start(mapped, {});
    // Item 0 completes at once; items 1 and 2 hang until stopped (one call each a drive).
    const first: Handlers = {
      item: async (input, ctx) => {
        if ((input as { n: number }).n === 1) return { ok: 1 };
        calls.push(ctx.idempotencyKey);
        return new Promise(() => {});
      },
    };
    const stops = MAX_RESTARTS + 1;
    for (let i = 0; i < stops; i++) {
      const stop = new AbortController();
      const before = calls.length;
      const driving = e.drive(runId, {
        handlers: first,
        maxTimerWaitMs: 0,
        signal: stop.signal,
        releaseOnStop: true,
      });
      await waitFor('items 1 and 2 to be running', () => calls.length >= before + 2);
      stop.abort();
      await driving;
    }
    const view = await e.drive(runId, { handlers: { item: async () => ({ ok: 1 }) }, maxTimerWaitMs: 0 });
    expect(view.status).toBe('COMPLETED');
    expect(new Set(calls)).toEqual(new Set([`${runId}/fan[1]/1`, `${runId}/fan[2]/1`]));
    const events = await e.events(runId);
    expect(events.filter((ev) => ev.type === 'task.released')).toHaveLength(2 * stops);
    expect(events.some((ev) => ev.type === 'task.failed')).toBe(false);
    await expectReplayMatches(e, view);
  });
});
