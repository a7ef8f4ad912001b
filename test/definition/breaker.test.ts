/** `breaker:` on a task and in the limits file (docs/limits.md#circuit-breakers): what is taken, what is refused where. */
import { describe, expect, it } from 'vitest';
import { parseLimits } from '../../src/definition/index.js';
import { only, parse, pos, wf } from './helpers.js';

const withBreaker = (breaker: string) =>
  wf(`    - id: charge
      type: COMMAND
      command: [sh, charge.sh]
${breaker}`);

describe('circuit breaker definitions', () => {
  it('takes the documented shape, normalised; a task without one normalises as before', () => {
    const r = parse(withBreaker('      breaker: { failures: 5, window: 1m, open_for: 30s }\n'));
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.tasks[0]).toMatchObject({ breaker: { failures: 5, windowMs: 60_000, openForMs: 30_000 } });
    expect(parse(withBreaker('')).definition!.tasks[0]!.breaker).toBeUndefined();
  });

  it.each([
    [
      '      breaker: { failures: 0, window: 1m, open_for: 30s }\n',
      '0,',
      'breaker.failures',
      'expected a whole number of failures of at least 1',
    ],
    ['      breaker: { failures: 2.5, window: 1m, open_for: 30s }\n', '2.5', 'breaker.failures', 'expected an integer'],
    [
      '      breaker: { failures: 5, window: soon, open_for: 30s }\n',
      'soon',
      'breaker.window',
      'expected a duration like',
    ],
    [
      '      breaker: { failures: 5, window: 1m, open_for: 0s }\n',
      '0s',
      'breaker.open_for',
      'expected a duration longer than 0, e.g. open_for: 30s',
    ],
  ])('refuses %j at its line and column, saying what to write', (breaker, at, where, message) => {
    const text = withBreaker(breaker);
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toContain(where);
    expect(d.message).toContain(message);
    expect(d).toMatchObject(pos(text, at));
  });

  it('names an unknown key and the keys there are', () => {
    const text = withBreaker('      breaker: { failures: 5, window: 1m, open_for: 30s, half_open: 1 }\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toContain(
      'unknown key half_open: the keys are failures, window and open_for, e.g. { failures: 5, window: 1m, open_for: 30s }',
    );
  });

  it('warns that a breaker on a task that runs no attempt of a worker (HUMAN) does nothing', () => {
    const d = only(
      parse(
        wf('    - { id: sign, type: HUMAN, approvers: [ops], breaker: { failures: 1, window: 1m, open_for: 1m } }\n'),
      ),
      'LF_FIELD_IGNORED',
    );
    expect(d.message).toContain('breaker is ignored on HUMAN task sign');
  });

  it('the limits file takes a breaker per queue and per handler, and refuses a bad one at its line', () => {
    const ok = parseLimits(
      'queues:\n  payments:\n    breaker: { failures: 5, window: 1m, open_for: 30s }\nhandlers:\n  sendEmail:\n    breaker: { failures: 3, window: 10s, open_for: 1m }\n',
    );
    expect(ok.diagnostics).toEqual([]);
    expect(ok.limits).toEqual({
      queues: { payments: { breaker: { failures: 5, windowMs: 60_000, openForMs: 30_000 } } },
      handlers: { sendEmail: { breaker: { failures: 3, windowMs: 10_000, openForMs: 60_000 } } },
    });
    const bad = parseLimits(
      'queues:\n  payments:\n    breaker: { failures: 0, window: 1m, open_for: 30s }\n',
      'limits.yaml',
    );
    expect(bad.limits).toBeNull();
    expect(bad.diagnostics).toMatchObject([
      {
        file: 'limits.yaml',
        line: 3,
        col: 26,
        message: expect.stringContaining('expected a whole number of failures of at least 1'),
      },
    ]);
  });
});
