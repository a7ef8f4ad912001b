/** The executor contract (../contract.ts): Pause, resume and cancel from outside; TERMINATE and SET from inside. */
import { describe, expect, it } from 'vitest';
import { untilAborted, waitFor } from '../../helpers/wait.js';
import { dataOf, eventsOf, heldGate, type ScenarioKit, workflowYaml } from './kit.js';

export function runControlScenarios({ open, replays, traits }: ScenarioKit): void {
  describe('pause, resume and cancel', () => {
    it('pause: the running attempt finishes and is recorded, nothing new starts; a second pause is refused; resume starts what was scheduled, in one commit', async () => {
      const calls: string[] = [];
      const held = heldGate();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-pausable',
            'Pausable',
            `
  tasks:
    - { id: first, type: SIMPLE }
    - { id: left, type: SIMPLE, depends_on: [first] }
    - { id: right, type: SIMPLE, depends_on: [first] }
`,
          ),
        ],
        handlers: {
          first: async () => {
            calls.push('first');
            await held.opened;
            return { ok: true };
          },
          left: () => {
            calls.push('left');
            return {};
          },
          right: () => {
            calls.push('right');
            return {};
          },
        },
      });
      const runId = await s.start('ct-pausable', {});
      await waitFor('first to be running', () => calls.includes('first'));
      await s.pause(runId, 'commander', 'maintenance');
      expect((await s.status(runId))!.status).toBe('PAUSED');
      await expect(s.pause(runId, 'commander')).rejects.toMatchObject({
        code: 'LF_PAUSE_REFUSED',
        message: expect.stringMatching(/already paused; nothing was recorded/),
      });
      held.open();
      const paused = await waitFor('first to be recorded as completed', async () => {
        const h = await s.history(runId);
        return eventsOf(h, 'task.completed', 'first').length > 0 ? h : null;
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
      const held = heldGate();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-cancel',
            'Cancellable',
            `
  tasks:
    - { id: long, type: SIMPLE }
    - { id: next, type: SIMPLE, depends_on: [long] }
`,
          ),
        ],
        handlers: {
          long: async (_i, ctx) => {
            running = true;
            await Promise.race([
              untilAborted(ctx.signal).then(() => {
                aborted = String(ctx.signal.reason);
              }),
              held.opened,
            ]);
            return {};
          },
          next: () => {
            nextRan = true;
            return {};
          },
        },
      });
      const runId = await s.start('ct-cancel', {});
      await waitFor('long to be running', () => running);
      expect(await s.cancel(runId, 'commander', 'obsolete')).toEqual({ changed: true });
      const view = await s.until(runId, 'settled');
      expect(view.status).toBe('CANCELLED');
      expect(view.tasks.long!.status).toBe('CANCELLED');
      expect(view.tasks.next!.status).toBe('CANCELLED');
      if (traits().abortsRunningHandlers)
        expect(await waitFor('the running handler to see its abort', () => aborted)).toContain('CANCELLED');
      held.open();
      const h = await s.history(runId);
      expect(dataOf(h, 'run.cancelled')).toEqual([{ by: 'commander', reason: 'obsolete' }]);
      expect(await s.cancel(runId, 'commander')).toEqual({ changed: false });
      expect(await s.history(runId)).toHaveLength(h.length);
      expect(nextRan).toBe(false);
      await replays(s, runId);
    });

    it('a paused run can be cancelled', async () => {
      const held = heldGate();
      let running = false;
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-pause-cancel',
            'Paused, then cancelled',
            `
  tasks:
    - { id: long, type: SIMPLE }
`,
          ),
        ],
        handlers: {
          long: async (_i, ctx) => {
            running = true;
            await Promise.race([untilAborted(ctx.signal), held.opened]);
            return {};
          },
        },
      });
      const runId = await s.start('ct-pause-cancel', {});
      await waitFor('long to be running', () => running);
      await s.pause(runId, 'commander');
      expect(await s.cancel(runId, 'commander', 'paused for good')).toEqual({ changed: true });
      const view = await s.until(runId, 'settled');
      expect(view.status).toBe('CANCELLED');
      expect((await s.history(runId)).map((e) => e.type).filter((t) => t.startsWith('run.'))).toEqual([
        'run.started',
        'run.paused',
        'run.cancelled',
      ]);
      await replays(s, runId);
    });
  });

  describe('TERMINATE and SET', () => {
    const terminating = (status: 'COMPLETED' | 'FAILED') =>
      workflowYaml(
        `ct-terminate-${status.toLowerCase()}`,
        'Terminate',
        `
  output: { checked: "\${check.output.why}", region: "\${workflow.variables.region}" }
  tasks:
    - { id: slow, type: SIMPLE }
    - { id: check, type: SIMPLE }
    - { id: remember, type: SET, depends_on: [check], values: { region: "\${check.output.region}" } }
    - { id: stop, type: TERMINATE, depends_on: [remember], status: ${status}, reason: "stopped: \${check.output.why} in \${workflow.variables.region}" }
    - { id: later, type: SIMPLE, depends_on: [stop] }
`,
      );
    it('ends the run at once with its status and reason: running tasks CANCELLED, pending ones SKIPPED, the output mapped; SET variables are read after it', async () => {
      let slowAborted = 0;
      let laterRan = false;
      const held = heldGate();
      const s = await open({
        workflows: [terminating('FAILED'), terminating('COMPLETED')],
        handlers: {
          slow: async (_i, ctx) => {
            await Promise.race([
              untilAborted(ctx.signal).then(() => {
                slowAborted++;
              }),
              held.opened,
            ]);
            return {};
          },
          check: () => ({ why: 'nothing to do', region: 'eu' }),
          later: () => {
            laterRan = true;
            return {};
          },
        },
      });
      const failed = await s.until(await s.start('ct-terminate-failed', {}), 'settled');
      expect(failed.status).toBe('FAILED');
      expect(failed.error).toEqual({
        code: 'LF_TERMINATED',
        retryable: false,
        message: 'stopped: nothing to do in eu',
        task: 'stop',
      });
      expect(failed.tasks.stop).toMatchObject({
        status: 'COMPLETED',
        output: { status: 'FAILED', reason: 'stopped: nothing to do in eu' },
      });
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
      if (traits().abortsRunningHandlers)
        await waitFor('both slow handlers to see their abort', () => slowAborted === 2);
      await replays(s, failed.runId, completed.runId);
    });
  });
}
