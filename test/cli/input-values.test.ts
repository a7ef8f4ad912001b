import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats, skipNote, useCluster } from '../helpers/cluster.js';
import { cli, tempDir } from '../helpers/cli.js';

// The test run's nats-server.
const nats = useCluster({ server: 'shared' });

/** A workflow that records its inputs as they arrive: a string and a boolean. */
function definition(dir: string): string {
  const file = join(dir, 'echo.yaml');
  writeFileSync(
    file,
    `workflow:
  id: echo-args
  name: Echo its inputs
  version: 1
  input:
    required: [arg]
    optional:
      - flag: false
  tasks:
    - id: keep
      type: SET
      variables:
        got: "\${workflow.input.arg}"
`,
  );
  return file;
}

describe('ledgerflow run: an input value that looks like a flag is the value', () => {
  it('takes the token after --<input> verbatim: --version and --help are values, the run starts and records them', async () => {
    const dir = tempDir();
    const file = definition(dir);
    for (const value of ['--version', '--help', '-5', '--json']) {
      const r = await cli(['--store', join(dir, 'store'), 'run', file, '--arg', value, '--json'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', input: { arg: value, flag: false } });
    }
  });

  it('takes --<input>=value verbatim, and after a -- every flag is an input', async () => {
    const dir = tempDir();
    const file = definition(dir);
    const eq = await cli(['--store', join(dir, 'store'), 'run', file, '--json', '--arg=--delete-all'], { cwd: dir });
    expect(eq.code, eq.stderr).toBe(0);
    expect(JSON.parse(eq.stdout).input).toEqual({ arg: '--delete-all', flag: false });
    // After `--`, --json is no option of run but an input's value; --flag (boolean) stands alone.
    const dashes = await cli(
      ['--store', join(dir, 'store'), 'run', file, '--json', '--', '--flag', '--arg', '--json'],
      { cwd: dir },
    );
    expect(dashes.code, dashes.stderr).toBe(0);
    expect(JSON.parse(dashes.stdout).input).toEqual({ arg: '--json', flag: true });
    // Run's own options still work after the inputs, and a boolean input still stands alone before one.
    const mixed = await cli(['run', file, '--arg', 'x', '--flag', '--json', '--store', join(dir, 'store')], {
      cwd: dir,
    });
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(JSON.parse(mixed.stdout).input).toEqual({ arg: 'x', flag: true });
  });

  it('start of a workflow in ./definitions reads the inputs after a -- as run does', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'definitions'));
    renameSync(definition(dir), join(dir, 'definitions', 'echo.yaml'));
    const r = await cli(
      ['--store', join(dir, 'store'), 'start', 'echo-args', '--json', '--', '--flag', '--arg', '--json'],
      {
        cwd: dir,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'COMPLETED', input: { arg: '--json', flag: true } });
  });

  it('still answers --help after the file, and refuses an unknown flag or a missing value (exit 2, nothing started)', async () => {
    const dir = tempDir();
    const file = definition(dir);
    const help = await cli(['--store', join(dir, 'store'), 'run', file, '--help'], { cwd: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ledgerflow run');
    const unknown = await cli(['--store', join(dir, 'store'), 'run', file, '--nope', 'x'], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown option --nope');
    const missing = await cli(['--store', join(dir, 'store'), 'run', file, '--arg'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--arg needs a value');
    const list = await cli(['--store', join(dir, 'store'), 'list', '--json'], { cwd: dir });
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});

describe.skipIf(noNats)(
  `ledgerflow start over NATS: an input value that looks like a flag is the value${skipNote}`,
  () => {
    it('records --arg --version as the input, not the version', async () => {
      const dir = tempDir();
      const file = definition(dir);
      const deployed = await cli(['--nats', nats.url, 'deploy', file]);
      expect(deployed.code, deployed.stderr).toBe(0);
      const started = await cli(['--nats', nats.url, 'start', 'echo-args', '--arg', '--version', '--json']);
      expect(started.code, started.stderr).toBe(0);
      const { runId } = JSON.parse(started.stdout);
      const status = await cli(['--nats', nats.url, 'status', runId, '--json']);
      expect(JSON.parse(status.stdout).input).toEqual({ arg: '--version', flag: false });
      const eq = await cli(['start', 'echo-args', '--arg=-x', '--json', '--nats', nats.url]);
      expect(eq.code, eq.stderr).toBe(0);
      const status2 = await cli(['--nats', nats.url, 'status', JSON.parse(eq.stdout).runId, '--json']);
      expect(JSON.parse(status2.stdout).input).toEqual({ arg: '-x', flag: false });
      // After `--` a boolean input stands alone before the last input's flag-like value, as on the embedded store.
      const dashes = await cli(['--nats', nats.url, 'start', 'echo-args', '--json', '--', '--flag', '--arg', '--json']);
      expect(dashes.code, dashes.stderr).toBe(0);
      const status3 = await cli(['--nats', nats.url, 'status', JSON.parse(dashes.stdout).runId, '--json']);
      expect(JSON.parse(status3.stdout).input).toEqual({ arg: '--json', flag: true });
    });
  },
);
