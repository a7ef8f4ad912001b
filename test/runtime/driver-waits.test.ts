/**
 * What a run nobody drives says (docs/runs.md#a-run-nobody-drives), decided
 * from its view alone: RUNNING, or WAITING with a timer only a driver fires;
 * the tasks whose next move needs a driver say so, a task waiting for its
 * person does not, and what a gate holds a task for stays said first.
 */
import { describe, expect, it } from 'vitest';
import { markUndriven, needsDriver, type RunView } from '../../src/runtime/index.js';

const task = (status: string, extra: Record<string, unknown> = {}) => ({
  status,
  attempts: 1,
  startedAt: null,
  completedAt: null,
  output: null,
  error: null,
  ...extra,
});
function view(
  status: string,
  tasks: Record<string, ReturnType<typeof task>>,
  timers: { task: string; kind: string }[] = [],
): RunView {
  return {
    runId: 'r1',
    workflowId: 'w',
    version: 1,
    status,
    startedAt: '2026-01-01T00:00:00.000Z',
    completedAt: null,
    input: {},
    tasks,
    output: null,
    error: null,
    timers: timers.map((t, i) => ({ id: `t${i}`, attempt: 1, dueAt: '2026-01-01T01:00:00.000Z', ...t })),
    seq: 3,
  } as unknown as RunView;
}

describe('markUndriven', () => {
  it("a RUNNING run: said on the run and on each task whose next move needs a driver; a gate's words stay first", () => {
    const v = markUndriven(
      view(
        'RUNNING',
        {
          a: task('COMPLETED'),
          b: task('RETRYING'),
          c: task('SCHEDULED', { waitingFor: 'breaker to close' }),
          d: task('PENDING'),
        },
        [{ task: 'b', kind: 'backoff' }],
      ),
    );
    expect(v.undriven).toContain('ledgerflow resume r1');
    expect(v.tasks.a!.waitingFor).toBeUndefined();
    expect(v.tasks.b!.waitingFor).toBe('a process to drive the run: none does');
    expect(v.tasks.c!.waitingFor).toBe('breaker to close, and for a process to drive the run: none does');
    expect(v.tasks.d!.waitingFor).toBeUndefined();
  });

  it('WAITING with an approval deadline: said on the run only (the task waits for its person); with no timer, not said', () => {
    const deadline = markUndriven(
      view('WAITING', { sign: task('PENDING_APPROVAL') }, [{ task: 'sign', kind: 'approval_timeout' }]),
    );
    expect(deadline.undriven).toBeDefined();
    expect(deadline.tasks.sign!.waitingFor).toBeUndefined();
    expect(needsDriver(view('WAITING', { sign: task('PENDING_APPROVAL') }))).toBe(false);
  });

  it('PAUSED, QUEUED and settled runs need no driver: returned as they are', () => {
    for (const s of ['PAUSED', 'QUEUED', 'COMPLETED', 'FAILED']) {
      const v = view(s, { a: task('SCHEDULED') });
      expect(markUndriven(v)).toBe(v);
    }
  });
});
