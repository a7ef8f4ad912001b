/**
 * Limits and plain refusals as a user meets them: `ledgerflow validate` of a
 * definition over the size or task limit, and duration flags over the 365d
 * cap definitions have. Each exits 2 with the limit named and the fix.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLE, storeFiles, tempDir } from '../helpers/cli.js';

const tasks = (n: number) => Array.from({ length: n }, (_, i) => `    - { id: t${i}, type: SIMPLE }\n`).join('');
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('ledgerflow validate refuses a definition over a limit, naming it', () => {
  it('a 2 MiB file: refused from its size, before parsing (one LF_DEFINITION_TOO_LARGE at 1:1, none of its YAML errors)', async () => {
    const dir = tempDir();
    const file = join(dir, 'big.yaml');
    // Broken YAML throughout: parsed, it would be syntax errors.
    const text = `workflow:\n  id: big\n  tasks: [[[\n${'  : : ]]\n'.repeat(240_000)}`;
    writeFileSync(file, text);
    const size = Buffer.byteLength(text).toLocaleString('en-US');
    const r = await cli(['validate', file, '--json']);
    expect(r.code).toBe(2);
    const [report] = JSON.parse(r.stdout);
    expect(report.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'LF_DEFINITION_TOO_LARGE',
        path: [],
        line: 1,
        col: 1,
        file,
        message: `definition is ${size} bytes, over the limit of 1 MiB (1,048,576 bytes); split it into workflows that call each other (SUB_WORKFLOW, or a MAP with \`workflow:\`), or keep large data out of it (pass it as run input or read it from a file at run time)`,
      },
    ]);
    const plain = await cli(['validate', file]);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain(`${file}:1:1: error: definition is ${size} bytes, over the limit of 1 MiB`);
    noStack(plain.stderr);
  });

  it('a device, or a symlink named *.yaml to one, is refused unread (validate /dev/zero read 3 GB); a definitions folder passes it over', async () => {
    const dir = tempDir();
    for (const target of ['/dev/zero', 'zero.yaml']) {
      if (target === 'zero.yaml') symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
      const file = target === 'zero.yaml' ? join(dir, 'zero.yaml') : target;
      const r = await cli(['validate', file, '--json']);
      expect(r.code, r.stderr).toBe(2);
      expect(JSON.parse(r.stdout)[0].diagnostics).toEqual([
        expect.objectContaining({
          code: 'LF_DEFINITION_NOT_A_FILE',
          file,
          message: `${file} is not a regular file (a device, a FIFO or a folder); a definition is a YAML file`,
        }),
      ]);
    }
    // In a project's definitions folder beside a real definition: `run <id>` names the real one's file, the link is never read.
    mkdirSync(join(dir, 'definitions'));
    symlinkSync('/dev/zero', join(dir, 'definitions', 'a-zero.yaml'));
    writeFileSync(
      join(dir, 'definitions', 'hello.yaml'),
      'workflow:\n  id: hello\n  tasks:\n    - { id: done, type: SET, variables: { ok: true } }\n',
    );
    expect((await cli(['run', 'hello'], { cwd: dir })).stderr).toContain(
      'definitions/hello.yaml declares workflow hello',
    );
    const run = await cli(['run', 'definitions/hello.yaml', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'COMPLETED' });
  });

  it('5,001 tasks: refused at the tasks key with the limit named; 5,000 validate', async () => {
    const dir = tempDir();
    const head = 'workflow:\n  id: many\n  name: Many\n  version: 1\n  tasks:\n';
    writeFileSync(join(dir, 'many.yaml'), head + tasks(5001));
    writeFileSync(join(dir, 'enough.yaml'), head + tasks(5000));
    const r = await cli(['validate', join(dir, 'many.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${join(dir, 'many.yaml')}:5:3: error: workflow has 5,001 tasks, over the limit of 5,000; split it into workflows that call each other (SUB_WORKFLOW, or a MAP with \`workflow:\`), or run one task per item with a MAP`,
    );
    expect((await cli(['validate', join(dir, 'enough.yaml')])).code).toBe(0);
  });

  it('run refuses it the same way and records nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'many.yaml'), `workflow:\n  id: many\n  tasks:\n${tasks(5001)}`);
    const r = await cli(['--store', join(dir, 'store'), 'run', join(dir, 'many.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('workflow has 5,001 tasks, over the limit of 5,000');
    expect(storeFiles(join(dir, 'store'))).toEqual([]);
  });
});

describe('duration flags have the cap definitions have (365d): exit 2, the cap named', () => {
  const run = ['run', EXAMPLE, '--target_folder', 'x', '--policy_file', 'p'];
  it.each([
    ['run --max-wait', [...run, '--max-wait', '9999999d'], '--max-wait 9999999d is longer than 365d'],
    ['run --commit-window', [...run, '--commit-window', '366d'], '--commit-window 366d is longer than 365d'],
    ['serve --grace', ['serve', '--grace', 'P400D'], '--grace P400D is longer than 365d'],
    ['emit --max-wait', ['emit', 'x.y', '--max-wait', '53w'], '--max-wait 53w is longer than 365d'],
    [
      'wait --timeout (before connecting)',
      ['wait', 'r1', '--timeout', '9999999d', '--nats', 'nats://127.0.0.1:1'],
      '--timeout 9999999d is longer than 365d',
    ],
    [
      'approve --wait (before connecting)',
      ['approve', 'r1', 't', '--as', 'a', '--wait', '9999999d', '--nats', 'nats://127.0.0.1:1'],
      '--wait 9999999d is longer than 365d',
    ],
    ['list --since', ['list', '--since', '99999999999d'], '--since "99999999999d" is longer ago than 365d'],
  ])('%s', async (_what, args, message) => {
    const store = tempDir();
    const r = await cli(['--store', store, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
    noStack(r.stderr);
    expect(storeFiles(store)).toEqual([]);
  });

  it('365d itself is taken', async () => {
    const r = await cli([
      '--store',
      tempDir(),
      'run',
      EXAMPLE,
      '--target_folder',
      'x',
      '--policy_file',
      'p',
      '--max-wait',
      '365d',
      '--json',
    ]);
    expect(r.stderr).not.toContain('longer than 365d');
  });
});

describe('ledgerflow validate and YAML anchors above workflow:', () => {
  it('takes an alias of an anchor on a top-level key three lines above (it said "no anchor &j comes before it")', async () => {
    const dir = tempDir();
    const file = join(dir, 'shared.yaml');
    writeFileSync(
      file,
      'defaults: &j\n  handler: step\n  timeout: 30s\nworkflow:\n  id: shared\n  tasks:\n    - { id: a, type: SIMPLE, <<: *j }\n    - { id: b, type: SIMPLE, depends_on: a, <<: *j }\n',
    );
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('what the operating system would refuse, as ledgerflow run and validate meet it', () => {
  const say =
    'workflow:\n  id: say\n  input:\n    required: [where, arg]\n  tasks:\n    - id: say\n      type: COMMAND\n      command: [echo, \'{"ok": true}\', "${workflow.input.arg}"]\n      output_to: "${workflow.input.where}"\n      retry_policy: { max_attempts: 3 }\n';

  it('validate refuses output_to: "." and a NUL in a command argument, each at its place', async () => {
    const dir = tempDir();
    const file = join(dir, 'literal.yaml');
    writeFileSync(
      file,
      'workflow:\n  id: literal\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, "x\\0y"], output_to: "." }\n',
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}:4:47: error: command[1] of task a holds a NUL character (\\0), which no program argument or environment value can carry; remove it`,
    );
    expect(r.stderr).toContain(
      `${file}:4:67: error: output_to of task a is ".", which names a directory, not a file the output can be written to; name a file, e.g. output_to: out/a.yaml`,
    );
  });

  it.each([
    [{ where: '.', arg: 'x' }, 'LF_OUTPUT_TO_DIRECTORY', 'output_to "." names a directory'],
    [
      { where: 'o.yaml', arg: 'a\u0000b' },
      'LF_NUL_CHARACTER',
      'task say: command[2] resolves to a value with a NUL character',
    ],
  ])('run with %j: the task fails once with %s, a clear message, not retried', async (input, code, message) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'say.yaml'), say);
    writeFileSync(join(dir, 'input.json'), JSON.stringify(input));
    const r = await cli(
      ['--store', join(dir, 'store'), 'run', join(dir, 'say.yaml'), '--input-file', join(dir, 'input.json'), '--json'],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    const view = JSON.parse(r.stdout);
    expect(view.tasks.say).toMatchObject({ status: 'FAILED', attempts: 1, error: { code, retryable: false } });
    expect(view.tasks.say.error.message).toContain(message);
    expect(r.stderr).toContain(`✗ say failed: ${message}`);
  });
});
