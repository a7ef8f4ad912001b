/** `verifyDefinition`'s built-in properties, each holding and broken, with the shortest counter-example (docs/verify.md). */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import { verifyDefinition, type PropertyResult } from '../../src/verify/index.js';

const verify = (yaml: string, opts = {}) => {
  const parsed = parseDefinition(yaml);
  expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return verifyDefinition(parsed.definition!, opts);
};
const find = (r: { properties: PropertyResult[] }, property: string, task?: string) =>
  r.properties.find((p) => p.property === property && p.task === task)!;

describe('built-in properties', () => {
  it('wait-times-out: a HUMAN with no timeout breaks it, shown by the path to where it waits', () => {
    const r = verify(`workflow:
  id: sign
  tasks:
    - { id: fetch, type: SIMPLE, retry_policy: { max_attempts: 3, initial_delay: 1s } }
    - { id: sign, type: HUMAN, depends_on: [fetch], approvers: [alice] }
`);
    const p = find(r, 'wait-times-out', 'sign');
    expect(p.holds).toBe(false);
    expect(p.message).toMatch(/sign waits for its approval with no timeout: add timeout:.*wait_forever: true/);
    // Shortest: the first attempt succeeds (the retries of fetch are other, longer paths).
    expect(p.counterExample!.steps).toEqual(['fetch succeeds', p.message]);
    expect(r.properties.filter((x) => !x.holds)).toHaveLength(1);
  });

  it('wait-times-out holds with a timeout, or with wait_forever: true (HUMAN and WAIT on an event)', () => {
    const r = verify(`workflow:
  id: waits
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice], timeout: 1d, on_timeout: reject }
    - { id: forever, type: HUMAN, approvers: [bob], wait_forever: true }
    - { id: paid, type: WAIT, event: payment.received, wait_forever: true }
    - { id: shipped, type: WAIT, event: parcel.shipped }
`);
    expect(find(r, 'wait-times-out', 'sign')).toMatchObject({ holds: true, message: 'sign times out' });
    expect(find(r, 'wait-times-out', 'forever')).toMatchObject({
      holds: true,
      message: expect.stringMatching(/wait_forever/),
    });
    expect(find(r, 'wait-times-out', 'paid').holds).toBe(true);
    expect(find(r, 'wait-times-out', 'shipped')).toMatchObject({ holds: false });
    expect(find(r, 'wait-times-out', 'shipped').message).toMatch(/signal parcel.shipped/);
  });

  it('decision-covered: a decision without a default takes no case for a value its cases miss; a default covers it', () => {
    const cases = `decision_param: "\${check.output.verdict}"
      decision_cases:
        ok: { next: [ship] }
        bad: { next: [refund] }`;
    const yaml = (extra: string) => `workflow:
  id: route
  tasks:
    - { id: check, type: SIMPLE, output: [verdict] }
    - id: route
      type: DECISION
      depends_on: [check]
      ${cases}${extra}
    - { id: ship, type: SIMPLE }
    - { id: refund, type: SIMPLE }
`;
    const broken = find(verify(yaml('')), 'decision-covered', 'route');
    expect(broken.holds).toBe(false);
    expect(broken.counterExample!.steps).toEqual([
      'check succeeds',
      'route takes no case (value "UNLISTED_VALUE")',
      'the run ends COMPLETED',
      broken.message,
    ]);
    expect(broken.counterExample!.expectation.outputs).toEqual({ check: { verdict: 'UNLISTED_VALUE' } });
    const fixed = find(verify(yaml('\n        default: { next: [refund] }')), 'decision-covered', 'route');
    expect(fixed).toMatchObject({ holds: true, message: 'route has a default case' });
  });

  it('task-can-run: a task that needs two cases of one decision at once runs on no path (no counter-example)', () => {
    const r = verify(`workflow:
  id: never
  tasks:
    - { id: check, type: SIMPLE, output: [verdict] }
    - id: route
      type: DECISION
      depends_on: [check]
      decision_param: "\${check.output.verdict}"
      decision_cases:
        ok: { next: [ship] }
        default: { next: [refund] }
    - { id: ship, type: SIMPLE }
    - { id: refund, type: SIMPLE }
    - { id: close, type: SIMPLE, depends_on: [ship, refund], trigger_rule: all_success }
`);
    const p = find(r, 'task-can-run', 'close');
    expect(p).toMatchObject({ holds: false, message: 'close runs on no path: nothing that can happen schedules it' });
    expect(p.counterExample).toBeUndefined();
    for (const t of ['check', 'route', 'ship', 'refund']) expect(find(r, 'task-can-run', t).holds).toBe(true);
  });

  it('no-loop-without-exit: a loop whose condition never turns false runs to its limit on every path', () => {
    const r = verify(`workflow:
  id: spin
  tasks:
    - { id: rounds, type: DO_WHILE, loop_over: [draft], loop_condition: "true", max_iterations: 3 }
    - { id: draft, type: SIMPLE }
`);
    const p = find(r, 'no-loop-without-exit', 'rounds');
    expect(p.holds).toBe(false);
    expect(p.counterExample!.steps).toEqual([
      'draft succeeds',
      'rounds starts iteration 2',
      'draft succeeds',
      'rounds starts iteration 3',
      'draft succeeds',
      'the run ends FAILED',
      p.message,
    ]);
    const ends = verify(`workflow:
  id: rounds
  tasks:
    - { id: rounds, type: DO_WHILE, loop_over: [draft], loop_condition: "draft.output.score < 5", max_iterations: 3 }
    - { id: draft, type: SIMPLE, output: [score] }
`);
    expect(find(ends, 'no-loop-without-exit', 'rounds').holds).toBe(true);
  });

  it('no-stuck-state holds where every state has a way out (retries, timeouts, approvals, rejections)', () => {
    const r = verify(`workflow:
  id: ok
  tasks:
    - { id: fetch, type: SIMPLE, timeout: 1m, retry_policy: { max_attempts: 2, initial_delay: 1s } }
    - { id: sign, type: HUMAN, depends_on: [fetch], approvers: [alice], timeout: 1d }
`);
    expect(find(r, 'no-stuck-state')).toMatchObject({ holds: true, message: 'no path gets stuck' });
    expect(r.bounded).toBe(false);
  });
});
