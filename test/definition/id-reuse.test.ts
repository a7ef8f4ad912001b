/** `id_reuse:` on the workflow (docs/language.md): the policy of starts with a caller-chosen run id. */
import { describe, expect, it } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

const task = '    - { id: a, type: SIMPLE }\n';

describe('id_reuse', () => {
  it('takes reject_duplicate, allow_after_failure and allow; absent is absent (older definitions hash as they did)', () => {
    for (const policy of ['reject_duplicate', 'allow_after_failure', 'allow']) {
      const r = parse(wf(task, `  id_reuse: ${policy}\n`));
      expect(r.diagnostics).toEqual([]);
      expect(r.definition!.idReuse).toBe(policy);
    }
    expect('idReuse' in parse(wf(task)).definition!).toBe(false);
  });

  it('refuses any other value at its line and column, with the values to write', () => {
    const text = wf(task, '  id_reuse: allow_duplicate\n');
    const d = only(parse(text), 'LF_SCHEMA');
    expect(d.message).toBe(
      'workflow.id_reuse: expected one of reject_duplicate, allow_after_failure, allow, got "allow_duplicate"',
    );
    expect(d).toMatchObject(pos(text, 'allow_duplicate'));
  });
});
