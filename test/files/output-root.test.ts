/**
 * output_to is confined to the output root: a path built from run inputs
 * cannot write outside it by `../`, by being absolute, or through a symlink,
 * and the task fails with LF_OUTPUT_OUTSIDE_ROOT in the run's history.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngine, MemoryEventStore, type RunView } from '../../src/index.js';
import { def } from '../helpers/engine.js';
import { tempDir } from '../helpers/cli.js';

const reports = def(`
workflow:
  id: reports
  name: R
  version: 1
  input: { required: [name] }
  tasks:
    - id: report
      type: SIMPLE
      handler: report
      output_to: "reports/\${workflow.input.name}.yaml"
`);

const handlers = { report: async () => ({ total: 42 }) };

/** A root inside a scratch directory, so `../` from it lands in the scratch directory where the test can look. */
function layout() {
  const scratch = tempDir('lf-out-');
  const root = join(scratch, 'a', 'b', 'root');
  const outside = join(scratch, 'outside');
  mkdirSync(root, { recursive: true });
  mkdirSync(outside);
  return { scratch, root, outside };
}

async function runWith(
  outputRoot: string,
  name: string,
): Promise<{ view: RunView; history: { type: string; data: unknown }[] }> {
  const engine = createEngine({ store: new MemoryEventStore(), outputRoot });
  const view = await engine.run(reports, { name }, { handlers });
  return { view, history: await engine.events(view.runId) };
}

function expectRefused(r: { view: RunView; history: { type: string; data: unknown }[] }, root: string) {
  expect(r.view.status).toBe('FAILED');
  const failed = r.history.find((e) => e.type === 'task.failed')!.data as {
    error: { code: string; message: string; retryable: boolean };
  };
  expect(failed.error).toMatchObject({ code: 'LF_OUTPUT_OUTSIDE_ROOT', retryable: false });
  expect(failed.error.message).toContain(root);
  expect(failed.error.message).toContain('--output-root');
  expect(r.history.some((e) => e.type === 'task.completed')).toBe(false);
}

describe('output_to on the embedded store (library)', () => {
  it('writes a relative path under the output root', async () => {
    const { root } = layout();
    const r = await runWith(root, 'march');
    expect(r.view.status).toBe('COMPLETED');
    expect(readFileSync(join(root, 'reports', 'march.yaml'), 'utf8')).toBe('total: 42\n');
  });

  it('fails the task when ../ in an input leads out of the root, and writes nothing there', async () => {
    const { scratch, root } = layout();
    const r = await runWith(root, '../../../x');
    expectRefused(r, root);
    expect(existsSync(join(scratch, 'a', 'x.yaml'))).toBe(false);
  });

  it('fails the task for an absolute path outside the root, and accepts one inside it', async () => {
    const { root, outside } = layout();
    const abs = def(`
workflow:
  id: abs
  name: A
  version: 1
  input: { required: [path] }
  tasks:
    - id: report
      type: SIMPLE
      handler: report
      output_to: "\${workflow.input.path}"
`);
    const engine = createEngine({ store: new MemoryEventStore(), outputRoot: root });
    const out = await engine.run(abs, { path: join(outside, 'x.yaml') }, { handlers });
    expectRefused({ view: out, history: await engine.events(out.runId) }, root);
    expect(existsSync(join(outside, 'x.yaml'))).toBe(false);
    const ok = await engine.run(abs, { path: join(root, 'in', 'x.yaml') }, { handlers });
    expect(ok.status).toBe('COMPLETED');
    expect(existsSync(join(root, 'in', 'x.yaml'))).toBe(true);
  });

  it('fails the task when a symlink inside the root points outside it', async () => {
    const { root, outside } = layout();
    symlinkSync(outside, join(root, 'reports'));
    const r = await runWith(root, 'march');
    expectRefused(r, root);
    expect(existsSync(join(outside, 'march.yaml'))).toBe(false);
  });

  it('fails the task when the file itself is a symlink to a file outside the root', async () => {
    const { root, outside } = layout();
    mkdirSync(join(root, 'reports'));
    symlinkSync(join(outside, 'target.yaml'), join(root, 'reports', 'march.yaml'));
    const r = await runWith(root, 'march');
    expectRefused(r, root);
    expect(existsSync(join(outside, 'target.yaml'))).toBe(false);
  });

  it('defaults the root to the current directory', async () => {
    const { scratch, root } = layout();
    const engine = createEngine({ store: new MemoryEventStore() });
    const prev = process.cwd();
    process.chdir(root);
    try {
      const ok = await engine.run(reports, { name: 'here' }, { handlers });
      expect(ok.status).toBe('COMPLETED');
      expect(existsSync(join(root, 'reports', 'here.yaml'))).toBe(true);
      const out = await engine.run(reports, { name: '../../../x' }, { handlers });
      expect(out.status).toBe('FAILED');
      expect(existsSync(join(scratch, 'a', 'x.yaml'))).toBe(false);
    } finally {
      process.chdir(prev);
    }
  });

  it('refuses an output root that is not an existing directory when the engine is made', () => {
    const { scratch } = layout();
    expect(() => createEngine({ store: new MemoryEventStore(), outputRoot: join(scratch, 'nope') })).toThrow(
      expect.objectContaining({ code: 'LF_OUTPUT_ROOT_INVALID' }),
    );
  });
});
