/**
 * Definition files over the size limit are refused from their size, without
 * being read: by loadDefinitionFile (validate, run, deploy, --definition), and
 * on the dashboard's definitions page (listed with the one problem; the
 * folder's other files still load).
 */
import { openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDefinitionFile } from '../../src/files/index.js';
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
    try { loadDefinitionFile(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as DefinitionError).diagnostics).toEqual([{
      severity: 'error', code: 'LF_DEFINITION_TOO_LARGE', path: [], line: 1, col: 1, file,
      message: 'definition is 52,428,800 bytes, over the limit of 1 MiB (1,048,576 bytes); split it into workflows that call each other (SUB_WORKFLOW, or a MAP with `workflow:`), or keep large data out of it (pass it as run input or read it from a file at run time)',
    }]);
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
