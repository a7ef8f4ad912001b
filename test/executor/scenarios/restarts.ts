/** The executor contract (../contract.ts): The executor dies mid-run and is started again. */
import { describe, expect, it } from 'vitest';
import type { TaskContext } from '../../../src/runtime/index.js';
import { untilAborted, waitFor } from '../../helpers/wait.js';
import { dataOf, heldGate, type ScenarioKit, workflowYaml } from './kit.js';

export function restartScenarios({ open, replays, traits }: ScenarioKit): void {
  // A restart stops and starts the whole executor (on NATS: its worker and two engines, each process
  // setting up its consumers): under the suite's load that alone took 20 s, beyond vitest's 30 s
  // default with the scenario's own waits, so the run's own bound (the adapter's `until`) never got to say what stuck.
  describe('restarts', { timeout: 90_000 }, () => {
    it('an attempt in flight when the executor dies runs again as the same attempt (same key, no retry used), recorded as task.restarted; what completed does not run again', async () => {
      const calls: string[] = [];
      const held = heldGate();
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-restart',
            'Survives a restart',
            `
  output: { rows: "\${export.output.rows}" }
  tasks:
    - { id: fetch, type: SIMPLE }
    - { id: export, type: SIMPLE, depends_on: [fetch], timeout: 1m }
    - { id: notify, type: SIMPLE, depends_on: [export] }
`,
          ),
        ],
        handlers: {
          fetch: (_i, ctx) => {
            calls.push(ctx.idempotencyKey);
            return {};
          },
          export: async (_i: Record<string, unknown>, ctx: TaskContext) => {
            calls.push(ctx.idempotencyKey);
            // The first run of the attempt never ends on its own: it dies with the executor.
            if (calls.filter((c) => c.endsWith('/export/1')).length === 1) {
              await Promise.race([untilAborted(ctx.signal), held.opened]);
              return { rows: -1 };
            }
            return { rows: 3 };
          },
          notify: (_i, ctx) => {
            calls.push(ctx.idempotencyKey);
            return {};
          },
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
      expect(dataOf(h, 'task.restarted')).toEqual([
        expect.objectContaining({ task: 'export', attempt: 1, restart: 1, reason: traits().restartReason }),
      ]);
      expect(dataOf(h, 'task.failed')).toEqual([]);
      await replays(s, runId);
    });

    it('durable timers and pending approvals survive a restart: the wait fires after it, the approval given after it completes the run', async () => {
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-restart-waits',
            'Waits across a restart',
            `
  tasks:
    - { id: cool_down, type: WAIT, duration: 1s }
    - { id: sign, type: HUMAN, approvers: [alice] }
    - { id: ship, type: SIMPLE, depends_on: [cool_down, sign] }
`,
          ),
        ],
        handlers: { ship: () => ({ shipped: true }) },
      });
      const runId = await s.start('ct-restart-waits', {});
      await waitFor('the run to wait', async () => (await s.status(runId))?.tasks.sign?.status === 'PENDING_APPROVAL');
      await s.restart();
      await s.decide(runId, 'sign', 'approved', 'alice');
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.tasks.ship!.output).toEqual({ shipped: true });
      const h = await s.history(runId);
      expect(dataOf(h, 'timer.fired')).toEqual([{ task: 'cool_down', timer: 'wait', attempt: 1 }]);
      expect(dataOf(h, 'approval.recorded')).toEqual([{ task: 'sign', decision: 'approved', by: 'alice' }]);
      await replays(s, runId);
    });
  });
}
