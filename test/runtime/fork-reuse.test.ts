/**
 * What a fork reuses when its changed input makes a DECISION decide otherwise (docs/runs.md#forking-a-run: a task is
 * reused only "if everything upstream of it ends the same way", decisions evaluated again with the new input):
 * `forkPlan` names only the tasks the fork's start really completes as reused, so a task the decision now skips is not
 * among them, nor one downstream of it; the fork Engine.fork records reuses exactly those, and replays.
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { forkPlan, forkPoint, type Handlers } from '../../src/runtime/index.js';
import { def, engine, expectReplayMatches } from '../helpers/engine.js';

// The README's expense claim, with a task after pay_claim that reads it.
const claim = def(`
workflow:
  id: claim
  name: Claim
  version: 1
  input:
    required:
      - amount: { type: number }
  tasks:
    - { id: check_claim, type: SIMPLE }
    - id: size_gate
      type: DECISION
      depends_on: [check_claim]
      decision_cases:
        large: { condition: "workflow.input.amount > 1000", next: manager_sign_off }
    - { id: manager_sign_off, type: HUMAN, approvers: [alice] }
    - id: pay_claim
      type: SIMPLE
      depends_on: [size_gate, manager_sign_off]
      input: { approval: "\${manager_sign_off.output}" }
    - { id: notify, type: SIMPLE, depends_on: [pay_claim] }
`);

const handlers: Handlers = {
  check_claim: async () => ({ receipts_ok: true }),
  pay_claim: async (input) => ({ paid: true, approval: (input as { approval: unknown }).approval ?? null }),
  notify: async () => ({ sent: true }),
};

async function signedOff() {
  const { engine: e } = engine();
  const first = await e.run(claim, { amount: 1500 }, { handlers, maxTimerWaitMs: 0 });
  await e.decide(first.runId, 'manager_sign_off', 'approved', 'alice');
  expect((await e.drive(first.runId, { handlers, maxTimerWaitMs: 0 })).status).toBe('COMPLETED');
  return { e, runId: first.runId, events: await e.events(first.runId) };
}

describe('forkPlan with a decision that decides otherwise', () => {
  it('reuses neither the task the decision now skips nor what is downstream of it', async () => {
    const { events, runId } = await signedOff();
    const compiled = compile(claim);
    const point = forkPoint(runId, events, 'notify');
    // The same input: everything before notify ends the same way.
    expect(Object.keys(forkPlan(compiled, events, point))).toEqual(['check_claim', 'manager_sign_off', 'pay_claim']);
    expect(Object.keys(forkPlan(compiled, events, point, { input: { amount: 2000 } }))).toEqual([
      'check_claim',
      'manager_sign_off',
      'pay_claim',
    ]);
    // Under 1,000 size_gate picks no case: manager_sign_off is skipped, and pay_claim (which read its output) runs again.
    expect(Object.keys(forkPlan(compiled, events, point, { input: { amount: 10 } }))).toEqual(['check_claim']);
  });

  it('the fork records and reuses only those, skips the sign-off, runs pay_claim again and replays', async () => {
    const { e, runId } = await signedOff();
    const forkId = await e.fork(runId, { fork: { at: 'notify', input: { amount: 10 } }, handlers });
    const events = await e.events(forkId);
    const started = events[0]!;
    expect(started.type === 'run.started' && Object.keys(started.data.source?.forked?.outputs ?? {})).toEqual([
      'check_claim',
    ]);
    const done = await e.drive(forkId, { handlers, maxTimerWaitMs: 0 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.manager_sign_off!.status).toBe('SKIPPED');
    expect(done.tasks.pay_claim!.output).toEqual({ paid: true, approval: null });
    const reused = (await e.events(forkId)).flatMap((ev) =>
      (ev.type === 'task.started' || ev.type === 'task.completed') && ev.data.reused ? [ev.data.task] : [],
    );
    expect(reused).toEqual(['check_claim', 'check_claim']);
    await expectReplayMatches(e, done);
  });
});
