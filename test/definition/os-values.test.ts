import { describe, expect, it } from 'vitest';
import { only, parse, pos } from './helpers.js';

const wf = (tasks: string) => `workflow:\n  id: os-values\n  tasks:\n${tasks}`;

describe('values the operating system would refuse are refused at validation, at their place', () => {
  it.each(['.', '..', 'out/', 'reports/..', './'])(
    'output_to: "%s" names a directory (it failed the task with a raw EISDIR)',
    (value) => {
      const text = wf(`    - { id: a, type: SIMPLE, output_to: "${value}" }\n`);
      const d = only(parse(text), 'LF_OUTPUT_TO_DIRECTORY');
      expect(d.message).toBe(
        `output_to of task a is "${value}", which names a directory, not a file the output can be written to; name a file, e.g. output_to: out/a.yaml`,
      );
      expect(d).toMatchObject(pos(text, `"${value}"`));
    },
  );

  it('an empty output_to is refused too; a template in the last segment is left to run time', () => {
    expect(only(parse(wf('    - { id: a, type: SIMPLE, output_to: "" }\n')), 'LF_OUTPUT_TO_DIRECTORY').message).toMatch(
      /^output_to of task a is empty, not a file/,
    );
    const ok = parse(
      wf(
        '    - { id: a, type: SIMPLE, output_to: "out/${workflow.id}.yaml" }\n    - { id: b, type: SIMPLE, output_to: "${workflow.id}" }\n    - { id: c, type: SIMPLE, output_to: ".hidden" }\n',
      ),
    );
    expect(ok.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('a NUL character in a COMMAND argument, cwd or env value (spawn threw ERR_INVALID_ARG_VALUE at run time)', () => {
    const text = wf('    - { id: a, type: COMMAND, command: [echo, "x\\0y"], cwd: "d\\0", env: { X: "v\\0" } }\n');
    const r = parse(text);
    expect(r.definition).toBeNull();
    expect(r.diagnostics.filter((d) => d.code === 'LF_NUL_CHARACTER').map((d) => [d.message, d.col])).toEqual([
      [
        'command[1] of task a holds a NUL character (\\0), which no program argument or environment value can carry; remove it',
        pos(text, '"x\\0y"').col,
      ],
      [
        'cwd of task a holds a NUL character (\\0), which no program argument or environment value can carry; remove it',
        pos(text, '"d\\0"').col,
      ],
      [
        'env X of task a holds a NUL character (\\0), which no program argument or environment value can carry; remove it',
        pos(text, '"v\\0"').col,
      ],
    ]);
  });
});
