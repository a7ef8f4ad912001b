/**
 * The pure step: events and effects out, nothing executed. These tests look
 * only at what step(), reconcile() and reviewApproval() return.
 */
import { describe, expect, it } from 'vitest';
import { compile, type CompiledWorkflow } from '../../src/compiler/index.js';
import type { PendingEvent } from '../../src/events/index.js';
import {
  heldBy,
  reconcile,
  reviewApproval,
  startFold,
  step,
  type Effect,
  type RunSnapshot,
} from '../../src/runtime/index.js';
import { prng } from '../compiler/random-events.js';
import { def } from '../helpers/engine.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

const pipeline = compile(
  def(`
workflow:
  id: pipeline
  name: P
  version: 3
  input: { required: [folder] }
  tasks:
    - id: scan
      type: SIMPLE
      handler: scanner
      queue: io
      timeout: 30s
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 5s }
      input: { folder: "\${workflow.input.folder}", fixed: 1 }
      output_to: "reports/\${workflow.input.folder}.yaml"
    - id: sign
      type: HUMAN
      depends_on: [scan]
      approvers: [alice]
      timeout: 1h
    - id: report
      type: SIMPLE
      depends_on: [sign]
      assigned_to: reporter
      input: { files: "\${scan.output.files}" }
`),
);

function started(compiled: CompiledWorkflow, input: Record<string, unknown> = { folder: 'out' }) {
  const snapshot = startFold(compiled, { runId: 'r1', time: at(0), input });
  return step(compiled, snapshot, 1, [], T0);
}

const types = (effects: Effect[]) =>
  effects.map((e) =>
    e.type === 'attempt.start' || e.type === 'attempt.abort'
      ? `${e.type} ${e.taskId}#${e.attempt}`
      : e.type === 'timer.arm'
        ? `timer.arm ${e.timer.id}`
        : e.type === 'timer.cancel'
          ? `timer.cancel ${e.timerId}`
          : e.type,
  );

