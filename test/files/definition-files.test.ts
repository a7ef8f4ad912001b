/**
 * Definition files over the size limit are refused from their size, without
 * being read: by loadDefinitionFile (validate, run, deploy, --definition), and
 * on the dashboard's definitions page (listed with the one problem; the
 * folder's other files still load).
 */
import { openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { definitionsIn, loadDefinitionFile } from '../../src/files/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { DefinitionError } from '../../src/errors/index.js';
import { definitionsInFolder } from '../../src/server/definitions.js';
import { tempDir } from '../helpers/cli.js';

/** A 50 MB file of NUL bytes that takes no disk: read and parsed, it would be YAML errors, not the limit. */
function sparse(file: string, bytes: number): void {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}

describe('definition files over 1 MiB', () => {
  it('loadDefinitionFile refuses a 50 MB file with LF_DEFINITION_TOO_LARGE at 1:1, its exact size named', () => {
    const dir = tempDir();
    const file = join(dir, 'huge.yaml');
    sparse(file, 50 * 1024 * 1024);
    let err: unknown;
    try {
      loadDefinitionFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as DefinitionError).diagnostics).toEqual([
      {
        severity: 'error',
        code: 'LF_DEFINITION_TOO_LARGE',
        path: [],
        line: 1,
        col: 1,
        file,
        message:
          'definition is 52,428,800 bytes, over the limit of 1 MiB (1,048,576 bytes); split it into workflows that call each other (SUB_WORKFLOW, or a MAP with `workflow:`), or keep large data out of it (pass it as run input or read it from a file at run time)',
      },
    ]);
  });

  it('the definitions page lists it with that one problem, and the other files of the folder load', () => {
    const dir = tempDir();
    sparse(join(dir, 'huge.yaml'), 50 * 1024 * 1024);
    writeFileSync(join(dir, 'small.yaml'), 'workflow:\n  id: small\n  tasks:\n    - { id: a, type: SIMPLE }\n');
    const listed = definitionsInFolder(dir);
    expect(listed.map((d) => [d.id, d.definition?.id ?? null, d.problems.map((p) => p.code)])).toEqual([
      ['huge', null, ['LF_DEFINITION_TOO_LARGE']],
      ['small', 'small', []],
    ]);
  });
});

describe('looking a workflow up by id in a folder', () => {
  const def = (id: string) => `workflow:\n  id: ${id}\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n`;

  it('parses only the files that may declare it, and finds it however YAML spells the id', () => {
    const dir = tempDir('lf-byid-');
    writeFileSync(join(dir, 'a.yaml'), def('alpha'));
    writeFileSync(join(dir, 'b.yaml'), def('beta'));
    writeFileSync(join(dir, 'c.yaml'), def('"g\\x61mma"')); // "gamma" with a YAML escape: its text never says gamma
    writeFileSync(join(dir, 'd.yaml'), `${def('delta')}  description: calls beta later\n`);
    const parsed: string[] = [];
    const counting = (text: string, file: string) => {
      parsed.push(file.replace(/.*\//, ''));
      return parseDefinition(text, file);
    };
    // The candidates that parse (the caller picks by id): beta, delta (its text names beta), gamma (an escape); not alpha.
    expect(
      definitionsIn(dir, counting, 'beta')
        .map((d) => d.definition.id)
        .sort(),
    ).toEqual(['beta', 'delta', 'gamma']);
    expect(parsed.sort()).toEqual(['b.yaml', 'c.yaml', 'd.yaml']);
    expect(definitionsIn(dir, parseDefinition, 'gamma').filter((d) => d.definition.id === 'gamma')).toHaveLength(1);
    // Without an id, every file, as before.
    expect(
      definitionsIn(dir)
        .map((d) => d.definition.id)
        .sort(),
    ).toEqual(['alpha', 'beta', 'delta', 'gamma']);
  });

  it('a sub-workflow is checked against the sibling that declares it, and a cycle through the folder is still found', () => {
    const dir = tempDir('lf-byid-');
    writeFileSync(
      join(dir, 'parent.yaml'),
      'workflow:\n  id: parent\n  tasks:\n    - { id: call, type: SUB_WORKFLOW, workflow: middle }\n',
    );
    writeFileSync(
      join(dir, 'middle.yaml'),
      'workflow:\n  id: middle\n  tasks:\n    - { id: call, type: SUB_WORKFLOW, workflow: parent }\n',
    );
    writeFileSync(join(dir, 'other.yaml'), def('other'));
    expect(() => loadDefinitionFile(join(dir, 'parent.yaml'))).toThrow(/parent calls itself: parent → middle → parent/);
    writeFileSync(
      join(dir, 'lone.yaml'),
      'workflow:\n  id: lone\n  tasks:\n    - { id: call, type: SUB_WORKFLOW, workflow: nowhere }\n',
    );
    expect(loadDefinitionFile(join(dir, 'lone.yaml')).warnings.map((w) => w.code)).toEqual([
      'LF_SUBWORKFLOW_NOT_FOUND',
    ]);
  });
});
