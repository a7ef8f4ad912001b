/**
 * The executor contract: one table of scenarios that every executor runs —
 * the local engine over the file store (local.test.ts) and the NATS engines
 * and workers over a real nats-server (nats.test.ts) — as test/store/contract.ts
 * is for stores. Each scenario is written from docs/language.md: YAML
 * definitions in the shape the docs show, and assertions on what a user
 * relies on (final status, outputs, the events in the history, who approved
 * or signalled or paused). A scenario never asks which executor it runs on:
 * where two executors legitimately differ, that difference is a field of
 * `ExecutorTraits`, which the adapter sets.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NonRetryableError } from '../../src/errors/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { replayRun, type Handlers, type RunView, type TaskContext } from '../../src/runtime/index.js';
import type { RunSummary } from '../../src/store/index.js';
import { processGone } from '../helpers/processes.js';
import { gate, untilAborted, waitFor } from '../helpers/wait.js';

/** Where two executors legitimately differ; a scenario reads these, never the executor's name. */
export interface ExecutorTraits {
  /**
   * The `reason` of the task.restarted an attempt lost with the executor gets:
   * 'resumed' where the process that drove the run is started again and
   * resumes it, 'worker_lost' where another worker finds it unfinished.
   */
  restartReason: 'resumed' | 'worker_lost';
  /**
   * Whether a handler still running when its run is cancelled or terminated
   * gets its AbortSignal. In-process it does; a remote worker is told nothing
   * (its attempt's outcome is simply not taken), only its deadline aborts it.
   */
  abortsRunningHandlers: boolean;
  /** The `by` of the task.completed that reports a child run's outcome to its parent: on NATS the engine that saw the child settle; in-process none. */
  childOutcomeBy: string | undefined;
}

/** What one scenario gives the executor: its definitions (YAML, as a user writes them) and the handlers its workers run. */
export interface ScenarioSetup {
  workflows: string[];
  handlers: Handlers;
}