describe('step', () => {
  it('starts the first tasks with their input resolved, queue, handler, deadline and output_to worked out once', () => {
    const s = started(pipeline);
    expect(s.events.map((e) => [e.seq, e.type])).toEqual([[2, 'task.started']]);
    expect(types(s.effects)).toEqual(['timer.arm scan/timeout/1', 'attempt.start scan#1']);
    expect(s.effects[1]).toEqual({
      type: 'attempt.start',
      runId: 'r1',
      workflowId: 'pipeline',
      version: 3,
      taskId: 'scan',
      instance: 'scan',
      attempt: 1,
      restart: 0,
      idempotencyKey: 'r1/scan/1',
      handler: 'scanner',
      queue: 'io',
      input: { folder: 'out', fixed: 1 },
      workflowInput: { folder: 'out' },
      deadline: at(30_000),
      outputTo: 'reports/out.yaml',
      task: { id: 'scan', name: 'scan', type: 'SIMPLE', output: { names: [], values: {} }, timeoutMs: 30_000 },
    });
  });

  it("a completion cancels the attempt's timeout and arms the approval deadline of the HUMAN task it enables", () => {
    const s1 = started(pipeline);
    const s2 = step(
      pipeline,
      s1.snapshot,
      s1.seq,
      [{ type: 'task.completed', time: at(1000), data: { task: 'scan', attempt: 1, output: { files: ['a'] } } }],
      T0 + 1000,
    );
    expect(types(s2.effects)).toEqual(['timer.cancel scan/timeout/1', 'timer.arm sign/approval_timeout/1']);
    expect(s2.stale).toEqual([]);
  });

  it('a timeout aborts the attempt and arms the backoff; the backoff starts attempt 2 with its own deadline', () => {
    const s1 = started(pipeline);
    const s2 = step(
      pipeline,
      s1.snapshot,
      s1.seq,
      [{ type: 'timer.fired', time: at(30_000), data: { task: 'scan', timer: 'timeout', attempt: 1 } }],
      T0 + 30_000,
    );
    expect(types(s2.effects)).toEqual([
      'attempt.abort scan#1',
      'timer.cancel scan/timeout/1',
      'timer.arm scan/backoff/1',
    ]);
    expect(s2.effects[0]).toMatchObject({ reason: 'attempt 1 is no longer wanted (RETRYING)' });
    const s3 = step(
      pipeline,
      s2.snapshot,
      s2.seq,
      [{ type: 'timer.fired', time: at(35_000), data: { task: 'scan', timer: 'backoff', attempt: 1 } }],
      T0 + 35_000,
    );
    expect(s3.events.map((e) => e.type)).toEqual(['timer.fired', 'task.started']);
    expect(types(s3.effects)).toEqual([
      'timer.cancel scan/backoff/1',
      'timer.arm scan/timeout/2',
      'attempt.start scan#2',
    ]);
    expect(s3.effects.at(-1)).toMatchObject({ idempotencyKey: 'r1/scan/2', deadline: at(65_000) });
  });

  it('a cancellation aborts what runs and cancels every timer', () => {
    const s1 = started(pipeline);
    const s2 = step(
      pipeline,
      s1.snapshot,
      s1.seq,
      [{ type: 'run.cancelled', time: at(10), data: { by: 'ops' } }],
      T0 + 10,
    );
    expect(types(s2.effects)).toEqual(['attempt.abort scan#1', 'timer.cancel scan/timeout/1']);
    expect(s2.effects[0]).toMatchObject({ reason: 'run is CANCELLED' });
  });

  it('an input the run no longer accepts is stale: no event, no effect', () => {
    const s1 = started(pipeline);
    const s2 = step(
      pipeline,
      s1.snapshot,
      s1.seq,
      [{ type: 'task.completed', time: at(5), data: { task: 'scan', attempt: 7, output: null } }],
      T0 + 5,
    );
    expect(s2.events).toEqual([]);
    expect(s2.effects).toEqual([]);
    expect(s2.stale).toEqual([expect.objectContaining({ reason: expect.stringContaining('attempt 7') })]);
  });

  it('a downstream attempt gets its input from the recorded output upstream', () => {
    let s = started(pipeline);
    s = step(
      pipeline,
      s.snapshot,
      s.seq,
      [{ type: 'task.completed', time: at(1), data: { task: 'scan', attempt: 1, output: { files: ['a', 'b'] } } }],
      T0 + 1,
    );
    s = step(
      pipeline,
      s.snapshot,
      s.seq,
      [{ type: 'approval.recorded', time: at(2), data: { task: 'sign', decision: 'approved', by: 'alice' } }],
      T0 + 2,
    );
    expect(s.effects).toEqual([
      { type: 'timer.cancel', runId: 'r1', timerId: 'sign/approval_timeout/1' },
      expect.objectContaining({
        type: 'attempt.start',
        taskId: 'report',
        handler: 'reporter',
        queue: 'default',
        input: { files: ['a', 'b'] },
      }),
    ]);
  });
});

