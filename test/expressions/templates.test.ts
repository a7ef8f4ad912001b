import { describe, it, expect } from 'vitest';
import { collectRefs, findRefs, resolveTemplate, type Scope } from '../../src/expressions/index.js';
import { thrown } from '../helpers/errors.js';

const scope: Scope = {
  input: { target_folder: '/data', strict_mode: false, nested: { a: [10, 20] } },
  workflow: { id: 'inventory', runId: 'run-1', version: 3 },
  tasks: {
    scan_files: { status: 'COMPLETED', attempts: 2, output: { file_list: ['a.txt', 'b.txt'], count: 2 } },
    'load-policy': { status: 'FAILED', error: { message: 'boom' } },
  },
};

describe('findRefs', () => {
  it('parses every accepted form with its offset', () => {
    const refs = findRefs(
      '${workflow.input} ${workflow.input.nested.a[1]} ${workflow.runId} ${scan_files.output.file_list[0]} ${load-policy.error.message} ${scan_files.attempts}',
    );
    expect(refs.map((r) => r.ref)).toEqual([
      { kind: 'input', name: null, path: [] },
      { kind: 'input', name: 'nested', path: ['a', '1'] },
      { kind: 'workflow', field: 'runId' },
      { kind: 'task', task: 'scan_files', field: 'output', path: ['file_list', '0'] },
      { kind: 'task', task: 'load-policy', field: 'error', path: ['message'] },
      { kind: 'task', task: 'scan_files', field: 'attempts', path: [] },
    ]);
    expect(refs[1]).toMatchObject({ text: '${workflow.input.nested.a[1]}', offset: 18 });
  });

  it('treats $${ as a literal ${', () => {
    expect(findRefs('echo $${HOME} ${x.output}')).toHaveLength(1);
    expect(resolveTemplate('echo $${HOME}', scope)).toBe('echo ${HOME}');
  });

  it('reports an unterminated ${ with its column', () => {
    const err = thrown(() => findRefs('path: ${scan_files.output'));
    expect(err.message).toBe('unterminated "${" (missing "}") at column 7 in template "path: ${scan_files.output"');
    expect(err.meta.column).toBe(7);
  });

  it('explains the accepted forms for a malformed reference', () => {
    const err = thrown(() => findRefs('x ${scan_files.result}'));
    expect(err.message).toMatch(
      /^malformed reference \$\{scan_files.result\}: "scan_files.result" is not a reference; expected \$\{workflow.input\}/,
    );
    expect(err.meta.column).toBe(3);
    expect(thrown(() => findRefs('${workflow.name}')).message).toContain('"workflow.name" is not a workflow field');
    expect(thrown(() => findRefs('${a.output.b c}')).message).toContain('unexpected " "');
    expect(thrown(() => findRefs('${a.status.x}')).message).toContain('has no path');
  });

  it('rejects prototype keys in paths', () => {
    expect(thrown(() => findRefs('${x.output.__proto__}')).message).toContain('property "__proto__" is not allowed');
    expect(thrown(() => findRefs('${workflow.input.constructor}')).message).toContain(
      'property "constructor" is not allowed',
    );
  });
});

describe('collectRefs', () => {
  it('walks objects and arrays and reports the path inside the tree', () => {
    const found = collectRefs({ a: 'x', b: ['${workflow.id}', { c: 'n=${scan_files.output.count}' }], d: 5 });
    expect(found).toEqual([
      { ref: { kind: 'workflow', field: 'id' }, path: ['b', 0], text: '${workflow.id}', offset: 0 },
      {
        ref: { kind: 'task', task: 'scan_files', field: 'output', path: ['count'] },
        path: ['b', 1, 'c'],
        text: '${scan_files.output.count}',
        offset: 2,
      },
    ]);
  });
});

describe('resolveTemplate', () => {
  it('yields the raw value for a string that is exactly one reference', () => {
    expect(resolveTemplate('${scan_files.output}', scope)).toEqual({ file_list: ['a.txt', 'b.txt'], count: 2 });
    expect(resolveTemplate('${scan_files.output.count}', scope)).toBe(2);
    expect(resolveTemplate('${workflow.input.strict_mode}', scope)).toBe(false);
    expect(resolveTemplate('${workflow.version}', scope)).toBe(3);
  });

  it('interpolates text around references: objects as JSON, missing as empty', () => {
    expect(resolveTemplate('${workflow.input.target_folder}/out-${workflow.runId}.yaml', scope)).toBe(
      '/data/out-run-1.yaml',
    );
    expect(resolveTemplate('files=${scan_files.output.file_list}', scope)).toBe('files=["a.txt","b.txt"]');
    expect(resolveTemplate('[${nobody.output.x}]', scope)).toBe('[]');
  });

  it('resolves deeply and leaves non-strings alone', () => {
    const out = resolveTemplate(
      { n: 1, ok: true, none: null, list: ['${load-policy.status}', '${load-policy.error.message}'] },
      scope,
    );
    expect(out).toEqual({ n: 1, ok: true, none: null, list: ['FAILED', 'boom'] });
  });

  it('resolves missing things to undefined rather than failing', () => {
    expect(resolveTemplate('${nobody.output}', scope)).toBeUndefined();
    expect(resolveTemplate('${scan_files.output.file_list[7]}', scope)).toBeUndefined();
    expect(resolveTemplate('${workflow.input.nested.a.length}', scope)).toBeUndefined();
  });

  it('never reads inherited properties', () => {
    const s: Scope = { ...scope, input: Object.create({ inherited: 'secret' }) as Record<string, unknown> };
    expect(resolveTemplate('${workflow.input.inherited}', s)).toBeUndefined();
    expect(resolveTemplate('${scan_files.output.toString}', scope)).toBeUndefined();
  });

  it('keeps a __proto__ key of the template as data', () => {
    const tree = JSON.parse('{"__proto__": "${workflow.id}"}') as unknown;
    const out = resolveTemplate(tree, scope) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
