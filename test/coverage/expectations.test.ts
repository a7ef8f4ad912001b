/** Expectation files: where a mistake is, and how the runtime is driven through approvals and stalls. */
import { describe, expect, it } from 'vitest';
import { parseExpectations, runExpectation } from '../../src/coverage/index.js';
import { def } from '../helpers/engine.js';

const wf = (tasks: string) => `workflow:\n  id: t\n  name: T\n  version: 1\n  tasks:\n${tasks}`;

describe('expectation files', () => {
  const text = wf(`    - { id: check, type: SIMPLE }
    - { id: sign, type: HUMAN, depends_on: [check] }
`);
  it('name the line of a task that does not exist, or of the wrong type', () => {
    const file = [
      'expectations:',
      '  - name: x',
      '    outputs:',
      '      chekc: { a: 1 }',
      '    approvals:',
      '      check: approved',
      '    expect: { status: COMPLETED }',
      '',
    ].join('\n');
    expect(() => parseExpectations(file, def(text), 'e.yaml')).toThrow(
      /e\.yaml:4:7: expectations\[0\]\.outputs\.chekc: t has no task "chekc"; its tasks are check, sign[\s\S]*e\.yaml:6:7: expectations\[0\]\.approvals\.check: check is a SIMPLE task; approvals applies to HUMAN, WAIT tasks/,
    );
  });
  it('refuse unknown keys and statuses', () => {
    expect(() =>
      parseExpectations('expectations:\n  - name: x\n    expect: { status: DONE }\n', def(text), 'e.yaml'),
    ).toThrow(/e\.yaml:3:15: expectations\[0\]\.expect\.status: Invalid option/);
  });
});

describe('expectations on the runtime', () => {
  const text = wf('    - { id: work, type: SIMPLE }\n    - { id: sign, type: HUMAN, depends_on: [work] }\n');
  const run = (yaml: string) => runExpectation(def(text), parseExpectations(yaml, def(text))[0]!);

  it('an approval without a deadline is given once the run waits for it, and the run goes on', async () => {
    expect(
      await run('expectations:\n  - name: ok\n    expect: { status: COMPLETED, tasks: { sign: COMPLETED } }\n'),
    ).toMatchObject({ ok: true });
    expect(
      await run(
        'expectations:\n  - name: nobody\n    approvals: { sign: timeout }\n    expect: { status: WAITING, tasks: { sign: PENDING_APPROVAL } }\n',
      ),
    ).toMatchObject({ ok: true });
  });

  it('an attempt scripted to time out on a task without a timeout is reported as a stall, not waited for', async () => {
    const r = await run(
      'expectations:\n  - name: stuck\n    attempts: { work: [timeout] }\n    expect: { status: COMPLETED }\n',
    );
    expect(r.failures).toEqual([
      'the run ended RUNNING (it stalled: an attempt scripted to time out has no timeout to end it), expected COMPLETED',
    ]);
  });
});

describe('expectations with WAITs', () => {
  const text = wf(
    '    - { id: work, type: SIMPLE }\n    - { id: nap, type: WAIT, depends_on: [work], duration: 1h }\n    - { id: gate, type: WAIT, depends_on: [nap], event: release }\n    - { id: last, type: SIMPLE, depends_on: [gate] }\n',
  );
  it('a duration WAIT elapses on the virtual clock and a WAIT on an event gets its signal, so the run completes', async () => {
    const r = await runExpectation(
      def(text),
      parseExpectations(
        'expectations:\n  - name: ok\n    expect: { status: COMPLETED, tasks: { nap: COMPLETED, gate: COMPLETED } }\n',
        def(text),
      )[0]!,
    );
    expect(r).toMatchObject({ ok: true });
  });
});