describe('reconcile', () => {
  it('with nothing held yields every outstanding effect of a state; with everything held, none', () => {
    const s = started(pipeline);
    expect(reconcile(pipeline, s.snapshot)).toEqual(s.effects);
    expect(reconcile(pipeline, s.snapshot, heldBy(s.snapshot))).toEqual([]);
  });

  /** What an executor holds after performing effects: attempts by task, timers by id. */
  function perform(held: { attempts: Map<string, { attempt: number }>; timers: Set<string> }, effects: Effect[]) {
    for (const e of effects) {
      if (e.type === 'attempt.start') held.attempts.set(e.taskId, { attempt: e.attempt });
      else if (e.type === 'attempt.abort') held.attempts.delete(e.taskId);
      else if (e.type === 'timer.arm') held.timers.add(e.timer.id);
      else if (e.type === 'timer.cancel') held.timers.delete(e.timerId);
    }
  }

  /** A plausible next input for a state: an outcome of a running attempt, a due timer, a decision, rarely a cancel. */
  function nextInput(rng: () => number, snap: RunSnapshot, time: string): PendingEvent | null {
    const ctx = snap.context;
    const options: PendingEvent[] = [];
    for (const [task, t] of Object.entries(ctx.tasks)) {
      if (t.status === 'IN_PROGRESS') {
        options.push({ type: 'task.completed', time, data: { task, attempt: t.attempts, output: { files: ['x'] } } });
        options.push({
          type: 'task.failed',
          time,
          data: { task, attempt: t.attempts, error: { message: 'boom', retryable: rng() < 0.8 } },
        });
      }
      if (t.status === 'PENDING_APPROVAL')
        options.push({
          type: 'approval.recorded',
          time,
          data: { task, decision: rng() < 0.8 ? 'approved' : 'rejected', by: 'alice' },
        });
    }
    for (const timer of Object.values(ctx.timers))
      options.push({
        type: 'timer.fired',
        time,
        data: { task: timer.task, timer: timer.kind, attempt: timer.attempt },
      });
    if (rng() < 0.03) options.push({ type: 'run.cancelled', time, data: {} });
    return options.length === 0 ? null : options[Math.floor(rng() * options.length)]!;
  }

  it("performing each step's effects holds exactly what reconcile from nothing asks for, after every step (live = recovery)", () => {
    for (const compiled of [
      pipeline,
      compile(
        def(`
workflow:
  id: wide
  name: W
  version: 1
  tasks:
    - { id: a, type: SIMPLE, timeout: 1s, retry_policy: { max_attempts: 3, initial_delay: 1s } }
    - { id: b, type: SIMPLE, timeout: 2s }
    - { id: c, type: SIMPLE, retry_policy: { max_attempts: 2, initial_delay: 1s } }
    - { id: gate, type: HUMAN, depends_on: [a, b], timeout: 1m, on_timeout: approve }
    - { id: d, type: SIMPLE, depends_on: [gate, c], optional: true }
`),
      ),
    ]) {
      for (let seed = 1; seed <= 200; seed++) {
        const rng = prng(seed);
        let s = started(compiled);
        const held = { attempts: new Map<string, { attempt: number }>(), timers: new Set<string>() };
        perform(held, s.effects);
        for (let i = 1; i < 40 && s.snapshot.status === 'active'; i++) {
          const input = nextInput(rng, s.snapshot, at(i * 1000));
          if (!input) break;
          s = step(compiled, s.snapshot, s.seq, [input], T0 + i * 1000);
          // An attempt that reported its outcome is no longer held by its executor.
          if (
            (input.type === 'task.completed' || input.type === 'task.failed') &&
            held.attempts.get(input.data.task)?.attempt === input.data.attempt
          )
            held.attempts.delete(input.data.task);
          perform(held, s.effects);
          const fromNothing = { attempts: new Map<string, { attempt: number }>(), timers: new Set<string>() };
          perform(fromNothing, reconcile(compiled, s.snapshot));
          expect(held, `seed ${seed}, step ${i}`).toEqual(fromNothing);
        }
      }
    }
  });
});

