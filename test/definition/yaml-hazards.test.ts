import { describe, it, expect } from 'vitest';
import { only, parse, pos, wf } from './helpers.js';

describe('YAML that cannot become a definition is an error at its place, never a crash', () => {
  it('refuses an alias inside its own anchor (a recursive structure)', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      input: &loop { again: [*loop] }\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    const d = only(r, 'LF_YAML_ALIAS');
    expect(d.message).toBe(
      'YAML: alias *loop is inside the node anchored &loop, so it would contain itself; a definition must be a tree',
    );
    expect(d).toMatchObject(pos(text, '*loop'));
  });

  it('reports an unknown alias where it is written', () => {
    const text = wf('    - id: a\n      type: *nope\n');
    const d = only(parse(text), 'LF_YAML_ALIAS');
    expect(d.message).toBe('YAML: unknown alias *nope: no anchor &nope comes before it');
    expect(d).toMatchObject(pos(text, '*nope'));
  });

  it('finds an anchor on a top-level key above workflow: (those lines were blanked as a banner, so *j was "unknown")', () => {
    const text =
      'defaults: &j\n  timeout: 30s\n  handler: step\nworkflow:\n  id: w\n  tasks:\n    - { id: a, type: SIMPLE, <<: *j }\n';
    const r = parse(text);
    expect(r.diagnostics).toEqual([]);
    expect(r.definition!.tasks[0]).toMatchObject({ id: 'a', handler: 'step', timeoutMs: 30_000 });
    // A top-level key that is not anchored is still an unknown key.
    const stray = parse(`name: oops\n${text}`);
    expect(stray.diagnostics.map((d) => [d.code, d.line])).toEqual([['LF_UNKNOWN_KEY', 1]]);
  });

  it('an alias to an anchor that truly comes later is still unknown, at the alias', () => {
    const text = wf('    - { id: a, type: SIMPLE, <<: *j }\n    - &j { id: b, type: SIMPLE }\n');
    const d = only(parse(text), 'LF_YAML_ALIAS');
    expect(d.message).toBe('YAML: unknown alias *j: no anchor &j comes before it');
    expect(d).toMatchObject(pos(text, '*j'));
  });

  it('an anchor inside a banner that is not YAML: says the banner is ignored and how to fix it', () => {
    const text =
      '=== ops banner ===\nshared: &j { timeout: 30s } ::: art\nworkflow:\n  id: w\n  tasks:\n    - { id: a, type: SIMPLE, <<: *j }\n';
    const d = only(parse(text), 'LF_YAML_ALIAS');
    expect(d.message).toBe(
      'YAML: unknown alias *j: its anchor &j is above `workflow:` among lines that are not YAML, which are ignored as a banner; move the anchor under `workflow:`, or make the lines above it YAML (comments, keys)',
    );
    expect(d).toMatchObject(pos(text, '*j'));
  });

  it('refuses an exponential alias expansion ("billion laughs") with the yaml package limit', () => {
    const levels = ['    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `    l${i}: &l${i} [${Array(9)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    const text = wf('    - { id: a, type: SIMPLE }\n', `  monitoring:\n${levels.join('\n')}\n`);
    const d = only(parse(text), 'LF_YAML_ALIAS');
    expect(d.message).toMatch(/^YAML: aliases expand to more than 10000 copies of their anchors/);
    expect(d).toMatchObject(pos(text, '*l0'));
  });

  it('lets a few thousand tasks share one anchor through a merge key', () => {
    const tasks = ['    - &base { id: t0, type: SIMPLE, timeout: 30s }'];
    for (let i = 1; i < 2000; i++) tasks.push(`    - { <<: *base, id: t${i} }`);
    const r = parse(wf(`${tasks.join('\n')}\n`));
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.definition!.tasks[1999]).toMatchObject({ id: 't1999', timeoutMs: 30_000 });
  });

  it('accepts a UTF-8 byte order mark, and positions stay those an editor shows', () => {
    const text = wf('    - id: a\n      type: SIMPLE\n      timeout: soon\n');
    const r = parse(`\uFEFF${text}`);
    expect(r.diagnostics.find((d) => d.code === 'LF_NO_WORKFLOW')).toBeUndefined();
    expect(only(r, 'LF_SCHEMA')).toMatchObject(pos(text, 'soon'));
    expect(parse(`\uFEFF${wf('    - { id: a, type: SIMPLE }\n')}`).definition).not.toBeNull();
  });
});
