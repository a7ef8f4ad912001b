/** Path coverage of the workflow's run timeout (docs/coverage.md): a way for the run to end when the workflow declares one. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePaths, itemKey, runPath } from '../../src/coverage/index.js';
import { def } from '../helpers/engine.js';
import { ROOT } from '../helpers/cli.js';

const fixture = (name: string) => readFileSync(join(ROOT, 'test', 'fixtures', 'run-timeout', name), 'utf8');

describe('the run timeout in path coverage', () => {
  it.each([
    [
      'report.yaml',
      'FAILED',
      'running → failed on run timeout',
      "no task finishes within the run's timeout (2s) → run FAILED",
    ],
    [
      'sign-off.yaml',
      'CANCELLED',
      'running → cancelled on run timeout',
      "no task finishes within the run's timeout (3s) → run cancelled",
    ],
  ])(
    '%s: counts the run timeout as a way to end, and a path that takes it runs on the runtime',
    async (file, outcome, item, name) => {
      const text = fixture(file);
      const report = generatePaths(def(text));
      const key = itemKey({ kind: 'transition', task: null, item });
      const path = report.paths.find((p) => p.covers.includes(key));
      expect(path?.name).toBe(name);
      expect(path!.outcome).toBe(outcome);
      expect(path!.events.at(-1)).toMatchObject({
        type: 'timer.fired',
        data: { task: '$run', timer: 'run_timeout', attempt: 1 },
      });
      expect(report.uncovered).toEqual([]);
      for (const p of report.paths) expect((await runPath(def(text), p)).failure, p.name).toBeNull();
    },
  );

  it('adds nothing for a workflow without a timeout', () => {
    const text = fixture('report.yaml').replace('  timeout: 2s\n', '');
    const report = generatePaths(def(text));
    expect(report.paths.map((p) => p.name)).not.toContain(
      "no task finishes within the run's timeout (2s) → run FAILED",
    );
    expect(report.paths.flatMap((p) => p.covers).some((k) => k.includes('run timeout'))).toBe(false);
  });
});
