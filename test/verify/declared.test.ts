/**
 * Declared properties (`properties:`), each holding and broken with its shortest counter-example; the counter-example's
 * expectation reproduces the path on the real runtime; bounds are reached and reported, never a hang.
 */
import { describe, expect, it } from 'vitest';
import { runExpectation } from '../../src/coverage/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { verifyDefinition, type PropertyResult } from '../../src/verify/index.js';

const parse = (yaml: string) => {
  const parsed = parseDefinition(yaml);
  expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return parsed.definition!;
};
const find = (r: { properties: PropertyResult[] }, property: string, task?: string) =>
  r.properties.find((p) => p.property === property && p.task === task)!;

/** docs/verify.md's refund.yaml, with pay_refund waiting for `payDependsOn`. */
const refund = (payDependsOn: string) => `workflow:
  id: refund
  input:
    required: [order]
  properties:
    at_most_once: [pay_refund]
    always_before:
      pay_refund: [approve_refund]
    eventually: [notify_customer]
  tasks:
    - id: check_order
      type: SIMPLE
      retry_policy: { max_attempts: 2, initial_delay: 1s }
    - id: approve_refund
      type: HUMAN
      depends_on: [check_order]
      approvers: [finance]
      timeout: 2d
      on_timeout: reject
    - id: pay_refund
      type: SIMPLE
      depends_on: [${payDependsOn}]
    - id: notify_customer
      type: SIMPLE
      depends_on: [pay_refund, approve_refund]
`;

describe('declared properties', () => {
  it('always_before: broken where the task starts before the other completed; shortest path; fixed by a dependency', async () => {
    const def = parse(refund('check_order'));
    const r = verifyDefinition(def);
    const p = find(r, 'always_before', 'pay_refund');
    expect(p).toMatchObject({ holds: false, tasks: ['approve_refund'] });
    expect(p.counterExample!.steps).toEqual([
      'check_order succeeds',
      'pay_refund runs before approve_refund completed',
    ]);
    // The expectation scripts the same path, and the real runtime agrees with what it says the path leads to.
    const e = p.counterExample!.expectation;
    expect(e.expect.status).toBe('COMPLETED');
    expect(await runExpectation(def, e)).toMatchObject({ ok: true, failures: [] });
    expect(find(r, 'at_most_once', 'pay_refund').holds).toBe(true);
    expect(find(r, 'eventually', 'notify_customer').holds).toBe(true);

    const fixed = verifyDefinition(parse(refund('approve_refund')));
    expect(fixed.properties.filter((x) => !x.holds)).toEqual([]);
    expect(find(fixed, 'always_before', 'pay_refund').message).toBe(
      'pay_refund runs only after approve_refund completed',
    );
  });

  it('at_most_once: retries are one run; a loop body runs again in the next iteration', () => {
    const r = verifyDefinition(
      parse(`workflow:
  id: loop
  properties:
    at_most_once: [draft, publish]
  tasks:
    - { id: rounds, type: DO_WHILE, loop_over: [draft], loop_condition: "draft.output.again == true", max_iterations: 3 }
    - { id: draft, type: SIMPLE, output: [again] }
    - { id: publish, type: SIMPLE, depends_on: [rounds], retry_policy: { max_attempts: 3, initial_delay: 1s } }
`),
    );
    const draft = find(r, 'at_most_once', 'draft');
    expect(draft.holds).toBe(false);
    expect(draft.counterExample!.steps).toEqual([
      'draft succeeds',
      'rounds starts iteration 2',
      'draft runs twice on one path',
    ]);
    expect(find(r, 'at_most_once', 'publish')).toMatchObject({ holds: true });
  });

  it('never_together and eventually: a decision routes to one branch; tasks after the other never run', async () => {
    const yaml = (together: string) => `workflow:
  id: route
  properties:
    eventually: [notify]
    never_together: [[${together}]]
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
    - { id: notify, type: SIMPLE, depends_on: [ship] }
    - { id: audit, type: SIMPLE }
`;
    const def = parse(yaml('refund, ship'));
    const r = verifyDefinition(def);
    expect(find(r, 'never_together', 'refund')).toMatchObject({ holds: true, tasks: ['ship'] });
    const ev = find(r, 'eventually', 'notify');
    expect(ev.holds).toBe(false);
    expect(ev.counterExample!.steps).toEqual([
      'check succeeds',
      'route = default',
      'refund succeeds',
      'audit succeeds',
      'the run ends COMPLETED',
      'a path completes without notify',
    ]);
    expect(await runExpectation(def, ev.counterExample!.expectation)).toMatchObject({ ok: true });
    const both = find(verifyDefinition(parse(yaml('ship, audit'))), 'never_together', 'ship');
    expect(both.holds).toBe(false);
    expect(both.counterExample!.steps.at(-1)).toBe('two of ship, audit run on one path');
  });

  it('timeouts are on the paths: an approval that times out and skips its task breaks eventually', () => {
    const r = verifyDefinition(
      parse(`workflow:
  id: sign
  properties:
    eventually: [file]
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice], timeout: 1d, on_timeout: skip }
    - { id: file, type: SIMPLE, depends_on: [sign], optional: true }
`),
    );
    const p = find(r, 'eventually', 'file');
    expect(p.holds).toBe(false);
    expect(p.counterExample!.steps).toEqual([
      'nobody decides on sign',
      'sign approval times out',
      'the run ends COMPLETED',
      'a path completes without file',
    ]);
    expect(p.counterExample!.expectation.approvals).toEqual({ sign: 'timeout' });
  });
});

