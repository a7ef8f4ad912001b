/**
 * `ledgerflow run <workflow id>` where a file is wanted, as a newcomer types
 * it from the clone's definitions/: the error says which file declares that
 * id and the command to run; elsewhere it is the plain "no such file".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

describe('run <workflow id>', () => {
  it('names the file of ./definitions that declares the id, and the command to run it (exit 2, nothing run)', async () => {
    const cwd = tempDir('lf-run-id-');
    mkdirSync(join(cwd, 'definitions'));
    writeFileSync(
      join(cwd, 'definitions', 'hello.yaml'),
      'workflow:\n  id: hello-v1\n  tasks:\n    - { id: a, type: SET, values: { x: 1 } }\n',
    );
    const r = await cli(['run', 'hello-v1'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'cannot read definition hello-v1: no such file; definitions/hello.yaml declares workflow hello-v1: run the file, e.g. `ledgerflow run definitions/hello.yaml`',
    );
    const plain = await cli(['run', 'nothing-declares-this'], { cwd });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/cannot read definition nothing-declares-this: no such file\n/);
  });
});