describe('reviewApproval: one rule for every path', () => {
  const waiting = () => {
    const s1 = started(pipeline);
    return step(
      pipeline,
      s1.snapshot,
      s1.seq,
      [{ type: 'task.completed', time: at(1), data: { task: 'scan', attempt: 1, output: {} } }],
      T0 + 1,
    ).snapshot;
  };
  const review = (
    snap: RunSnapshot,
    taskId: string,
    by: string,
    extra: { unauthenticated?: boolean; comment?: string } = {},
  ) => reviewApproval(pipeline, snap, { taskId, decision: 'approved', by, time: at(9), ...extra });

  it('accepts an approver of a task that waits, and says when the name was not authenticated', () => {
    expect(review(waiting(), 'sign', 'alice', { comment: 'ok' })).toEqual({
      accepted: true,
      event: {
        type: 'approval.recorded',
        time: at(9),
        data: { task: 'sign', decision: 'approved', by: 'alice', comment: 'ok' },
      },
    });
    expect(review(waiting(), 'sign', 'alice', { unauthenticated: true }).event!.data).toMatchObject({
      unauthenticated: true,
    });
  });

  it("with a level (a users file), asks the task's agent_level, default L0; without one, asks none", () => {
    const byLevel = (level?: 'L0' | 'L1') =>
      reviewApproval(pipeline, waiting(), {
        taskId: 'sign',
        decision: 'approved',
        by: 'alice',
        time: at(9),
        ...(level ? { level } : {}),
      });
    expect(byLevel('L0').accepted).toBe(true);
    expect(byLevel().accepted).toBe(true);
    expect(byLevel('L1')).toMatchObject({
      accepted: false,
      notApprover: true,
      event: {
        type: 'approval.refused',
        data: { by: 'alice', reason: 'alice is L1 (CMD.BRIDGE); approving sign needs L0 (Commander) or higher' },
      },
    });
  });

  it.each([
    ['someone not an approver', 'sign', 'mallory', /mallory may not decide task sign; its approvers are alice/],
  ])('refuses %s, as an approval.refused event with the reason', (_what, taskId, by, reason) => {
    const r = review(waiting(), taskId, by);
    expect(r.accepted).toBe(false);
    expect(r.event).toMatchObject({
      type: 'approval.refused',
      data: { task: taskId, by, decision: 'approved', reason: expect.stringMatching(reason) },
    });
  });

  it.each([
    ['an unknown task', 'nope', /the run has no task "nope"; its HUMAN tasks are sign/],
    [
      'a task that is not HUMAN',
      'scan',
      /task scan is a SIMPLE task; only HUMAN tasks take approvals \(its HUMAN tasks are sign\)/,
    ],
  ])(
    'refuses a decision on %s with no event: it names no HUMAN task of the run, so there is nothing to keep in its history',
    (_what, taskId, reason) => {
      expect(review(waiting(), taskId, 'alice')).toEqual({
        accepted: false,
        reason: expect.stringMatching(reason),
        event: null,
        noTask: true,
      });
    },
  );

  it('refuses a decision before the task waits and after the run settled', () => {
    expect(review(started(pipeline).snapshot, 'sign', 'alice')).toMatchObject({
      accepted: false,
      reason: 'task sign is PENDING, not waiting for approval',
    });
    const s = started(pipeline);
    const cancelled = step(
      pipeline,
      s.snapshot,
      s.seq,
      [{ type: 'run.cancelled', time: at(3), data: {} }],
      T0 + 3,
    ).snapshot;
    // A settled run's history takes no refusal (nothing written), and a person's second refusal on a task is not kept either.
    expect(review(cancelled, 'sign', 'alice')).toEqual({
      accepted: false,
      reason: 'the run is already settled',
      event: null,
    });
    const early = reviewApproval(
      pipeline,
      started(pipeline).snapshot,
      { taskId: 'sign', decision: 'approved', by: 'alice', time: at(2) },
      { refusedBefore: true },
    );
    expect(early).toMatchObject({ accepted: false, event: null, reason: expect.stringContaining('(refused before') });
  });

  it('an outcome naming a loop iteration or a MAP item a plain task does not have is stale, not its result', () => {
    const s = started(pipeline);
    for (const extra of [{ item: 0 }, { iteration: 1 }]) {
      const r = step(
        pipeline,
        s.snapshot,
        s.seq,
        [{ type: 'task.completed', time: at(1), data: { task: 'scan', attempt: 1, ...extra, output: { files: [] } } }],
        T0 + 1,
      );
      expect(r.events).toEqual([]);
      expect(r.stale).toHaveLength(1);
      expect(r.snapshot.context.tasks.scan!.status).toBe('IN_PROGRESS');
    }
    // The same outcome without them is the attempt's.
    const ok = step(
      pipeline,
      s.snapshot,
      s.seq,
      [{ type: 'task.completed', time: at(1), data: { task: 'scan', attempt: 1, output: { files: [] } } }],
      T0 + 1,
    );
    expect(ok.snapshot.context.tasks.scan!.status).toBe('COMPLETED');
  });
});
