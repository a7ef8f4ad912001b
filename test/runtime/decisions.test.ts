import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { def, engine, expectReplayMatches, runToIdle } from '../helpers/engine.js';

const example = readFileSync(new URL('../../examples/inventory-validation.workflow.yaml', import.meta.url), 'utf8');
const inventory = parseDefinition(example, 'inventory-validation.workflow.yaml').definition!;

/** Scripted handlers for the seed example: validate_compliance reports `status`. */
function inventoryHandlers(status: string, calls: string[] = []) {
  const h = (name: string, out: Record<string, unknown>) => async () => {
    calls.push(name);
    return out;
  };
  return {
    scan_files: h('scan_files', { file_list: ['a'], scan_timestamp: 't' }),
    load_policy: h('load_policy', { policy_rules: {}, required_files: [] }),
    validate_compliance: h('validate_compliance', {
      compliance_status: status,
      violations: status === 'PASS' ? [] : ['LICENSE missing'],
    }),
    generate_receipt: h('generate_receipt', { validation_receipt: 'r.yaml' }),
  };
}

describe('decisions and skipped branches (the seed example)', () => {
  it('PASS runs generate_receipt and skips the HUMAN alert', async () => {
    const { engine: e } = engine();
    const calls: string[] = [];
    const view = await runToIdle(
      e,
      inventory,
      { target_folder: 'x', policy_file: 'p' },
      inventoryHandlers('PASS', calls),
    );
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.decision_gate).toMatchObject({
      status: 'COMPLETED',
      output: { case: 'PASS', next: ['generate_receipt'] },
    });
    expect(view.tasks.generate_receipt!.status).toBe('COMPLETED');
    expect(view.tasks.alert_cmd_bridge!.status).toBe('SKIPPED');
    expect(calls.sort()).toEqual(['generate_receipt', 'load_policy', 'scan_files', 'validate_compliance']);
    expect(view.output).toMatchObject({ compliance_status: 'PASS', validation_receipt: 'r.yaml' });
  });

  it('FAIL_SOFT routes to a task that does not exist: the run fails with that error', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(
      e,
      inventory,
      { target_folder: 'x', policy_file: 'p' },
      inventoryHandlers('FAIL_SOFT'),
    );
    expect(view.status).toBe('FAILED');
    expect(view.tasks.decision_gate!.status).toBe('FAILED');
    expect(view.error).toMatchObject({ task: 'decision_gate', code: 'LF_UNKNOWN_TASK' });
    expect(view.error!.message).toContain('generate_warning_receipt');
  });

  it('FAIL_STRICT waits for a person; approval completes the run after resume', async () => {
    const { engine: e } = engine();
    const handlers = inventoryHandlers('FAIL_STRICT');
    const waiting = await runToIdle(e, inventory, { target_folder: 'x', policy_file: 'p' }, handlers);
    expect(waiting.status).toBe('WAITING');
    expect(waiting.tasks.alert_cmd_bridge!.status).toBe('PENDING_APPROVAL');
    expect(waiting.tasks.generate_receipt!.status).toBe('SKIPPED');
    expect(waiting.timers).toMatchObject([{ task: 'alert_cmd_bridge', kind: 'approval_timeout' }]);

    await e.decide(waiting.runId, 'alert_cmd_bridge', 'approved', 'commander', 'accepted risk');
    const done = await e.drive(waiting.runId, { handlers });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.alert_cmd_bridge).toMatchObject({
      status: 'COMPLETED',
      output: { decision: 'approved', by: 'commander', comment: 'accepted risk' },
    });
    expect(done.timers).toEqual([]);
    await expectReplayMatches(e, done);
  });

  it('a rejection fails the run; a decision on the settled run is refused with nothing written', async () => {
    const { engine: e, store } = engine();
    const waiting = await runToIdle(
      e,
      inventory,
      { target_folder: 'x', policy_file: 'p' },
      inventoryHandlers('FAIL_STRICT'),
    );
    const rejected = await e.decide(waiting.runId, 'alert_cmd_bridge', 'rejected', 'commander', 'no');
    expect(rejected.status).toBe('FAILED');
    expect(rejected.error).toMatchObject({ code: 'REJECTED', task: 'alert_cmd_bridge' });
    const before = await store.lastSeq(waiting.runId);
    await expect(e.decide(waiting.runId, 'alert_cmd_bridge', 'approved', 'commander')).rejects.toThrow(
      /the run is already settled; nothing was recorded/,
    );
    await expect(e.decide(waiting.runId, 'scan_files', 'approved', 'commander')).rejects.toMatchObject({
      code: 'LF_APPROVAL_REFUSED',
    });
    await expect(e.decide(waiting.runId, 'nope', 'approved', 'commander')).rejects.toThrow(
      /the run has no task "nope"; its HUMAN tasks are alert_cmd_bridge; nothing was recorded/,
    );
    // A settled run's history takes no more decisions, refused ones included (an approver could grow it without end).
    expect(await store.lastSeq(waiting.runId)).toBe(before);
    expect((await e.status(waiting.runId)).status).toBe('FAILED');
  });

  /** One HUMAN task only alice may decide. */
  const approversDef = () =>
    def(`
workflow:
  id: approvers
  name: A
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

  it('a refused decision on a waiting task is kept once per person and task, however often it is repeated', async () => {
    const { engine: e, store } = engine();
    const d = approversDef();
    const v = await runToIdle(e, d, {}, {});
    const before = await store.lastSeq(v.runId);
    await expect(e.decide(v.runId, 'sign', 'approved', 'mallory')).rejects.toThrow(
      /mallory may not decide task sign; its approvers are alice \(the refusal is kept in the run's history\)/,
    );
    for (let i = 0; i < 4; i++) {
      await expect(e.decide(v.runId, 'sign', 'rejected', 'mallory')).rejects.toThrow(
        /refused before: the run's history keeps one refusal per person and task\); nothing was recorded/,
      );
    }
    await expect(e.decide(v.runId, 'sign', 'approved', 'eve')).rejects.toMatchObject({ code: 'LF_APPROVAL_REFUSED' });
    const events = (await store.read(v.runId)).slice(before);
    expect(events.map((ev) => [ev.type, (ev.data as { by?: string }).by])).toEqual([
      ['approval.refused', 'mallory'],
      ['approval.refused', 'eve'],
    ]);
    expect((await e.decide(v.runId, 'sign', 'approved', 'alice')).status).toBe('COMPLETED');
  });

  it('refuses an approval from someone who is not an approver', async () => {
    const { engine: e } = engine();
    const d = approversDef();
    const v = await runToIdle(e, d, {}, {});
    await expect(e.decide(v.runId, 'sign', 'approved', 'mallory')).rejects.toThrow(
      /mallory may not decide task sign; its approvers are alice/,
    );
    expect((await e.decide(v.runId, 'sign', 'approved', 'alice')).status).toBe('COMPLETED');
  });

  it('applies on_timeout when nobody decides in time', async () => {
    const { engine: e } = engine();
    const d = (action: string) =>
      def(`
workflow:
  id: deadline-${action}
  name: D
  version: 1
  tasks:
    - { id: sign, type: HUMAN, timeout: 30ms, on_timeout: ${action} }
    - { id: after, type: SIMPLE, depends_on: [sign] }
`);
    const handlers = { after: async () => ({ ran: true }) };
    expect((await runToIdle(e, d('fail'), {}, handlers)).tasks.sign!.status).toBe('TIMED_OUT');
    const approved = await runToIdle(e, d('approve'), {}, handlers);
    expect(approved.status).toBe('COMPLETED');
    expect(approved.tasks.after!.status).toBe('COMPLETED');
    const skipped = await runToIdle(e, d('skip'), {}, handlers);
    expect(skipped.status).toBe('COMPLETED');
    expect(skipped.tasks.after!.status).toBe('SKIPPED');
  });

  it('chooses by condition, falls back to default, and skips what depends only on skipped tasks', async () => {
    const { engine: e } = engine();
    const d = def(`
workflow:
  id: cond
  name: C
  version: 1
  input:
    optional:
      - strict_mode: false
  tasks:
    - { id: check, type: SIMPLE }
    - id: gate
      type: DECISION
      depends_on: [check]
      decision_param: "\${check.output.status}"
      decision_cases:
        PASS: { next: [ok] }
        PARTIAL:
          condition: "\${workflow.input.strict_mode} == false"
          next_tasks: [warn]
        default: { next: [fail] }
    - { id: ok, type: SIMPLE }
    - { id: warn, type: SIMPLE }
    - { id: fail, type: SIMPLE }
    - { id: notify_ok, type: SIMPLE, depends_on: [ok] }
    - { id: always, type: SIMPLE, depends_on: [ok, warn, fail] }
`);
    const handlers = (status: string) => ({
      check: async () => ({ status }),
      ok: async () => ({}),
      warn: async () => ({}),
      fail: async () => ({}),
      notify_ok: async () => ({}),
      always: async () => ({}),
    });
    const partial = await runToIdle(e, d, {}, handlers('PARTIAL'));
    expect(partial.tasks.gate!.output).toMatchObject({ case: 'PARTIAL' });
    expect(partial.tasks.warn!.status).toBe('COMPLETED');
    expect(partial.tasks.ok!.status).toBe('SKIPPED');
    expect(partial.tasks.notify_ok!.status).toBe('SKIPPED');
    expect(partial.tasks.always!.status).toBe('COMPLETED');

    const strict = await runToIdle(e, d, { strict_mode: true }, handlers('PARTIAL'));
    expect(strict.tasks.gate!.output).toMatchObject({ case: 'default' });
    expect(strict.tasks.fail!.status).toBe('COMPLETED');
    expect(strict.tasks.warn!.status).toBe('SKIPPED');
  });

  it('FORK and JOIN: forked branches run, the join collects their outputs', async () => {
    const { engine: e } = engine();
    const d = def(`
workflow:
  id: forkjoin
  name: FJ
  version: 1
  tasks:
    - { id: fork, type: FORK, fork_tasks: [a, b] }
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE }
    - { id: join, type: JOIN, join_on: [a, b] }
    - { id: report, type: SIMPLE, depends_on: [join], input: { all: "\${join.output}" } }
`);
    let got: unknown;
    const view = await runToIdle(
      e,
      d,
      {},
      {
        a: async () => ({ n: 1 }),
        b: async () => ({ n: 2 }),
        report: async (i) => {
          got = i.all;
          return {};
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    expect(got).toEqual({ a: { n: 1 }, b: { n: 2 } });
  });
});
