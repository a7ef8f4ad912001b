/**
 * `ledgerflow run` / `resume` on the embedded store: output_to is confined to
 * --output-root (or LEDGERFLOW_OUTPUT_ROOT, or the current directory); a path
 * that leads out fails the task with LF_OUTPUT_OUTSIDE_ROOT, in the history.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, expectEveryRunReplays, storeFiles, tempDir } from '../helpers/cli.js';

afterAll(async () => {
  expect(await expectEveryRunReplays()).toBeGreaterThan(3);
});

const HANDLERS = 'export default { report: async () => ({ total: 42 }) };\n';
const definition = (id: string, outputTo: string, input: string) => `workflow:
  id: ${id}
  name: R
  version: 1
  input: { required: [${input}] }
  tasks:
    - id: report
      type: SIMPLE
      handler: report
      output_to: "${outputTo}"
`;

/** A scratch directory with the definitions, a root two levels down (so ../ from it lands where the test looks) and a folder outside it. */
function layout() {
  const scratch = tempDir('lf-out-cli-');
  const root = join(scratch, 'a', 'b', 'root');
  const outside = join(scratch, 'outside');
  mkdirSync(root, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(scratch, 'handlers.mjs'), HANDLERS);
  writeFileSync(join(scratch, 'reports.yaml'), definition('reports', 'reports/${workflow.input.name}.yaml', 'name'));
  writeFileSync(join(scratch, 'abs.yaml'), definition('abs', '${workflow.input.path}', 'path'));
  return { scratch, root, outside, store: join(scratch, 'store'), handlers: join(scratch, 'handlers.mjs') };
}

async function expectRefusedInHistory(store: string, stdout: string, root: string) {
  const view = JSON.parse(stdout);
  expect(view.status).toBe('FAILED');
  expect(view.tasks.report.error).toMatchObject({ code: 'LF_OUTPUT_OUTSIDE_ROOT', retryable: false });
  expect(view.tasks.report.error.message).toContain(root);
  const history = JSON.parse((await cli(['--store', store, 'history', view.runId, '--json'])).stdout) as {
    type: string;
    data: { error?: { code: string } };
  }[];
  expect(history.find((e) => e.type === 'task.failed')?.data.error?.code).toBe('LF_OUTPUT_OUTSIDE_ROOT');
  expect(history.some((e) => e.type === 'task.completed')).toBe(false);
}

describe('ledgerflow run: output_to stays inside the output root', () => {
  it('writes relative paths under --output-root, not the current directory', async () => {
    const { scratch, root, store, handlers } = layout();
    const r = await cli(
      [
        '--store',
        store,
        'run',
        join(scratch, 'reports.yaml'),
        '--name',
        'march',
        '--handlers',
        handlers,
        '--output-root',
        root,
        '--json',
      ],
      { cwd: scratch },
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(root, 'reports', 'march.yaml'), 'utf8')).toBe('total: 42\n');
    expect(existsSync(join(scratch, 'reports'))).toBe(false);
  });

  it('fails the task when ../ leads out of the current directory (the default root), and writes nothing there', async () => {
    const { scratch, root, store, handlers } = layout();
    const r = await cli(
      [
        '--store',
        store,
        'run',
        join(scratch, 'reports.yaml'),
        '--name',
        '../../../x',
        '--handlers',
        handlers,
        '--json',
      ],
      { cwd: root },
    );
    expect(r.code).toBe(1);
    await expectRefusedInHistory(store, r.stdout, root);
    expect(existsSync(join(scratch, 'a', 'x.yaml'))).toBe(false);
  });

  it('fails the task for an absolute path outside --output-root (or LEDGERFLOW_OUTPUT_ROOT)', async () => {
    const { scratch, root, outside, store, handlers } = layout();
    const flag = await cli(
      [
        '--store',
        store,
        'run',
        join(scratch, 'abs.yaml'),
        '--path',
        join(outside, 'x.yaml'),
        '--handlers',
        handlers,
        '--output-root',
        root,
        '--json',
      ],
      { cwd: scratch },
    );
    expect(flag.code).toBe(1);
    await expectRefusedInHistory(store, flag.stdout, root);
    const env = await cli(
      [
        '--store',
        store,
        'run',
        join(scratch, 'abs.yaml'),
        '--path',
        join(scratch, 'x.yaml'),
        '--handlers',
        handlers,
        '--json',
      ],
      { cwd: scratch, env: { LEDGERFLOW_OUTPUT_ROOT: root } },
    );
    expect(env.code).toBe(1);
    await expectRefusedInHistory(store, env.stdout, root);
    expect([existsSync(join(outside, 'x.yaml')), existsSync(join(scratch, 'x.yaml'))]).toEqual([false, false]);
  });

  it('fails the task when a symlink inside the root points outside it', async () => {
    const { scratch, root, outside, store, handlers } = layout();
    symlinkSync(outside, join(root, 'reports'));
    const r = await cli(
      [
        '--store',
        store,
        'run',
        join(scratch, 'reports.yaml'),
        '--name',
        'march',
        '--handlers',
        handlers,
        '--output-root',
        root,
        '--json',
      ],
      { cwd: scratch },
    );
    expect(r.code).toBe(1);
    await expectRefusedInHistory(store, r.stdout, root);
    expect(existsSync(join(outside, 'march.yaml'))).toBe(false);
  });

  it('resume confines output_to to its --output-root too', async () => {
    const { scratch, root, store, handlers } = layout();
    writeFileSync(
      join(scratch, 'gated.yaml'),
      `workflow:
  id: gated
  name: G
  version: 1
  input: { required: [name] }
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
    - { id: report, type: SIMPLE, depends_on: [sign], handler: report, output_to: "reports/\${workflow.input.name}.yaml" }
`,
    );
    const started = await cli(
      ['--store', store, 'run', join(scratch, 'gated.yaml'), '--name', '../../../x', '--handlers', handlers, '--json'],
      { cwd: scratch },
    );
    expect(started.code).toBe(3);
    const { runId } = JSON.parse(started.stdout);
    // approve moves the run on here, confined to its --output-root as resume's is; resume then finds it settled.
    expect(
      (
        await cli(['--store', store, 'approve', runId, 'sign', '--as', 'alice', '--output-root', root], {
          cwd: scratch,
        })
      ).code,
    ).toBe(0);
    const r = await cli(['--store', store, 'resume', runId, '--output-root', root, '--json'], { cwd: scratch });
    expect(r.code).toBe(1);
    await expectRefusedInHistory(store, r.stdout, root);
    expect(existsSync(join(scratch, 'a', 'x.yaml'))).toBe(false);
  });

  it('refuses an --output-root that is not an existing directory (exit 2, nothing written)', async () => {
    const { scratch, store, handlers } = layout();
    for (const [args, env] of [
      [['--output-root', join(scratch, 'nope')], {}],
      [[], { LEDGERFLOW_OUTPUT_ROOT: join(scratch, 'handlers.mjs') }],
    ] as const) {
      const r = await cli(
        ['--store', store, 'run', join(scratch, 'reports.yaml'), '--name', 'march', '--handlers', handlers, ...args],
        { cwd: scratch, env },
      );
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/(--output-root|LEDGERFLOW_OUTPUT_ROOT) ".*" must be an existing directory/);
    }
    expect(storeFiles(store)).toEqual([]);
  });
});
