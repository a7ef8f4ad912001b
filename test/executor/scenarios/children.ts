/** The executor contract (../contract.ts): Runs that start runs: SUB_WORKFLOW, EMIT and both forms of failure_workflow. */
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../../src/errors/index.js';
import type { Handlers } from '../../../src/runtime/index.js';
import { waitFor } from '../../helpers/wait.js';
import { dataOf, heldGate, type ScenarioKit, workflowYaml } from './kit.js';

export function childScenarios({ open, replays, traits }: ScenarioKit): void {
  describe('SUB_WORKFLOW, EMIT and failure workflows', () => {
    const child = workflowYaml(
      'ct-child',
      'Child',
      `
  input: { required: [n] }
  output: { total: "\${double.output.total}" }
  tasks:
    - { id: double, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`,
    );
    const parent = workflowYaml(
      'ct-parent',
      'Parent',
      `
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
`,
    );
    const listener = workflowYaml(
      'ct-listener',
      'Listener',
      `
  input: { required: [total] }
  output: { seen: "\${workflow.input.total}" }
  triggers:
    - event: ct_doubled
      input: { total: "\${event.data.total}" }
  tasks:
    - { id: note, type: SIMPLE, input: { total: "\${workflow.input.total}" } }
`,
    );
    const onFailure = workflowYaml(
      'ct-on-failure',
      'On failure',
      `
  input: { required: [failedRunId, failedTask, error, note] }
  output: { got: "\${workflow.input.note}" }
  tasks:
    - { id: note, type: SIMPLE, input: { total: 0 } }
`,
    );
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
      expect((await s.status(first))!).toMatchObject({
        status: 'FAILED',
        error: { message: 'flaky', retryable: true },
      });
      const started = (await s.history(second))[0]!;
      expect(started.type === 'run.started' && started.data.source?.parent).toEqual({
        runId,
        workflowId: 'ct-parent',
        task: 'call',
        attempt: 2,
        depth: 1,
      });
      expect(dataOf(await s.history(runId), 'task.completed', 'call')).toEqual([
        {
          task: 'call',
          attempt: 2,
          output: { total: 42 },
          ...(traits().childOutcomeBy ? { by: traits().childOutcomeBy } : {}),
        },
      ]);
      expect((await s.runs('ct-child')).find((r) => r.runId === second)?.parent).toEqual({ runId, task: 'call' });

      const announce = done.tasks.announce!.output as {
        event: string;
        eventId: string;
        runs: { runId: string; workflowId: string }[];
      };
      expect(announce).toMatchObject({
        event: 'ct_doubled',
        eventId: `${runId}/announce/1`,
        runs: [{ workflowId: 'ct-listener' }],
      });
      expect(await s.until(announce.runs[0]!.runId, 'settled')).toMatchObject({
        status: 'COMPLETED',
        output: { seen: 42 },
      });
      expect(done.tasks.shout!.output).toMatchObject({
        event: 'ct_nobody',
        runs: [],
        note: 'no workflow triggers on ct_nobody: no run started',
      });
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
      expect(done.tasks.call).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'NEGATIVE', retryable: false },
      });
      expect(done.tasks.call!.error!.message).toContain(
        `sub-workflow ct-child (run ${runId}-call-1) failed at task double: negative`,
      );
      expect(done.tasks.announce!.status).toBe('SKIPPED');
      const failureId = `${runId}-failure`;
      const failure = await waitFor('the failure workflow to complete', async () => {
        const v = await s.status(failureId);
        return v?.status === 'COMPLETED' ? v : null;
      });
      expect(failure.output).toEqual({ got: 'n was -1' });
      const started = (await s.history(failureId))[0]!;
      expect(started.type === 'run.started' && started.data.input).toMatchObject({
        failedRunId: runId,
        failedTask: 'call',
        error: { code: 'NEGATIVE' },
        note: 'n was -1',
      });
      expect(started.type === 'run.started' && started.data.source?.parent).toMatchObject({
        runId,
        relation: 'failure',
      });
      expect(await s.runs('ct-on-failure')).toHaveLength(1);
      await replays(s, runId, failureId);
    });

    const person = workflowYaml(
      'ct-person',
      'Waits for a person',
      `
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`,
    );
    it('a SUB_WORKFLOW attempt that times out cancels its child; cancelling a parent cancels its child too', async () => {
      const s = await open({
        workflows: [
          person,
          workflowYaml(
            'ct-slow-parent',
            'Gives its child a deadline',
            `
  tasks:
    - { id: call, type: SUB_WORKFLOW, workflow: ct-person, timeout: 500ms }
`,
          ),
          workflowYaml(
            'ct-patient-parent',
            'Waits for its child',
            `
  tasks:
    - { id: call, type: SUB_WORKFLOW, workflow: ct-person }
`,
          ),
        ],
        handlers: {},
      });
      const slow = await s.until(await s.start('ct-slow-parent', {}), 'settled');
      expect(slow.status).toBe('FAILED');
      expect(slow.tasks.call!.status).toBe('TIMED_OUT');
      await waitFor(
        'the timed-out child to be cancelled',
        async () => (await s.status(`${slow.runId}-call-1`))?.status === 'CANCELLED',
      );

      const runId = await s.start('ct-patient-parent', {});
      const childId = `${runId}-call-1`;
      await waitFor('the child to wait for its approval', async () => (await s.status(childId))?.status === 'WAITING');
      expect(await s.cancel(runId, 'commander', 'not needed')).toEqual({ changed: true });
      expect((await s.until(runId, 'settled')).status).toBe('CANCELLED');
      await waitFor('the child to be cancelled', async () => (await s.status(childId))?.status === 'CANCELLED');
      expect(dataOf(await s.history(childId), 'run.cancelled')).toEqual([
        expect.objectContaining({ by: `run ${runId}` }),
      ]);
      expect(dataOf(await s.history(runId), 'run.cancelled')).toEqual([{ by: 'commander', reason: 'not needed' }]);
      await replays(s, slow.runId, runId, childId);
    });

    it('failure_workflow { steps }: skipped when the run does not fail; on a failure pending tasks are skipped, running ones finish, the steps run, the run keeps the first error', async () => {
      const ran: string[] = [];
      let fail = false;
      const slowDone = heldGate();
      const h = (id: string) => () => {
        ran.push(id);
        return {};
      };
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-steps',
            'With failure steps',
            `
  failure_workflow:
    steps: [log_incident, notify]
  tasks:
    - { id: work, type: SIMPLE }
    - { id: slow, type: SIMPLE }
    - { id: after, type: SIMPLE, depends_on: [work] }
    - { id: log_incident, type: SIMPLE }
    - { id: notify, type: SIMPLE, depends_on: [log_incident] }
`,
          ),
        ],
        handlers: {
          work: () => {
            if (fail) throw new NonRetryableError('broken', 'BROKEN');
            ran.push('work');
            return {};
          },
          slow: async () => {
            if (fail) await slowDone.opened;
            ran.push('slow');
            return { finished: true };
          },
          after: h('after'),
          log_incident: () => {
            ran.push('log_incident');
            slowDone.open();
            return {};
          },
          notify: () => {
            ran.push('notify');
            throw new NonRetryableError('pager down', 'PAGER');
          },
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
}
