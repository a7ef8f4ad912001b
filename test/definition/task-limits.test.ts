/** `concurrency:` and `rate_limit:` on a task (docs/limits.md#task-concurrency-and-rate-limits): what is taken, what is refused where. */
import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

const limited = (limits: string) =>
  wf(`    - id: call_crm
      type: SIMPLE
${limits}`);

describe('task concurrency and rate limits', () => {
  it('takes the documented shape, normalised; a task without them normalises as before', () => {
    const r = parse(limited('      concurrency: { limit: 5 }\n      rate_limit: { limit: 10, per: 1s }\n'));
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.tasks[0]).toMatchObject({ concurrency: { limit: 5 }, rateLimit: { limit: 10, perMs: 1000 } });
    const plain = parse(limited('')).definition!.tasks[0]!;
    expect('concurrency' in plain || 'rateLimit' in plain).toBe(false);
  });

  it.each([
    [
      '      concurrency: { limit: 0 }\n',
      '0 }',
      'task.concurrency.limit',
      'expected a whole number of attempts of at least 1',
    ],
    [
      '      concurrency: { limit: -2 }\n',
      '-2',
      'task.concurrency.limit',
      'expected a whole number of attempts of at least 1',
    ],
    ['      rate_limit: { limit: 10, per: 0s }\n', '0s', 'task.rate_limit.per', 'the window must be longer than 0'],
    ['      rate_limit: { limit: 2.5, per: 1s }\n', '2.5', 'task.rate_limit.limit', 'expected an integer'],
  ])('refuses %j at its line and column, saying what to write', (limits, at, where, message) => {
    const text = limited(limits);
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toContain(where.replace('task.', ''));
    expect(d.message).toContain(message);
    expect(d).toMatchObject(pos(text, at));
    expect(parse(text).definition).toBeNull();
  });

  it('refuses an unknown key inside (a typo of limit, a burst) naming it and the keys there are, at its line', () => {
    const text = limited('      concurrency: { limt: 5 }\n      rate_limit: { limit: 3, per: 1s, burst: 2 }\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const messages = r.diagnostics.filter((x) => x.severity === 'error').map((d) => `${d.line}: ${d.message}`);
    expect(messages).toContain(
      `${pos(text, 'limt').line}: workflow.tasks[0].concurrency: unknown key limt: the keys are limit, e.g. { limit: 5 }`,
    );
    expect(messages).toContain(
      `${pos(text, 'burst').line}: workflow.tasks[0].rate_limit: unknown key burst: the keys are limit and per, e.g. { limit: 10, per: 1s }`,
    );
  });

  it('a rate_limit without its `per` is an error at its line, not a crash (found by the definition fuzzer)', () => {
    const text = limited('      rate_limit:\n        limit: 3\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    expect(r.diagnostics.filter((x) => x.severity === 'error').map((d) => d.message)).toEqual([
      'workflow.tasks[0].rate_limit: missing required key "per"',
    ]);
  });

  it('warns that a limit on a task that runs no attempt (HUMAN) does nothing', () => {
    const text = wf('    - { id: sign, type: HUMAN, approvers: [ops], concurrency: { limit: 1 } }\n');
    const d = only(parse(text), 'LF_FIELD_IGNORED');
    expect(d.message).toContain('concurrency is ignored on HUMAN task sign');
  });
});
