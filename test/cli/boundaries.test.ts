import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, EXAMPLE, ROOT, storeFiles, tempDir } from '../helpers/cli.js';

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('the CLI refuses bad input plainly: exit 2, a message, no stack trace', () => {
  it.each([
    ['status', '../../etc'],
    ['history', 'a.b'],
    ['resume', 'has space'],
    ['replay', '*'],
    ['cancel', 'x>y'],
  ])('%s %s: an invalid run id', async (command, runId) => {
    const store = tempDir();
    const r = await cli(['--store', store, command, runId]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `error: invalid run id ${JSON.stringify(runId)}: a run id has 1-128 characters among A-Z a-z 0-9 _ -`,
    );
    noStack(r.stderr);
  });

  it('prints the invalid run id error as JSON with --json', async () => {
    const r = await cli(['--store', tempDir(), 'status', '../x', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { code: 'LF_USAGE', message: expect.stringMatching(/^invalid run id/), meta: { runId: '../x' } },
    });
  });

  it('refuses an --input-file that is not a regular file (/dev/zero) instead of reading forever', async () => {
    const store = tempDir();
    const r = await cli(['--store', store, 'run', EXAMPLE, '--input-file', '/dev/zero']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: --input-file /dev/zero is not a regular file; give a JSON or YAML file');
    expect(storeFiles(store)).toEqual([]);
  });

  it('refuses an --input-file over 256 MiB', async () => {
    const dir = tempDir();
    const file = join(dir, 'inputs.json');
    // Sparse: refused by its size, before a byte is read.
    writeFileSync(file, '{"target_folder": "');
    truncateSync(file, 256 * 1024 * 1024 + 1);
    const r = await cli(['--store', join(dir, 'store'), 'run', EXAMPLE, '--input-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /error: --input-file .*inputs\.json has 268435457 bytes; an input file may have at most 256 MiB \(268435456 bytes\)/,
    );
    expect(storeFiles(join(dir, 'store'))).toEqual([]);
  });

  it('validate reports a recursive alias at its place', async () => {
    const file = join(tempDir(), 'loop.yaml');
    writeFileSync(
      file,
      'workflow:\n  id: loop\n  tasks:\n    - id: a\n      type: SIMPLE\n      input: &x { again: [*x] }\n',
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toContain(`${file}:6:27: error: YAML: alias *x is inside the node anchored &x`);
    noStack(r.stdout + r.stderr);
  });
});

describe('a reader that goes away', () => {
  it('ends the command quietly (exit 0, no EPIPE stack trace) when stdout is closed early, as `| head` does', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    // `test` writes a line per definition as it goes: closing the pipe after the first makes a later write fail with EPIPE.
    const child = spawn(
      process.execPath,
      [
        BIN,
        'test',
        ...['inventory-validation', 'lead_qualification', 'revenue_milestone', 'incident-response'].map((d) =>
          join(ROOT, 'definitions', `${d}.yaml`),
        ),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE/);
    noStack(stderr);
    expect(code).toBe(0);
  });
});