describe('a WAIT whose signal never comes', () => {
  it('is a counter-example scripted as approvals: { <wait>: timeout }, which the runtime reproduces', async () => {
    const def = parse(`workflow:
  id: parcel
  properties:
    eventually: [deliver]
  tasks:
    - { id: shipped, type: WAIT, event: parcel.shipped, timeout: 2d, on_timeout: skip }
    - { id: deliver, type: SIMPLE, depends_on: [shipped] }
`);
    const p = find(verifyDefinition(def), 'eventually', 'deliver');
    expect(p.counterExample!.steps).toEqual([
      'no signal parcel.shipped arrives for shipped',
      'shipped times out (attempt 1)',
      'the run ends COMPLETED',
      'a path completes without deliver',
    ]);
    const e = p.counterExample!.expectation;
    expect(e.approvals).toEqual({ shipped: 'timeout' });
    expect(e.expect).toMatchObject({ status: 'COMPLETED', tasks: { shipped: 'SKIPPED', deliver: 'SKIPPED' } });
    expect(await runExpectation(def, e)).toMatchObject({ ok: true, failures: [] });
  });
});

describe('bounds', () => {
  const wide = `workflow:
  id: wide
  tasks:
${Array.from({ length: 10 }, (_, i) => `    - { id: t${i}, type: SIMPLE, timeout: 1m, retry_policy: { max_attempts: 3, initial_delay: 1s } }`).join('\n')}
`;
  it('a state bound is reached and reported: how many states, and up to how many steps the results hold', () => {
    const r = verifyDefinition(parse(wide), { maxStates: 300 });
    expect(r).toMatchObject({ states: 300, bounded: true });
    expect(r.bound).toMatchObject({ maxStates: 300, reached: ['states'] });
    expect(r.bound.pathsUpTo).toBeGreaterThan(0);
    expect(find(r, 'no-stuck-state').message).toBe('no path gets stuck on the paths explored');
  });

  it('a loop is explored up to the loop bound, and that is reported', () => {
    const yaml = `workflow:
  id: rounds
  tasks:
    - { id: rounds, type: DO_WHILE, loop_over: [draft], loop_condition: "draft.output.score < 5", max_iterations: 50 }
    - { id: draft, type: SIMPLE, output: [score] }
`;
    const r = verifyDefinition(parse(yaml), { loopBound: 2 });
    expect(r).toMatchObject({ bounded: true, bound: { loopIterations: 2, reached: ['loop'] } });
    expect(find(r, 'no-loop-without-exit', 'rounds').holds).toBe(true);
  });

  it('a MAP is explored over two items, each of which may fail', () => {
    const r = verifyDefinition(
      parse(`workflow:
  id: each
  input:
    required: [files]
  properties:
    eventually: [report]
  tasks:
    - { id: each, type: MAP, items: "\${workflow.input.files}", handler: scan, retry_policy: { max_attempts: 2, initial_delay: 1s } }
    - { id: report, type: SIMPLE, depends_on: [each] }
`),
    );
    expect(r.bound.mapItems).toBe(2);
    expect(r.bounded).toBe(false);
    expect(find(r, 'eventually', 'report').holds).toBe(true);
  });
});