/** One scenario's use of an executor. People are named by the NATS users of nats.conf (alice, bob, commander), who exist on both. */
export interface Session {
  /** Starts a run of the workflow with that id; the executor drives it from then on. */
  start(workflowId: string, input: Record<string, unknown>): Promise<string>;
  /** A decision on a HUMAN task by that person; a refusal throws ApprovalRefusedError (after recording it for the audit trail). */
  decide(runId: string, taskId: string, by: string, decision: 'approved' | 'rejected', comment?: string): Promise<void>;
  /** A signal from that person; one no WAIT takes throws SignalRefusedError and records nothing. */
  signal(runId: string, name: string, by: string, data?: unknown): Promise<void>;
  /** A refusal (settled, already paused) throws PauseRefusedError and records nothing. */
  pause(runId: string, by: string, reason?: string): Promise<void>;
  /** `changed` is false (nothing recorded) when the run was not paused. */
  resume(runId: string, by: string): Promise<{ changed: boolean }>;
  /** `changed` is false (nothing recorded) when the run had settled. */
  cancel(runId: string, by: string, reason?: string): Promise<{ changed: boolean }>;
  /** The run once it has settled, or (`waiting`) also once it waits for a person, a signal or a resume. */
  until(runId: string, what: 'settled' | 'waiting'): Promise<RunView>;
  /** The run as it is now; null for a run that does not exist (yet). */
  status(runId: string): Promise<RunView | null>;
  history(runId: string): Promise<EventEnvelope[]>;
  runs(workflowId: string): Promise<RunSummary[]>;
  /** The executor dies with attempts in flight (nothing more is reported) and is started again. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface Executor {
  traits: ExecutorTraits;
  open(setup: ScenarioSetup): Promise<Session>;
}

const settledIn = (h: EventEnvelope[], type: string, task?: string) =>
  h.filter((e) => e.type === type && (task === undefined || (e.data as { task?: string }).task === task));
const dataOf = (h: EventEnvelope[], type: string, task?: string) => settledIn(h, type, task).map((e) => e.data);

/**
 * Runs the table against an executor. `executor` is called while the
 * describe is collected (it may register beforeAll/afterAll hooks, as
 * useCluster does) and returns the adapter the scenarios use.
 */
export function runExecutorContract(name: string, executor: () => Executor, opts: { skip?: boolean } = {}): void {
  describe.skipIf(opts.skip)(`executor contract: ${name}`, () => {
    const ex = executor();
    const traits = () => ex.traits;

    async function open(setup: ScenarioSetup): Promise<Session> {
      const s = await ex.open(setup);
      onTestFinished(() => s.close());
      return s;
    }
    /** Every run's log replays to the state it recorded. */
    async function replays(s: Session, ...runIds: string[]): Promise<void> {
      for (const runId of runIds) expect(replayRun(await s.history(runId)).divergence, runId).toBeNull();
    }

    describe('retries and backoff', () => {
      const retried = `
workflow:
  id: ct-retry
  name: Retry with backoff
  version: 1
  input: { required: [n] }
  output: { total: "\${add.output.total}" }
  tasks:
    - { id: double, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
    - id: add
      type: SIMPLE
      depends_on: [double]
      input: { n: "\${double.output.n}" }
      retry_policy: { max_attempts: 3, backoff: exponential, initial_delay: 100ms }
`;
      it('retries a failing task by its policy over durable timers, each retry a new attempt with its own key, the delay doubling', async () => {
        const keys: string[] = [];
        const s = await open({
          workflows: [retried],
          handlers: {
            double: (i) => ({ n: Number(i.n) * 2 }),
            add: (i, ctx) => { keys.push(ctx.idempotencyKey); if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`); return { total: Number(i.n) + 1 }; },
          },
        });
        const runId = await s.start('ct-retry', { n: 5 });
        const view = await s.until(runId, 'settled');
        expect(view.status).toBe('COMPLETED');
        expect(view.output).toEqual({ total: 11 });
        expect(view.tasks.add).toMatchObject({ status: 'COMPLETED', attempts: 3 });
        expect(keys).toEqual([`${runId}/add/1`, `${runId}/add/2`, `${runId}/add/3`]);
        const h = await s.history(runId);
        expect(dataOf(h, 'task.failed', 'add')).toMatchObject([{ attempt: 1, error: { message: 'boom 1', retryable: true } }, { attempt: 2, error: { message: 'boom 2' } }]);
        const fired = settledIn(h, 'timer.fired', 'add');
        expect(fired.map((e) => e.data)).toEqual([{ task: 'add', timer: 'backoff', attempt: 1 }, { task: 'add', timer: 'backoff', attempt: 2 }]);
        const failed = settledIn(h, 'task.failed', 'add');
        const gap = (i: number) => Date.parse(fired[i]!.time) - Date.parse(failed[i]!.time);
        expect(gap(0)).toBeGreaterThanOrEqual(100);
        expect(gap(1)).toBeGreaterThanOrEqual(200);
        await replays(s, runId);
      });

      it('fails the run once the attempts are used up, and at once on a NonRetryableError; what depends on the task is skipped', async () => {
        let calls = 0;
        const s = await open({
          workflows: [`
workflow:
  id: ct-exhaust
  name: Exhausted
  version: 1
  input: { required: [mode] }
  tasks:
    - id: fragile
      type: SIMPLE
      input: { mode: "\${workflow.input.mode}" }
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
    - { id: after, type: SIMPLE, depends_on: [fragile] }
`],
          handlers: {
            fragile: (i) => { calls++; if (i.mode === 'bad') throw new NonRetryableError('bad input', 'BAD_INPUT'); throw new Error('always'); },
            after: () => ({}),
          },
        });
        const always = await s.until(await s.start('ct-exhaust', { mode: 'always' }), 'settled');
        expect(always.status).toBe('FAILED');
        expect(always.tasks.fragile).toMatchObject({ status: 'FAILED', attempts: 2, error: { message: 'always', retryable: true } });
        expect(always.tasks.after!.status).toBe('SKIPPED');
        expect(always.error).toMatchObject({ task: 'fragile', message: 'always' });
        expect(calls).toBe(2);
        const bad = await s.until(await s.start('ct-exhaust', { mode: 'bad' }), 'settled');
        expect(bad.status).toBe('FAILED');
        expect(bad.tasks.fragile).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'BAD_INPUT', message: 'bad input', retryable: false } });
        expect(calls).toBe(3);
        await replays(s, always.runId, bad.runId);
      });
    });

    describe('timeouts', () => {
      it('times an attempt out (its handler sees the abort, its late result is not taken) and retries it; a last attempt that times out fails the run TIMED_OUT', async () => {
        const aborted: string[] = [];
        const s = await open({
          workflows: [`
workflow:
  id: ct-timeout
  name: Timeouts
  version: 1
  output: { got: "\${slow.output}" }
  tasks:
    - id: slow
      type: SIMPLE
      timeout: 300ms
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
`, `
workflow:
  id: ct-timeout-once
  name: One attempt that times out
  version: 1
  tasks:
    - { id: stuck, type: SIMPLE, handler: slow, timeout: 300ms }
`],
          handlers: {
            slow: async (_i, ctx) => {
              if (ctx.attempt === 1) { await untilAborted(ctx.signal); aborted.push(ctx.idempotencyKey); return { late: true }; }
              return { fast: true };
            },
          },
        });
        const retried = await s.until(await s.start('ct-timeout', {}), 'settled');
        expect(retried.status).toBe('COMPLETED');
        expect(retried.tasks.slow).toMatchObject({ status: 'COMPLETED', attempts: 2, output: { fast: true } });
        expect(retried.output).toEqual({ got: { fast: true } });
        expect(dataOf(await s.history(retried.runId), 'timer.fired')).toEqual([
          { task: 'slow', timer: 'timeout', attempt: 1 }, { task: 'slow', timer: 'backoff', attempt: 1 },
        ]);

        const once = await s.until(await s.start('ct-timeout-once', {}), 'settled');
        expect(once.status).toBe('FAILED');
        expect(once.tasks.stuck).toMatchObject({ status: 'TIMED_OUT', attempts: 1, output: null });
        expect(once.error).toMatchObject({ task: 'stuck' });
        await waitFor('both first attempts to see their abort', () => aborted.length === 2);
        expect(aborted.sort()).toEqual([`${once.runId}/stuck/1`, `${retried.runId}/slow/1`].sort());
        await replays(s, retried.runId, once.runId);
      });
    });

    describe('approvals and refusals', () => {
      const signOff = `
workflow:
  id: ct-approval
  name: Sign-off
  version: 1
  output: { decided: "\${report.output.decided}" }
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [prepare], approvers: [alice] }
    - { id: report, type: SIMPLE, depends_on: [sign], input: { decision: "\${sign.output.decision}", by: "\${sign.output.by}" } }
`;
      const handlers: Handlers = { prepare: () => ({}), report: (i) => ({ decided: `${String(i.decision)} by ${String(i.by)}` }) };

      it('waits for an approver: one who is not is refused (the refusal kept in the history), the approver\'s decision is the task\'s output', async () => {
        const s = await open({ workflows: [signOff], handlers });
        const runId = await s.start('ct-approval', {});
        const waiting = await s.until(runId, 'waiting');
        expect(waiting.status).toBe('WAITING');
        expect(waiting.tasks.sign!.status).toBe('PENDING_APPROVAL');

        await expect(s.decide(runId, 'sign', 'bob', 'approved')).rejects.toMatchObject({ code: 'LF_APPROVAL_REFUSED', message: expect.stringContaining('bob may not decide task sign') });
        await s.decide(runId, 'sign', 'alice', 'approved', 'ok');
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.tasks.sign).toMatchObject({ status: 'COMPLETED', output: { decision: 'approved', by: 'alice', comment: 'ok' } });
        expect(done.output).toEqual({ decided: 'approved by alice' });
        const h = await s.history(runId);
        expect(dataOf(h, 'approval.refused')).toEqual([expect.objectContaining({ task: 'sign', by: 'bob', reason: expect.stringContaining('bob may not decide task sign') })]);
        expect(dataOf(h, 'approval.recorded')).toEqual([{ task: 'sign', decision: 'approved', by: 'alice', comment: 'ok' }]);
        await replays(s, runId);
      });

      it('a rejection fails the run; a second decision on the task is refused, kept for the audit trail, and changes nothing', async () => {
        const s = await open({ workflows: [signOff], handlers });
        const runId = await s.start('ct-approval', {});
        await s.until(runId, 'waiting');
        await s.decide(runId, 'sign', 'alice', 'rejected', 'not this month');
        const failed = await s.until(runId, 'settled');
        expect(failed.status).toBe('FAILED');
        expect(failed.tasks.sign!.status).toBe('FAILED');
        expect(failed.error).toMatchObject({ code: 'REJECTED', task: 'sign' });
        expect(failed.tasks.report!.status).toBe('SKIPPED');
        const before = (await s.history(runId)).length;
        await expect(s.decide(runId, 'sign', 'alice', 'approved')).rejects.toMatchObject({ code: 'LF_APPROVAL_REFUSED' });
        const h = await waitFor('the refusal in the history', async () => { const all = await s.history(runId); return all.length > before ? all : null; });
        expect(h.slice(before).map((e) => [e.type, (e.data as { by?: string }).by])).toEqual([['approval.refused', 'alice']]);
        expect(h.at(-1)!.state.hash).toBe(h[before - 1]!.state.hash);
        expect(dataOf(h, 'approval.recorded')).toEqual([{ task: 'sign', decision: 'rejected', by: 'alice', comment: 'not this month' }]);
      });

      it('applies on_timeout when nobody decides by the deadline, even for a HUMAN task that waits from the run\'s start', async () => {
        const s = await open({
          workflows: [`
workflow:
  id: ct-deadline
  name: Nobody decides
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice], timeout: 300ms, on_timeout: skip }
    - { id: report, type: SIMPLE, depends_on: [sign], trigger_rule: all_done }
`],
          handlers: { report: () => ({ reported: true }) },
        });
        const runId = await s.start('ct-deadline', {});
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.tasks.sign!.status).toBe('SKIPPED');
        expect(done.tasks.report).toMatchObject({ status: 'COMPLETED', output: { reported: true } });
        expect(dataOf(await s.history(runId), 'timer.fired')).toEqual([expect.objectContaining({ task: 'sign' })]);
        await replays(s, runId);
      });
    });

    describe('signals and WAIT', () => {
      it('a signal sent before its WAIT is reached is kept and taken there, recorded with who sent it; one no WAIT takes is refused and records nothing', async () => {
        const s = await open({
          workflows: [`
workflow:
  id: ct-signal
  name: Signal gate
  version: 1
  output: { ok: "\${use.output.ok}" }
  tasks:
    - { id: cool_down, type: WAIT, duration: 1s }
    - { id: gate, type: WAIT, depends_on: [cool_down], event: release }
    - { id: use, type: SIMPLE, depends_on: [gate], input: { ok: "\${gate.output.ok}" } }
`],
          handlers: { use: (i) => ({ ok: i.ok }) },
        });
        const runId = await s.start('ct-signal', {});
        await expect(s.signal(runId, 'other', 'alice')).rejects.toMatchObject({ code: 'LF_SIGNAL_REFUSED' });
        await expect(s.signal('no-such-run', 'release', 'alice')).rejects.toMatchObject({ code: 'LF_SIGNAL_REFUSED', message: expect.stringContaining('no-such-run') });
        await s.signal(runId, 'release', 'alice', { ok: true });
        const early = await s.status(runId);
        expect(early!.tasks.cool_down!.status).toBe('WAITING');
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.tasks.gate).toMatchObject({ status: 'COMPLETED', output: { ok: true } });
        expect(done.tasks.cool_down!.output).toEqual({ waitedUntil: expect.any(String) });
        expect(done.output).toEqual({ ok: true });
        const h = await s.history(runId);
        expect(dataOf(h, 'signal.received')).toEqual([{ name: 'release', data: { ok: true }, by: 'alice' }]);
        expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'cool_down', timer: 'wait', attempt: 1 }]);
        await expect(s.signal(runId, 'release', 'alice')).rejects.toThrow(/already COMPLETED/);
        expect(await s.history(runId)).toHaveLength(h.length);
        await replays(s, runId);
      });

      it('an until in the past fires at once, a malformed one fails with LF_WAIT_UNTIL_INVALID; an event wait past its timeout is skipped with on_timeout: skip', async () => {
        const s = await open({
          workflows: [`
workflow:
  id: ct-wait-kinds
  name: Until and timeouts
  version: 1
  input: { required: [at] }
  tasks:
    - { id: hold, type: WAIT, until: "\${workflow.input.at}" }
    - { id: ping, type: WAIT, depends_on: [hold], event: ping, timeout: 200ms, on_timeout: skip }
`],
          handlers: {},
        });
        const past = await s.until(await s.start('ct-wait-kinds', { at: '2020-01-01T00:00:00Z' }), 'settled');
        expect(past.status).toBe('COMPLETED');
        expect(past.tasks.hold).toMatchObject({ status: 'COMPLETED', output: { waitedUntil: '2020-01-01T00:00:00.000Z' } });
        expect(past.tasks.ping!.status).toBe('SKIPPED');
        const bad = await s.until(await s.start('ct-wait-kinds', { at: 'next tuesday' }), 'settled');
        expect(bad.status).toBe('FAILED');
        expect(bad.tasks.hold!.error).toMatchObject({ code: 'LF_WAIT_UNTIL_INVALID', message: expect.stringContaining('"next tuesday"') });
        expect(bad.error).toMatchObject({ code: 'LF_WAIT_UNTIL_INVALID', task: 'hold' });
        await replays(s, past.runId, bad.runId);
      });
    });

    describe('pause, resume and cancel', () => {
      it('pause: the running attempt finishes and is recorded, nothing new starts; a second pause is refused; resume starts what was scheduled, in one commit', async () => {
        const calls: string[] = [];
        const held = gate();
        onTestFinished(() => held.open());
        const s = await open({
          workflows: [`
workflow:
  id: ct-pausable
  name: Pausable
  version: 1
  tasks:
    - { id: first, type: SIMPLE }
    - { id: left, type: SIMPLE, depends_on: [first] }
    - { id: right, type: SIMPLE, depends_on: [first] }
`],
          handlers: {
            first: async () => { calls.push('first'); await held.opened; return { ok: true }; },
            left: () => { calls.push('left'); return {}; },
            right: () => { calls.push('right'); return {}; },
          },
        });
        const runId = await s.start('ct-pausable', {});
        await waitFor('first to be running', () => calls.includes('first'));
        await s.pause(runId, 'commander', 'maintenance');
        expect((await s.status(runId))!.status).toBe('PAUSED');
        await expect(s.pause(runId, 'commander')).rejects.toMatchObject({ code: 'LF_PAUSE_REFUSED', message: expect.stringMatching(/already paused; nothing was recorded/) });
        held.open();
        const paused = await waitFor('first to be recorded as completed', async () => {
          const h = await s.history(runId);
          return settledIn(h, 'task.completed', 'first').length > 0 ? h : null;
        });
        expect(paused.map((e) => e.type)).toEqual(['run.started', 'task.started', 'run.paused', 'task.completed']);
        expect(paused.at(-1)!.state.status).toBe('PAUSED');
        const view = await s.until(runId, 'waiting');
        expect(view.status).toBe('PAUSED');
        expect(view.tasks.left!.status).toBe('SCHEDULED');
        expect(calls).toEqual(['first']);

        expect(await s.resume(runId, 'commander')).toEqual({ changed: true });
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(calls.sort()).toEqual(['first', 'left', 'right']);
        const h = await s.history(runId);
        expect(dataOf(h, 'run.paused')).toEqual([{ by: 'commander', reason: 'maintenance' }]);
        expect(dataOf(h, 'run.resumed')).toEqual([{ by: 'commander' }]);
        const types = h.map((e) => (e.type === 'task.started' ? `started ${e.data.task}` : e.type));
        const at = types.indexOf('run.resumed');
        expect(types.slice(at, at + 3)).toEqual(['run.resumed', 'started left', 'started right']);
        expect(await s.resume(runId, 'commander')).toEqual({ changed: false });
        await expect(s.pause(runId, 'commander')).rejects.toThrow(/already COMPLETED; nothing was recorded/);
        expect(await s.history(runId)).toHaveLength(h.length);
        await replays(s, runId);
      });

      it('cancel while an attempt runs: recorded with who and why, the run and its unsettled tasks CANCELLED, nothing else runs; a settled run is not cancelled again', async () => {
        let running = false;
        let aborted = '';
        let nextRan = false;
        const held = gate();
        onTestFinished(() => held.open());
        const s = await open({
          workflows: [`
workflow:
  id: ct-cancel
  name: Cancellable
  version: 1
  tasks:
    - { id: long, type: SIMPLE }
    - { id: next, type: SIMPLE, depends_on: [long] }
`],
          handlers: {
            long: async (_i, ctx) => { running = true; await Promise.race([untilAborted(ctx.signal).then(() => { aborted = String(ctx.signal.reason); }), held.opened]); return {}; },
            next: () => { nextRan = true; return {}; },
          },
        });
        const runId = await s.start('ct-cancel', {});
        await waitFor('long to be running', () => running);
        expect(await s.cancel(runId, 'commander', 'obsolete')).toEqual({ changed: true });
        const view = await s.until(runId, 'settled');
        expect(view.status).toBe('CANCELLED');
        expect(view.tasks.long!.status).toBe('CANCELLED');
        expect(view.tasks.next!.status).toBe('CANCELLED');
        if (traits().abortsRunningHandlers) expect(await waitFor('the running handler to see its abort', () => aborted)).toContain('CANCELLED');
        held.open();
        const h = await s.history(runId);
        expect(dataOf(h, 'run.cancelled')).toEqual([{ by: 'commander', reason: 'obsolete' }]);
        expect(await s.cancel(runId, 'commander')).toEqual({ changed: false });
        expect(await s.history(runId)).toHaveLength(h.length);
        expect(nextRan).toBe(false);
        await replays(s, runId);
      });

      it('a paused run can be cancelled', async () => {
        const held = gate();
        onTestFinished(() => held.open());
        let running = false;
        const s = await open({
          workflows: [`
workflow:
  id: ct-pause-cancel
  name: Paused, then cancelled
  version: 1
  tasks:
    - { id: long, type: SIMPLE }
`],
          handlers: { long: async (_i, ctx) => { running = true; await Promise.race([untilAborted(ctx.signal), held.opened]); return {}; } },
        });
        const runId = await s.start('ct-pause-cancel', {});
        await waitFor('long to be running', () => running);
        await s.pause(runId, 'commander');
        expect(await s.cancel(runId, 'commander', 'paused for good')).toEqual({ changed: true });
        const view = await s.until(runId, 'settled');
        expect(view.status).toBe('CANCELLED');
        expect((await s.history(runId)).map((e) => e.type).filter((t) => t.startsWith('run.'))).toEqual(['run.started', 'run.paused', 'run.cancelled']);
        await replays(s, runId);
      });
    });

    describe('SUB_WORKFLOW, EMIT and failure workflows', () => {
      const child = `
workflow:
  id: ct-child
  name: Child
  version: 1
  input: { required: [n] }
  output: { total: "\${double.output.total}" }
  tasks:
    - { id: double, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`;
      const parent = `
workflow:
  id: ct-parent
  name: Parent
  version: 1
  input: { required: [n] }
  output: { total: "\${call.output.total}" }
  failure_workflow:
    id: ct-on-failure
    input: { note: "n was \${workflow.input.n}" }
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: ct-child
      input: { n: "\${workflow.input.n}" }
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
    - id: announce
      type: EMIT
      depends_on: [call]
      event: ct_doubled
      data: { total: "\${call.output.total}" }
    - id: shout
      type: EMIT
      depends_on: [announce]
      event: ct_nobody
      data: {}
`;
      const listener = `
workflow:
  id: ct-listener
  name: Listener
  version: 1
  input: { required: [total] }
  output: { seen: "\${workflow.input.total}" }
  triggers:
    - event: ct_doubled
      input: { total: "\${event.data.total}" }
  tasks:
    - { id: note, type: SIMPLE, input: { total: "\${workflow.input.total}" } }
`;
      const onFailure = `
workflow:
  id: ct-on-failure
  name: On failure
  version: 1
  input: { required: [failedRunId, failedTask, error, note] }
  output: { got: "\${workflow.input.note}" }
  tasks:
    - { id: note, type: SIMPLE, input: { total: 0 } }
`;
      /** `double` fails its first call (retryable), and always for a negative n (not retryable). */
      function doubling() {
        let calls = 0;
        const handlers: Handlers = {
          double: (i) => {
            calls++;
            if (Number(i.n) < 0) throw new NonRetryableError('negative', 'NEGATIVE');
            if (calls === 1) throw new Error('flaky');
            return { total: Number(i.n) * 2 };
          },
          note: (i) => ({ total: i.total }),
        };
        return { handlers, calls: () => calls };
      }

      it('runs the child under <runId>-<task>-<attempt> (a retry starts a new child), takes its output, links both ways; EMIT starts the runs its event triggers, once', async () => {
        const s = await open({ workflows: [parent, child, listener, onFailure], ...doubling() });
        const runId = await s.start('ct-parent', { n: 21 });
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.output).toEqual({ total: 42 });
        const [first, second] = [`${runId}-call-1`, `${runId}-call-2`];
        expect(done.tasks.call).toMatchObject({ status: 'COMPLETED', attempts: 2, output: { total: 42 }, child: second });
        expect((await s.status(first))!).toMatchObject({ status: 'FAILED', error: { message: 'flaky', retryable: true } });
        const started = (await s.history(second))[0]!;
        expect(started.type === 'run.started' && started.data.source?.parent).toEqual({ runId, workflowId: 'ct-parent', task: 'call', attempt: 2, depth: 1 });
        expect(dataOf(await s.history(runId), 'task.completed', 'call')).toEqual([{ task: 'call', attempt: 2, output: { total: 42 }, ...(traits().childOutcomeBy ? { by: traits().childOutcomeBy } : {}) }]);
        expect((await s.runs('ct-child')).find((r) => r.runId === second)?.parent).toEqual({ runId, task: 'call' });

        const announce = done.tasks.announce!.output as { event: string; eventId: string; runs: { runId: string; workflowId: string }[] };
        expect(announce).toMatchObject({ event: 'ct_doubled', eventId: `${runId}/announce/1`, runs: [{ workflowId: 'ct-listener' }] });
        expect(await s.until(announce.runs[0]!.runId, 'settled')).toMatchObject({ status: 'COMPLETED', output: { seen: 42 } });
        expect(done.tasks.shout!.output).toMatchObject({ event: 'ct_nobody', runs: [], note: 'no workflow triggers on ct_nobody: no run started' });
        expect(await s.runs('ct-listener')).toHaveLength(1);
        expect(await s.status(`${runId}-failure`)).toBeNull();
        await replays(s, runId, first, second, announce.runs[0]!.runId);
      });

      it("fails the task with the child's error (not retried when the child's was not), then starts the failure workflow once, with failedRunId, failedTask and error", async () => {
        const d = doubling();
        const s = await open({ workflows: [parent, child, listener, onFailure], handlers: d.handlers });
        const runId = await s.start('ct-parent', { n: -1 });
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('FAILED');
        expect(done.tasks.call).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'NEGATIVE', retryable: false } });
        expect(done.tasks.call!.error!.message).toContain(`sub-workflow ct-child (run ${runId}-call-1) failed at task double: negative`);
        expect(done.tasks.announce!.status).toBe('SKIPPED');
        const failureId = `${runId}-failure`;
        const failure = await waitFor('the failure workflow to complete', async () => { const v = await s.status(failureId); return v?.status === 'COMPLETED' ? v : null; });
        expect(failure.output).toEqual({ got: 'n was -1' });
        const started = (await s.history(failureId))[0]!;
        expect(started.type === 'run.started' && started.data.input).toMatchObject({ failedRunId: runId, failedTask: 'call', error: { code: 'NEGATIVE' }, note: 'n was -1' });
        expect(started.type === 'run.started' && started.data.source?.parent).toMatchObject({ runId, relation: 'failure' });
        expect(await s.runs('ct-on-failure')).toHaveLength(1);
        await replays(s, runId, failureId);
      });

      const person = `
workflow:
  id: ct-person
  name: Waits for a person
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`;
      it('a SUB_WORKFLOW attempt that times out cancels its child; cancelling a parent cancels its child too', async () => {
        const s = await open({
          workflows: [person, `
workflow:
  id: ct-slow-parent
  name: Gives its child a deadline
  version: 1
  tasks:
    - { id: call, type: SUB_WORKFLOW, workflow: ct-person, timeout: 500ms }
`, `
workflow:
  id: ct-patient-parent
  name: Waits for its child
  version: 1
  tasks:
    - { id: call, type: SUB_WORKFLOW, workflow: ct-person }
`],
          handlers: {},
        });
        const slow = await s.until(await s.start('ct-slow-parent', {}), 'settled');
        expect(slow.status).toBe('FAILED');
        expect(slow.tasks.call!.status).toBe('TIMED_OUT');
        await waitFor('the timed-out child to be cancelled', async () => (await s.status(`${slow.runId}-call-1`))?.status === 'CANCELLED');

        const runId = await s.start('ct-patient-parent', {});
        const childId = `${runId}-call-1`;
        await waitFor('the child to wait for its approval', async () => (await s.status(childId))?.status === 'WAITING');
        expect(await s.cancel(runId, 'commander', 'not needed')).toEqual({ changed: true });
        expect((await s.until(runId, 'settled')).status).toBe('CANCELLED');
        await waitFor('the child to be cancelled', async () => (await s.status(childId))?.status === 'CANCELLED');
        expect(dataOf(await s.history(childId), 'run.cancelled')).toEqual([expect.objectContaining({ by: `run ${runId}` })]);
        expect(dataOf(await s.history(runId), 'run.cancelled')).toEqual([{ by: 'commander', reason: 'not needed' }]);
        await replays(s, slow.runId, runId, childId);
      });

      it('failure_workflow { steps }: skipped when the run does not fail; on a failure pending tasks are skipped, running ones finish, the steps run, the run keeps the first error', async () => {
        const ran: string[] = [];
        let fail = false;
        const slowDone = gate();
        onTestFinished(() => slowDone.open());
        const h = (id: string) => () => { ran.push(id); return {}; };
        const s = await open({
          workflows: [`
workflow:
  id: ct-steps
  name: With failure steps
  version: 1
  failure_workflow:
    steps: [log_incident, notify]
  tasks:
    - { id: work, type: SIMPLE }
    - { id: slow, type: SIMPLE }
    - { id: after, type: SIMPLE, depends_on: [work] }
    - { id: log_incident, type: SIMPLE }
    - { id: notify, type: SIMPLE, depends_on: [log_incident] }
`],
          handlers: {
            work: () => { if (fail) throw new NonRetryableError('broken', 'BROKEN'); ran.push('work'); return {}; },
            slow: async () => { if (fail) await slowDone.opened; ran.push('slow'); return { finished: true }; },
            after: h('after'),
            log_incident: () => { ran.push('log_incident'); slowDone.open(); return {}; },
            notify: () => { ran.push('notify'); throw new NonRetryableError('pager down', 'PAGER'); },
          },
        });
        const ok = await s.until(await s.start('ct-steps', {}), 'settled');
        expect(ok.status).toBe('COMPLETED');
        expect(ok.tasks.log_incident!.status).toBe('SKIPPED');
        expect(ok.tasks.notify!.status).toBe('SKIPPED');
        expect(ran.sort()).toEqual(['after', 'slow', 'work']);

        ran.length = 0;
        fail = true;
        const failed = await s.until(await s.start('ct-steps', {}), 'settled');
        expect(failed.status).toBe('FAILED');
        expect(failed.error).toMatchObject({ code: 'BROKEN', task: 'work' });
        expect(failed.tasks.after!.status).toBe('SKIPPED');
        expect(failed.tasks.slow).toMatchObject({ status: 'COMPLETED', output: { finished: true } });
        expect(failed.tasks.log_incident!.status).toBe('COMPLETED');
        expect(failed.tasks.notify!.status).toBe('FAILED');
        expect(ran[0]).toBe('log_incident');
        expect(ran.sort()).toEqual(['log_incident', 'notify', 'slow']);
        await replays(s, ok.runId, failed.runId);
      });
    });

    describe('MAP', () => {
      it('runs the handler once per item with ${item} and ${index}, never more than max_concurrency at once, retrying an item alone; results in item order', async () => {
        let inFlight = 0;
        let most = 0;
        const keys: string[] = [];
        const threeInFlight = gate();
        onTestFinished(() => threeInFlight.open());
        const s = await open({
          workflows: [`
workflow:
  id: ct-map
  name: Fan out
  version: 1
  input: { required: [folders] }
  output: { scans: "\${scan_each.output.results}" }
  tasks:
    - id: scan_each
      type: MAP
      items: "\${workflow.input.folders}"
      handler: scan_folder
      input: { path: "\${item}", position: "\${index}" }
      max_concurrency: 3
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
    - id: total
      type: SIMPLE
      depends_on: [scan_each]
      input: { results: "\${scan_each.output.results}" }
`],
          handlers: {
            scan_folder: async (i, ctx) => {
              keys.push(ctx.idempotencyKey);
              inFlight++;
              most = Math.max(most, inFlight);
              if (inFlight === 3) threeInFlight.open();
              try {
                // The first items are held until the limit is reached, so that the run really has items side by side.
                await threeInFlight.opened;
                if (i.path === '/flaky' && ctx.attempt === 1) throw new Error('first try fails');
                return { path: i.path, at: i.position, item: ctx.item };
              } finally { inFlight--; }
            },
            total: (i) => ({ n: (i.results as unknown[]).length }),
          },
        });
        const folders = Array.from({ length: 8 }, (_, i) => (i === 5 ? '/flaky' : `/f${i}`));
        const runId = await s.start('ct-map', { folders });
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.output).toEqual({ scans: folders.map((path, at) => ({ path, at, item: at })) });
        expect(done.tasks.total!.output).toEqual({ n: 8 });
        expect(most).toBe(3);
        expect(keys.filter((k) => k.startsWith(`${runId}/scan_each[5]/`))).toEqual([`${runId}/scan_each[5]/1`, `${runId}/scan_each[5]/2`]);
        expect(keys).toHaveLength(9);
        const h = await s.history(runId);
        expect(settledIn(h, 'task.completed', 'scan_each')).toHaveLength(8);
        expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'scan_each', timer: 'backoff', attempt: 1, item: 5 }]);
        await replays(s, runId);
      });

      it('tolerate_failures keeps null results for failed items; more failures fail the MAP once the items in flight settle, the rest SKIPPED; an empty list completes, a non-list fails', async () => {
        const started: number[] = [];
        let s!: Session;
        const map = (id: string, extra: string) => `
workflow:
  id: ${id}
  name: Fan out
  version: 1
  input: { required: [folders] }
  output: { fetched: "\${fetch_all.output.results}" }
  tasks:
    - id: fetch_all
      type: MAP
      items: "\${workflow.input.folders}"
      handler: fetch
      input: { folder: "\${item}" }
      ${extra}
`;
        s = await open({
          workflows: [map('ct-map-tolerant', 'tolerate_failures: 1'), map('ct-map-strict', 'max_concurrency: 2')],
          handlers: {
            fetch: async (i, ctx) => {
              started.push(ctx.item!);
              if (i.folder === 'unreadable') throw new NonRetryableError(`folder ${ctx.item} is unreadable`, 'BAD');
              // In the strict run item 1 settles after item 0 failed: it was in flight then, and finishes.
              if (i.folder === 'late') await waitFor('item 0 to fail', async () => settledIn(await s.history(ctx.runId), 'task.failed').length > 0);
              return { i: ctx.item };
            },
          },
        });
        const tolerant = await s.until(await s.start('ct-map-tolerant', { folders: ['a', 'unreadable', 'c'] }), 'settled');
        expect(tolerant.status).toBe('COMPLETED');
        expect(tolerant.output).toEqual({ fetched: [{ i: 0 }, null, { i: 2 }] });

        started.length = 0;
        const strict = await s.until(await s.start('ct-map-strict', { folders: ['unreadable', 'late', 'x', 'y', 'z'] }), 'settled');
        expect(strict.status).toBe('FAILED');
        expect(strict.tasks.fetch_all!.error).toMatchObject({ code: 'LF_MAP_ITEMS_FAILED', message: expect.stringContaining('fetch_all[0]: folder 0 is unreadable') });
        expect(strict.tasks.fetch_all!.items!.map((i) => i.status)).toEqual(['FAILED', 'COMPLETED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
        expect(started.sort()).toEqual([0, 1]);

        const empty = await s.until(await s.start('ct-map-tolerant', { folders: [] }), 'settled');
        expect(empty).toMatchObject({ status: 'COMPLETED', output: { fetched: [] } });
        const notAList = await s.until(await s.start('ct-map-tolerant', { folders: { a: 1 } }), 'settled');
        expect(notAList.status).toBe('FAILED');
        expect(notAList.tasks.fetch_all!.error).toMatchObject({ code: 'LF_MAP_ITEMS_NOT_A_LIST', message: expect.stringContaining('gave an object, not a list') });
        await replays(s, tolerant.runId, strict.runId, empty.runId, notAList.runId);
      });

      it('an iterator task is the body (its own entry mirrors the MAP); a workflow body runs a child run per item, named <runId>-<map>-m<i>-<attempt>', async () => {
        const s = await open({
          workflows: [`
workflow:
  id: ct-map-bodies
  name: Iterator and workflow bodies
  version: 1
  input: { required: [ns] }
  output: { doubled: "\${each_child.output.results}", squared: "\${each.output.results}" }
  tasks:
    - { id: each, type: MAP, items: "\${workflow.input.ns}", iterator: square }
    - { id: square, type: SIMPLE, input: { n: "\${item}" } }
    - { id: each_child, type: MAP, items: "\${workflow.input.ns}", workflow: ct-map-child, input: { n: "\${item}" }, max_concurrency: 2 }
`, `
workflow:
  id: ct-map-child
  name: Child per item
  version: 1
  input: { required: [n] }
  output: { total: "\${twice.output.total}" }
  tasks:
    - { id: twice, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`],
          handlers: { square: (i) => ({ sq: Number(i.n) ** 2 }), twice: (i) => ({ total: Number(i.n) * 2 }) },
        });
        const runId = await s.start('ct-map-bodies', { ns: [1, 2, 3] });
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.output).toEqual({ squared: [{ sq: 1 }, { sq: 4 }, { sq: 9 }], doubled: [{ total: 2 }, { total: 4 }, { total: 6 }] });
        expect(done.tasks.square).toMatchObject({ status: 'COMPLETED', output: { results: [{ sq: 1 }, { sq: 4 }, { sq: 9 }] } });
        for (const i of [0, 1, 2]) {
          const childId = `${runId}-each_child-m${i}-1`;
          const started = (await s.history(childId))[0]!;
          expect(started.type === 'run.started' && started.data.source?.parent).toMatchObject({ runId, task: 'each_child', item: i, attempt: 1 });
          await replays(s, childId);
        }
        expect(dataOf(await s.history(runId), 'task.completed', 'each_child').map((d) => (d as { item?: number }).item).sort()).toEqual([0, 1, 2]);
        await replays(s, runId);
      });
    });

    describe('DO_WHILE', () => {
      it('runs the body once per iteration (keys check#i), retrying inside an iteration; what waits for the loop, a DECISION and the output read the last iteration', async () => {
        const keys: string[] = [];
        const s = await open({
          workflows: [`
workflow:
  id: ct-poll
  name: Poll until ready
  version: 1
  output: { rounds: "\${wait_ready.output.iteration}", last: "\${check.output.round}" }
  tasks:
    - { id: submit, type: SIMPLE }
    - id: wait_ready
      type: DO_WHILE
      depends_on: [submit]
      loop_over: [check, note]
      loop_condition: "check.output.round < 3"
      max_iterations: 5
    - id: check
      type: SIMPLE
      input: { round: "\${wait_ready.output.iteration}", previous: "\${check.output.round}" }
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 100ms }
    - { id: note, type: SIMPLE, depends_on: [check], input: { seen: "\${check.output.round}" } }
    - { id: publish, type: SIMPLE, depends_on: [wait_ready], input: { last: "\${check.output.round}" } }
    - id: route
      type: DECISION
      depends_on: [wait_ready]
      decision_cases: { third: { condition: "check.output.round == 3", next: [announce] } }
    - { id: announce, type: SIMPLE, handler: publish, input: { last: "\${check.output.round}" } }
`],
          handlers: {
            submit: () => ({}),
            check: (i, ctx) => {
              keys.push(`${ctx.idempotencyKey} iteration ${ctx.iteration} previous ${String(i.previous)}`);
              if (ctx.iteration === 2 && ctx.attempt === 1) throw new Error('not yet reachable');
              return { round: Number(i.round) };
            },
            note: (i) => ({ noted: i.seen }),
            publish: (i) => ({ last: i.last }),
          },
        });
        const runId = await s.start('ct-poll', {});
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(keys).toEqual([
          `${runId}/check#1/1 iteration 1 previous undefined`, `${runId}/check#2/1 iteration 2 previous 1`,
          `${runId}/check#2/2 iteration 2 previous 1`, `${runId}/check#3/1 iteration 3 previous 2`,
        ]);
        expect(done.tasks.wait_ready).toMatchObject({ status: 'COMPLETED', output: {
            iteration: 3,
            iterations: [1, 2, 3].map((round) => ({ check: { round }, note: { noted: round } })),
          } });
        expect(done.tasks.publish!.output).toEqual({ last: 3 });
        expect(done.tasks.route!.output).toMatchObject({ case: 'third' });
        expect(done.tasks.announce!.output).toEqual({ last: 3 });
        expect(done.output).toEqual({ rounds: 3, last: 3 });
        const h = await s.history(runId);
        expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'check', timer: 'backoff', attempt: 1, iteration: 2 }]);
        expect(dataOf(h, 'task.started', 'check').map((d) => (d as { iteration?: number }).iteration)).toEqual([1, 2, 2, 3]);
        await replays(s, runId);
      });

      it('fails with LF_LOOP_LIMIT naming the limit when the condition still holds after max_iterations; a failing body task fails the loop, naming its iteration', async () => {
        let calls = 0;
        const s = await open({
          workflows: [`
workflow:
  id: ct-loop-fails
  name: Loops that fail
  version: 1
  input: { required: [break_at] }
  tasks:
    - id: wait_ready
      type: DO_WHILE
      loop_over: [probe, note]
      loop_condition: "probe.output.ready == false"
      max_iterations: 3
    - { id: probe, type: SIMPLE, input: { break_at: "\${workflow.input.break_at}", round: "\${wait_ready.output.iteration}" } }
    - { id: note, type: SIMPLE, depends_on: [probe] }
    - { id: publish, type: SIMPLE, depends_on: [wait_ready] }
`],
          handlers: {
            probe: (i) => { calls++; if (i.round === i.break_at) throw new NonRetryableError('probe broke'); return { ready: false }; },
            note: () => ({}),
            publish: () => ({}),
          },
        });
        const limit = await s.until(await s.start('ct-loop-fails', { break_at: 0 }), 'settled');
        expect(limit.status).toBe('FAILED');
        expect(calls).toBe(3);
        expect(limit.tasks.wait_ready).toMatchObject({ status: 'FAILED', error: { code: 'LF_LOOP_LIMIT', message: expect.stringContaining('max_iterations (3)') } });
        expect(limit.error).toMatchObject({ code: 'LF_LOOP_LIMIT', task: 'wait_ready' });
        expect(limit.tasks.publish!.status).toBe('SKIPPED');

        const broken = await s.until(await s.start('ct-loop-fails', { break_at: 2 }), 'settled');
        expect(broken.status).toBe('FAILED');
        expect(broken.tasks.wait_ready!.error!.message).toContain('probe#2 failed: probe broke');
        expect(broken.error).toMatchObject({ task: 'wait_ready' });
        expect(broken.tasks.probe!.status).toBe('FAILED');
        expect(broken.tasks.note!.status).toBe('SKIPPED');
        await replays(s, limit.runId, broken.runId);
      });
    });

