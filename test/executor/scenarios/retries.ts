/** The executor contract (../contract.ts): Retries with backoff, NonRetryableError, and timeouts per attempt. */
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../../src/errors/index.js';
import { untilAborted, waitFor } from '../../helpers/wait.js';
import { dataOf, eventsOf, type ScenarioKit, workflowYaml } from './kit.js';

export function retryScenarios({ open, replays }: ScenarioKit): void {
  describe('retries and backoff', () => {
    const retried = workflowYaml(
      'ct-retry',
      'Retry with backoff',
      `
  input: { required: [n] }
  output: { total: "\${add.output.total}" }
  tasks:
    - { id: double, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
    - id: add
      type: SIMPLE
      depends_on: [double]
      input: { n: "\${double.output.n}" }
      retry_policy: { max_attempts: 3, backoff: exponential, initial_delay: 100ms }
`,
    );
    it('retries a failing task by its policy over durable timers, each retry a new attempt with its own key, the delay doubling', async () => {
      const keys: string[] = [];
      const s = await open({
        workflows: [retried],
        handlers: {
          double: (i) => ({ n: Number(i.n) * 2 }),
          add: (i, ctx) => {
            keys.push(ctx.idempotencyKey);
            if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
            return { total: Number(i.n) + 1 };
          },
        },
      });
      const runId = await s.start('ct-retry', { n: 5 });
      const view = await s.until(runId, 'settled');
      expect(view.status).toBe('COMPLETED');
      expect(view.output).toEqual({ total: 11 });
      expect(view.tasks.add).toMatchObject({ status: 'COMPLETED', attempts: 3 });
      expect(keys).toEqual([`${runId}/add/1`, `${runId}/add/2`, `${runId}/add/3`]);
      const h = await s.history(runId);
      expect(dataOf(h, 'task.failed', 'add')).toMatchObject([
        { attempt: 1, error: { message: 'boom 1', retryable: true } },
        { attempt: 2, error: { message: 'boom 2' } },
      ]);
      const fired = eventsOf(h, 'timer.fired', 'add');
      expect(fired.map((e) => e.data)).toEqual([
        { task: 'add', timer: 'backoff', attempt: 1 },
        { task: 'add', timer: 'backoff', attempt: 2 },
      ]);
      const failed = eventsOf(h, 'task.failed', 'add');
      const gap = (i: number) => Date.parse(fired[i]!.time) - Date.parse(failed[i]!.time);
      expect(gap(0)).toBeGreaterThanOrEqual(100);
      expect(gap(1)).toBeGreaterThanOrEqual(200);
      await replays(s, runId);
    });

    it('fails the run once the attempts are used up, and at once on a NonRetryableError; what depends on the task is skipped', async () => {
      let calls = 0;
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-exhaust',
            'Exhausted',
            `
  input: { required: [mode] }
  tasks:
    - id: fragile
      type: SIMPLE
      input: { mode: "\${workflow.input.mode}" }
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
    - { id: after, type: SIMPLE, depends_on: [fragile] }
`,
          ),
        ],
        handlers: {
          fragile: (i) => {
            calls++;
            if (i.mode === 'bad') throw new NonRetryableError('bad input', 'BAD_INPUT');
            throw new Error('always');
          },
          after: () => ({}),
        },
      });
      const always = await s.until(await s.start('ct-exhaust', { mode: 'always' }), 'settled');
      expect(always.status).toBe('FAILED');
      expect(always.tasks.fragile).toMatchObject({
        status: 'FAILED',
        attempts: 2,
        error: { message: 'always', retryable: true },
      });
      expect(always.tasks.after!.status).toBe('SKIPPED');
      expect(always.error).toMatchObject({ task: 'fragile', message: 'always' });
      expect(calls).toBe(2);
      const bad = await s.until(await s.start('ct-exhaust', { mode: 'bad' }), 'settled');
      expect(bad.status).toBe('FAILED');
      expect(bad.tasks.fragile).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'BAD_INPUT', message: 'bad input', retryable: false },
      });
      expect(calls).toBe(3);
      await replays(s, always.runId, bad.runId);
    });
  });

  describe('retry from failed', () => {
    it('a new run reuses what completed (an approval is not asked for again) and runs the rest; a run that has not settled, or completed, is refused', async () => {
      let publishFails = true;
      const calls: string[] = [];
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-retry-from-failed',
            'Retried from where it failed',
            `
  output: { published: "\${publish.output.published}" }
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [fetch], approvers: [alice] }
    - { id: publish, type: SIMPLE, depends_on: [sign] }
`,
          ),
        ],
        handlers: {
          fetch: () => {
            calls.push('fetch');
            return { rows: 7 };
          },
          publish: () => {
            calls.push('publish');
            if (publishFails) throw new NonRetryableError('the archive was full');
            return { published: true };
          },
        },
      });
      const runId = await s.start('ct-retry-from-failed', {});
      await s.until(runId, 'waiting');
      await expect(s.retry(runId)).rejects.toMatchObject({
        code: 'LF_RETRY_REFUSED',
        meta: { runId, status: 'WAITING' },
        message: expect.stringMatching(/only a FAILED or CANCELLED run can be retried/),
      });
      await s.decide(runId, 'sign', 'approved', 'alice');
      expect((await s.until(runId, 'settled')).status).toBe('FAILED');
      expect(calls).toEqual(['fetch', 'publish']);

      publishFails = false;
      const retryId = await s.retry(runId);
      const done = await s.until(retryId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.output).toEqual({ published: true });
      expect(calls).toEqual(['fetch', 'publish', 'publish']);
      expect(done.retryOf).toEqual({ runId, reused: ['fetch', 'sign'] });
      expect(done.tasks.sign!.output).toEqual({ decision: 'approved', by: 'alice', comment: null });
      const h = await s.history(retryId);
      const started = h[0]!;
      expect(started.type === 'run.started' && started.data.source?.retryOf?.runId).toBe(runId);
      expect(
        eventsOf(h, 'task.completed')
          .filter((e) => e.type === 'task.completed' && e.data.reused)
          .map((e) => (e.data as { task: string }).task),
      ).toEqual(['fetch', 'sign']);
      await expect(s.retry(retryId)).rejects.toMatchObject({
        code: 'LF_RETRY_REFUSED',
        meta: { runId: retryId, status: 'COMPLETED' },
      });
      await expect(s.retry('no-such-run')).rejects.toMatchObject({ code: 'LF_RUN_NOT_FOUND' });
      expect(await s.runs('ct-retry-from-failed')).toHaveLength(2);
      await replays(s, runId, retryId);
    });
  });

  describe('timeouts', () => {
    it('times an attempt out (its handler sees the abort, its late result is not taken) and retries it; a last attempt that times out fails the run TIMED_OUT', async () => {
      const aborted: string[] = [];
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-timeout',
            'Timeouts',
            `
  output: { got: "\${slow.output}" }
  tasks:
    - id: slow
      type: SIMPLE
      timeout: 300ms
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 50ms }
`,
          ),
          workflowYaml(
            'ct-timeout-once',
            'One attempt that times out',
            `
  tasks:
    - { id: stuck, type: SIMPLE, handler: slow, timeout: 300ms }
`,
          ),
        ],
        handlers: {
          slow: async (_i, ctx) => {
            if (ctx.attempt === 1) {
              await untilAborted(ctx.signal);
              aborted.push(ctx.idempotencyKey);
              return { late: true };
            }
            return { fast: true };
          },
        },
      });
      const retried = await s.until(await s.start('ct-timeout', {}), 'settled');
      expect(retried.status).toBe('COMPLETED');
      expect(retried.tasks.slow).toMatchObject({ status: 'COMPLETED', attempts: 2, output: { fast: true } });
      expect(retried.output).toEqual({ got: { fast: true } });
      expect(dataOf(await s.history(retried.runId), 'timer.fired')).toEqual([
        { task: 'slow', timer: 'timeout', attempt: 1 },
        { task: 'slow', timer: 'backoff', attempt: 1 },
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
}
