/** The executor contract (../contract.ts): What people do to a run: approvals and refusals, HUMAN deadlines, signals, and the WAITs they and the clock end. */
import { describe, expect, it } from 'vitest';
import type { Handlers } from '../../../src/runtime/index.js';
import { dataOf, type ScenarioKit, workflowYaml } from './kit.js';

export function peopleScenarios({ open, replays }: ScenarioKit): void {
  describe('approvals and refusals', () => {
    const signOff = workflowYaml(
      'ct-approval',
      'Sign-off',
      `
  output: { decided: "\${report.output.decided}" }
  tasks:
    - { id: prepare, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [prepare], approvers: [alice] }
    - { id: report, type: SIMPLE, depends_on: [sign], input: { decision: "\${sign.output.decision}", by: "\${sign.output.by}" } }
`,
    );
    const handlers: Handlers = {
      prepare: () => ({}),
      report: (i) => ({ decided: `${String(i.decision)} by ${String(i.by)}` }),
    };

    it("waits for an approver: one who is not is refused (the refusal kept in the history once, however often he tries), the approver's decision is the task's output", async () => {
      const s = await open({ workflows: [signOff], handlers });
      const runId = await s.start('ct-approval', {});
      const waiting = await s.until(runId, 'waiting');
      expect(waiting.status).toBe('WAITING');
      expect(waiting.tasks.sign!.status).toBe('PENDING_APPROVAL');

      for (let i = 0; i < 3; i++) {
        await expect(s.decide(runId, 'sign', 'approved', 'bob')).rejects.toMatchObject({
          code: 'LF_APPROVAL_REFUSED',
          message: expect.stringContaining('bob may not decide task sign'),
        });
      }
      await s.decide(runId, 'sign', 'approved', 'alice', 'ok');
      const done = await s.until(runId, 'settled');
      expect(done.status).toBe('COMPLETED');
      expect(done.tasks.sign).toMatchObject({
        status: 'COMPLETED',
        output: { decision: 'approved', by: 'alice', comment: 'ok' },
      });
      expect(done.output).toEqual({ decided: 'approved by alice' });
      const h = await s.history(runId);
      expect(dataOf(h, 'approval.refused')).toEqual([
        expect.objectContaining({
          task: 'sign',
          by: 'bob',
          reason: expect.stringContaining('bob may not decide task sign'),
        }),
      ]);
      expect(dataOf(h, 'approval.recorded')).toEqual([
        { task: 'sign', decision: 'approved', by: 'alice', comment: 'ok' },
      ]);
      await replays(s, runId);
    });

    it('a rejection fails the run; a decision on the settled run is refused and writes nothing', async () => {
      const s = await open({ workflows: [signOff], handlers });
      const runId = await s.start('ct-approval', {});
      await s.until(runId, 'waiting');
      await s.decide(runId, 'sign', 'rejected', 'alice', 'not this month');
      const failed = await s.until(runId, 'settled');
      expect(failed.status).toBe('FAILED');
      expect(failed.tasks.sign!.status).toBe('FAILED');
      expect(failed.error).toMatchObject({ code: 'REJECTED', task: 'sign' });
      expect(failed.tasks.report!.status).toBe('SKIPPED');
      const before = (await s.history(runId)).length;
      // The refusal comes back once the decision was judged (on NATS, after the engine would have recorded it).
      await expect(s.decide(runId, 'sign', 'approved', 'alice')).rejects.toMatchObject({
        code: 'LF_APPROVAL_REFUSED',
        message: expect.stringContaining('the run is already settled'),
      });
      const h = await s.history(runId);
      expect(h).toHaveLength(before);
      expect(dataOf(h, 'approval.recorded')).toEqual([
        { task: 'sign', decision: 'rejected', by: 'alice', comment: 'not this month' },
      ]);
    });

    it("applies on_timeout when nobody decides by the deadline, even for a HUMAN task that waits from the run's start", async () => {
      const s = await open({
        workflows: [
          workflowYaml(
            'ct-deadline',
            'Nobody decides',
            `
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice], timeout: 300ms, on_timeout: skip }
    - { id: report, type: SIMPLE, depends_on: [sign], trigger_rule: all_done }
`,
          ),
        ],
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
        workflows: [
          workflowYaml(
            'ct-signal',
            'Signal gate',
            `
  output: { ok: "\${use.output.ok}" }
  tasks:
    - { id: cool_down, type: WAIT, duration: 1s }
    - { id: gate, type: WAIT, depends_on: [cool_down], event: release }
    - { id: use, type: SIMPLE, depends_on: [gate], input: { ok: "\${gate.output.ok}" } }
`,
          ),
        ],
        handlers: { use: (i) => ({ ok: i.ok }) },
      });
      const runId = await s.start('ct-signal', {});
      await expect(s.signal(runId, 'other', 'alice')).rejects.toMatchObject({ code: 'LF_SIGNAL_REFUSED' });
      await expect(s.signal('no-such-run', 'release', 'alice')).rejects.toMatchObject({
        code: 'LF_SIGNAL_REFUSED',
        message: expect.stringContaining('no-such-run'),
      });
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
        workflows: [
          workflowYaml(
            'ct-wait-kinds',
            'Until and timeouts',
            `
  input: { required: [at] }
  tasks:
    - { id: hold, type: WAIT, until: "\${workflow.input.at}" }
    - { id: ping, type: WAIT, depends_on: [hold], event: ping, timeout: 200ms, on_timeout: skip }
`,
          ),
        ],
        handlers: {},
      });
      const past = await s.until(await s.start('ct-wait-kinds', { at: '2020-01-01T00:00:00Z' }), 'settled');
      expect(past.status).toBe('COMPLETED');
      expect(past.tasks.hold).toMatchObject({
        status: 'COMPLETED',
        output: { waitedUntil: '2020-01-01T00:00:00.000Z' },
      });
      expect(past.tasks.ping!.status).toBe('SKIPPED');
      const bad = await s.until(await s.start('ct-wait-kinds', { at: 'next tuesday' }), 'settled');
      expect(bad.status).toBe('FAILED');
      expect(bad.tasks.hold!.error).toMatchObject({
        code: 'LF_WAIT_UNTIL_INVALID',
        message: expect.stringContaining('"next tuesday"'),
      });
      expect(bad.error).toMatchObject({ code: 'LF_WAIT_UNTIL_INVALID', task: 'hold' });
      await replays(s, past.runId, bad.runId);
    });
  });
}
