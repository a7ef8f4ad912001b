import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, skipNote, useCluster } from '../helpers/cluster.js';
import { cli, tempDir } from '../helpers/cli.js';

// The test run's nats-server.
const nats = useCluster({ server: 'shared' });

/** A definition whose COMMAND passes a templated argument to `cat`, with or without the `--` the docs put before it. */
function definition(dir: string, command: string): string {
  const file = join(dir, 'show.yaml');
  writeFileSync(
    file,
    `workflow:
  id: show-file
  name: Show a file
  version: 1
  input:
    required: [file]
  tasks:
    - id: show
      type: COMMAND
      command: ${command}
`,
  );
  return file;
}

describe('COMMAND arguments that start with a template', () => {
  it('validate warns at the argument (file:line:col) with the fix; --strict refuses it', async () => {
    const dir = tempDir();
    const file = definition(dir, '[cat, "${workflow.input.file}"]');
    const r = await cli(['validate', file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `${file}:10:22: warning: argument 1 of COMMAND task show starts with a template ("\${workflow.input.file}"): a value starting with - reaches cat as an option (e.g. --delete-all); put "--" before the templated arguments (["cat", "--", "\${workflow.input.file}"])`,
    );
    const json = JSON.parse((await cli(['validate', file, '--json'])).stdout);
    expect(json[0].diagnostics).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'LF_COMMAND_ARG_OPTION', line: 10, col: 22 }),
    ]);
    expect((await cli(['validate', file, '--strict'])).code).toBe(2);
  });

  it('the documented form (-- before the templated arguments) validates clean and hands a value like --delete-all to the program as an operand', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '--delete-all'), '{"shown": true}\n');
    const file = definition(dir, '[cat, --, "${workflow.input.file}"]');
    const v = await cli(['validate', file]);
    expect(v.stderr).toBe('');
    const r = await cli(['--store', join(dir, 'store'), 'run', file, '--file', '--delete-all', '--json'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tasks.show.output).toEqual({ shown: true });
    // Without it, cat takes the value for an option and the attempt fails; run says why beforehand.
    const bare = definition(dir, '[cat, "${workflow.input.file}"]');
    const failed = await cli(['--store', join(dir, 'store'), 'run', bare, '--file', '--delete-all', '--json'], {
      cwd: dir,
    });
    expect(failed.stderr).toContain('warning: argument 1 of COMMAND task show starts with a template');
    expect(failed.code).toBe(1);
  });

  it('leaves alone the arguments a script gets from its interpreter, and values inside an option', async () => {
    const dir = tempDir();
    const file = definition(
      dir,
      `
        - sh
        - -c
        - 'cat -- "$1"'
        - sh
        - "\${workflow.input.file}"
    - id: scan
      type: COMMAND
      command: [sh, scripts/scan.sh, "\${workflow.input.file}"]
    - id: inside
      type: COMMAND
      command: [grep, "--regexp=\${workflow.input.file}", "out/\${workflow.input.file}"]`,
    );
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe.skipIf(noNats)(`ledgerflow deploy over NATS warns the same${skipNote}`, () => {
  it('prints the warning with its place when deploying', async () => {
    const dir = tempDir();
    const file = definition(dir, '[cat, "${workflow.input.file}"]');
    const r = await cli(['--nats', nats.url, 'deploy', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`${file}:10:22: warning: argument 1 of COMMAND task show starts with a template`);
  });
});