    describe('COMMAND tasks', () => {
      const pids = join(mkdtempSync(join(tmpdir(), 'lf-contract-cmd-')), 'pids');
      const commands = `
workflow:
  id: ct-commands
  name: Commands
  version: 1
  input: { required: [name] }
  output: { line: "\${shout.output.line}", count: "\${count.output.n}" }
  tasks:
    - id: shout
      type: COMMAND
      command: [node, -e, "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.stringify({ line: process.argv[1].toUpperCase() + ' ' + JSON.parse(s).suffix, run: process.env.LF_RUN_ID, key: process.env.LF_IDEMPOTENCY_KEY, mode: process.env.MODE })))", "\${workflow.input.name}"]
      env: { MODE: "m-\${workflow.input.name}" }
      input: { suffix: "!" }
    - id: count
      type: SIMPLE
      depends_on: [shout]
      input: { line: "\${shout.output.line}" }
`;
      const failing = `
workflow:
  id: ct-command-failures
  name: Commands that fail
  version: 1
  input: { required: [kind] }
  tasks:
    - id: route
      type: DECISION
      decision_param: "\${workflow.input.kind}"
      decision_cases: { exit: { next: [flaky] }, missing: { next: [scan] }, hang: { next: [hang] } }
    - id: flaky
      type: COMMAND
      command: [sh, -c, 'echo "attempt $LF_ATTEMPT: upstream refused" >&2; exit 7']
      retry_policy: { max_attempts: 2, initial_delay: 0 }
    - id: scan
      type: COMMAND
      command: [no-such-scanner-lf, --all]
      retry_policy: { max_attempts: 3, initial_delay: 0 }
    - id: hang
      type: COMMAND
      command: [sh, -c, 'sleep 300 & echo "$$ $!" > "$0"; wait', "${pids}"]
      timeout: 1s
`;

      it('runs the command resolved from templates, its input on stdin and the LF_ variables set, next to a handler task; a NUL from a template fails it, not retried', async () => {
        const s = await open({ workflows: [commands], handlers: { count: (i) => ({ n: String(i.line).length }) } });
        const runId = await s.start('ct-commands', { name: 'ada; rm -rf /' });
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.tasks.shout!.output).toEqual({ line: 'ADA; RM -RF / !', run: runId, key: `${runId}/shout/1`, mode: 'm-ada; rm -rf /' });
        expect(done.output).toEqual({ line: 'ADA; RM -RF / !', count: 15 });

        const nul = await s.until(await s.start('ct-commands', { name: 'a\0b' }), 'settled');
        expect(nul.status).toBe('FAILED');
        expect(nul.tasks.shout).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'LF_NUL_CHARACTER', retryable: false } });
        expect(nul.tasks.shout!.error!.message).toMatch(/^task shout: command\[3\] resolves to a value with a NUL character/);
        await replays(s, runId, nul.runId);
      });

      it('a non-zero exit is retried with the stderr tail of each attempt; a missing program fails at once; a timed-out command dies with its grandchild', async () => {
        const s = await open({ workflows: [failing], handlers: {} });
        const exit = await s.until(await s.start('ct-command-failures', { kind: 'exit' }), 'settled');
        expect(exit.tasks.flaky).toMatchObject({ status: 'FAILED', attempts: 2, error: { code: 'LF_COMMAND_EXIT', retryable: true } });
        expect(dataOf(await s.history(exit.runId), 'task.failed').map((d) => (d as { error: { message: string } }).error.message)).toEqual([
          'command sh exited with code 7; stderr (last 2000 bytes at most): attempt 1: upstream refused',
          'command sh exited with code 7; stderr (last 2000 bytes at most): attempt 2: upstream refused',
        ]);
        const missing = await s.until(await s.start('ct-command-failures', { kind: 'missing' }), 'settled');
        expect(missing.tasks.scan).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'LF_COMMAND_NOT_FOUND', retryable: false } });
        expect(missing.tasks.scan!.error!.message).toMatch(/program "no-such-scanner-lf" was not found on PATH/);

        const hang = await s.until(await s.start('ct-command-failures', { kind: 'hang' }), 'settled');
        expect(hang.tasks.hang!.status).toBe('TIMED_OUT');
        const [shell, sleeper] = (await waitFor('the pids the command wrote', () => readPids(pids))).split(' ').map(Number);
        await waitFor('the command and its grandchild to be gone', () => processGone(shell!) && processGone(sleeper!), { timeout: 15_000 });
        await replays(s, exit.runId, missing.runId, hang.runId);
      });
    });

    describe('TERMINATE and SET', () => {
      const terminating = (status: 'COMPLETED' | 'FAILED') => `
workflow:
  id: ct-terminate-${status.toLowerCase()}
  name: Terminate
  version: 1
  output: { checked: "\${check.output.why}", region: "\${workflow.variables.region}" }
  tasks:
    - { id: slow, type: SIMPLE }
    - { id: check, type: SIMPLE }
    - { id: remember, type: SET, depends_on: [check], values: { region: "\${check.output.region}" } }
    - { id: stop, type: TERMINATE, depends_on: [remember], status: ${status}, reason: "stopped: \${check.output.why} in \${workflow.variables.region}" }
    - { id: later, type: SIMPLE, depends_on: [stop] }
`;
      it('ends the run at once with its status and reason: running tasks CANCELLED, pending ones SKIPPED, the output mapped; SET variables are read after it', async () => {
        let slowAborted = 0;
        let laterRan = false;
        const held = gate();
        onTestFinished(() => held.open());
        const s = await open({
          workflows: [terminating('FAILED'), terminating('COMPLETED')],
          handlers: {
            slow: async (_i, ctx) => { await Promise.race([untilAborted(ctx.signal).then(() => { slowAborted++; }), held.opened]); return {}; },
            check: () => ({ why: 'nothing to do', region: 'eu' }),
            later: () => { laterRan = true; return {}; },
          },
        });
        const failed = await s.until(await s.start('ct-terminate-failed', {}), 'settled');
        expect(failed.status).toBe('FAILED');
        expect(failed.error).toEqual({ code: 'LF_TERMINATED', retryable: false, message: 'stopped: nothing to do in eu', task: 'stop' });
        expect(failed.tasks.stop).toMatchObject({ status: 'COMPLETED', output: { status: 'FAILED', reason: 'stopped: nothing to do in eu' } });
        expect(failed.tasks.remember).toMatchObject({ status: 'COMPLETED', output: { region: 'eu' } });
        expect(failed.variables).toEqual({ region: 'eu' });
        expect(failed.tasks.slow!.status).toBe('CANCELLED');
        expect(failed.tasks.later!.status).toBe('SKIPPED');
        expect(failed.output).toEqual({ checked: 'nothing to do', region: 'eu' });

        const completed = await s.until(await s.start('ct-terminate-completed', {}), 'settled');
        expect(completed.status).toBe('COMPLETED');
        expect(completed.error).toBeNull();
        expect(completed.output).toEqual({ checked: 'nothing to do', region: 'eu' });
        expect(completed.tasks.slow!.status).toBe('CANCELLED');
        expect(completed.tasks.later!.status).toBe('SKIPPED');
        expect(laterRan).toBe(false);
        if (traits().abortsRunningHandlers) await waitFor('both slow handlers to see their abort', () => slowAborted === 2);
        await replays(s, failed.runId, completed.runId);
      });
    });

    describe('restarts', () => {
      it('an attempt in flight when the executor dies runs again as the same attempt (same key, no retry used), recorded as task.restarted; what completed does not run again', async () => {
        const calls: string[] = [];
        const held = gate();
        onTestFinished(() => held.open());
        const s = await open({
          workflows: [`
workflow:
  id: ct-restart
  name: Survives a restart
  version: 1
  output: { rows: "\${export.output.rows}" }
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: export, type: SIMPLE, depends_on: [fetch], timeout: 1m }
    - { id: notify, type: SIMPLE, depends_on: [export] }
`],
          handlers: {
            fetch: (_i, ctx) => { calls.push(ctx.idempotencyKey); return {}; },
            export: async (_i: Record<string, unknown>, ctx: TaskContext) => {
              calls.push(ctx.idempotencyKey);
              // The first run of the attempt never ends on its own: it dies with the executor.
              if (calls.filter((c) => c.endsWith('/export/1')).length === 1) { await Promise.race([untilAborted(ctx.signal), held.opened]); return { rows: -1 }; }
              return { rows: 3 };
            },
            notify: (_i, ctx) => { calls.push(ctx.idempotencyKey); return {}; },
          },
        });
        const runId = await s.start('ct-restart', {});
        await waitFor('export to be running', () => calls.includes(`${runId}/export/1`));
        await s.restart();
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.output).toEqual({ rows: 3 });
        expect(done.tasks.export).toMatchObject({ status: 'COMPLETED', attempts: 1 });
        expect(calls).toEqual([`${runId}/fetch/1`, `${runId}/export/1`, `${runId}/export/1`, `${runId}/notify/1`]);
        const h = await s.history(runId);
        expect(dataOf(h, 'task.restarted')).toEqual([expect.objectContaining({ task: 'export', attempt: 1, restart: 1, reason: traits().restartReason })]);
        expect(dataOf(h, 'task.failed')).toEqual([]);
        await replays(s, runId);
      });

      it('durable timers and pending approvals survive a restart: the wait fires after it, the approval given after it completes the run', async () => {
        const s = await open({
          workflows: [`
workflow:
  id: ct-restart-waits
  name: Waits across a restart
  version: 1
  tasks:
    - { id: cool_down, type: WAIT, duration: 1s }
    - { id: sign, type: HUMAN, approvers: [alice] }
    - { id: ship, type: SIMPLE, depends_on: [cool_down, sign] }
`],
          handlers: { ship: () => ({ shipped: true }) },
        });
        const runId = await s.start('ct-restart-waits', {});
        await waitFor('the run to wait', async () => (await s.status(runId))?.tasks.sign?.status === 'PENDING_APPROVAL');
        await s.restart();
        await s.decide(runId, 'sign', 'alice', 'approved');
        const done = await s.until(runId, 'settled');
        expect(done.status).toBe('COMPLETED');
        expect(done.tasks.ship!.output).toEqual({ shipped: true });
        const h = await s.history(runId);
        expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'cool_down', timer: 'wait', attempt: 1 }]);
        expect(dataOf(h, 'approval.recorded')).toEqual([{ task: 'sign', decision: 'approved', by: 'alice' }]);
        await replays(s, runId);
      });
    });
  });
}

function readPids(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim() || null;
  } catch {
    return null;
  }
}
