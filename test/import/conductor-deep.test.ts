/**
 * A Conductor file nested 100,000 deep (issue 60: the import died with "Maximum call stack size exceeded" and a
 * stack trace): refused as a usage error naming the task where the bound is passed, exit 2, nothing written.
 * The bound is a definition's own (100 levels of maps and lists), which a YAML definition is held to as well.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConductorTooDeepError, importConductor } from '../../src/import/index.js';
import { cli, tempDir } from '../helpers/cli.js';

type Kind = 'switch' | 'loop' | 'fork';

/** A WorkflowDef with `n` tasks each inside the one before (written as text: JSON.stringify itself overflows at this depth). */
function nested(n: number, kind: Kind): string {
  /** Each kind's task i: the text before the one inside it, and after. */
  const parts: Record<Kind, (i: number) => [string, string]> = {
    loop: (i) => [
      `{"name":"l${i}","taskReferenceName":"l${i}","type":"DO_WHILE","loopCondition":"false","loopOver":[`,
      ']}',
    ],
    fork: (i) => [
      `{"name":"f${i}","taskReferenceName":"f${i}","type":"FORK_JOIN","forkTasks":[[`,
      `]]},{"name":"j${i}","taskReferenceName":"j${i}","type":"JOIN"}`,
    ],
    switch: (i) => [
      `{"name":"s${i}","taskReferenceName":"s${i}","type":"SWITCH","evaluatorType":"value-param","expression":"x","inputParameters":{"x":"\${workflow.input.x}"},"decisionCases":{"a":[`,
      ']}}',
    ],
  };
  const open: string[] = [];
  const close: string[] = [];
  for (let i = 1; i <= n; i++) {
    const [before, after] = parts[kind](i);
    open.push(before);
    close.push(after);
  }
  const leaf = '{"name":"leaf","taskReferenceName":"leaf","type":"SIMPLE"}';
  return `{"name":"deep_${kind}","version":1,"tasks":[${open.join('')}${leaf}${close.reverse().join('')}]}`;
}

const noStackTrace = (stderr: string) => {
  expect(stderr).not.toMatch(/Maximum call stack|RangeError|\n\s+at /);
};

describe('a Conductor workflow nested 100,000 deep', () => {
  it('is refused with exit 2 naming the task where it passes 100 levels, and nothing is written', async () => {
    const dir = tempDir('lf-deep-');
    writeFileSync(join(dir, 'deep.json'), nested(100_000, 'switch'));
    const r = await cli(['import', 'conductor', join(dir, 'deep.json'), '--out', join(dir, 'definitions')]);
    expect(r.code).toBe(2);
    noStackTrace(r.stderr);
    expect(r.stderr.trim()).toBe(
      'error: deep.json: task s33 (SWITCH): its decisionCases nests JSON maps and lists more than 100 levels deep (a workflow needs a few); ' +
        'nothing was imported: move the tasks inside it into a workflow of their own, run by a SUB_WORKFLOW task',
    );
    expect(existsSync(join(dir, 'definitions'))).toBe(false);
  });

  it('in a folder beside a good file: exit 2, the good one is not written either; --json gives the code and the task', async () => {
    const dir = tempDir('lf-deep-');
    const src = join(dir, 'conductor');
    mkdirSync(src);
    writeFileSync(join(src, 'a-good.json'), nested(2, 'switch').replace('deep_switch', 'good'));
    writeFileSync(join(src, 'b-deep.json'), nested(100_000, 'loop'));
    const r = await cli(['import', 'conductor', src, '--out', join(dir, 'definitions'), '--json']);
    expect(r.code).toBe(2);
    noStackTrace(r.stderr);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      code: 'LF_IMPORT_TOO_DEEP',
      meta: { file: 'b-deep.json', task: 'l49', type: 'DO_WHILE', field: 'loopOver', limit: 100 },
    });
    expect(existsSync(join(dir, 'definitions'))).toBe(false);
  });

  it('a YAML definition nested 100,000 deep is refused by validate the same way: LF_YAML_TOO_DEEP, exit 2', async () => {
    const dir = tempDir('lf-deep-');
    const file = join(dir, 'deep.yaml');
    writeFileSync(
      file,
      `workflow:\n  id: d\n  tasks:\n    - id: a\n      type: SET\n      values:\n        x: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}\n`,
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(2);
    noStackTrace(r.stderr);
    expect(r.stderr).toContain('error: YAML: maps and lists nest more than 100 levels deep here');
  });
});

describe('the bound: 100 levels of maps and lists, as a definition', () => {
  const refusal = (text: string) => {
    try {
      importConductor(text, 'w.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ConductorTooDeepError);
      return (err as ConductorTooDeepError).meta;
    }
    return null;
  };

  it('32 SWITCHes, each in the one before, still import; 33 are refused at the 33rd', () => {
    const ok = importConductor(nested(32, 'switch'), 'w.json');
    expect(ok.refusals).toEqual([]);
    expect(ok.definitions).toHaveLength(1);
    expect(refusal(nested(33, 'switch'))).toMatchObject({ task: 's33', type: 'SWITCH', field: 'decisionCases' });
  });

  it('forks nested 100,000 deep name their forkTasks; deep data names the field and says to keep it out', () => {
    expect(refusal(nested(100_000, 'fork'))).toMatchObject({ task: 'f33', type: 'FORK_JOIN', field: 'forkTasks' });
    const data = `{"name":"w","tasks":[{"name":"a","taskReferenceName":"a_ref","type":"SIMPLE","inputParameters":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}`;
    expect(refusal(data)).toMatchObject({ task: 'a_ref', type: 'SIMPLE', field: 'inputParameters' });
    const output = `{"name":"w","tasks":[],"outputParameters":{"x":${'{"y":'.repeat(200)}1${'}'.repeat(200)}}}`;
    expect(refusal(output)).toMatchObject({ task: '(workflow)', field: 'outputParameters' });
    expect(() => importConductor(data, 'w.json')).toThrow(/keep deep data out of the definition/);
  });

  it('a list of WorkflowDefs: each is counted from its own top', () => {
    expect(importConductor(`[${nested(32, 'switch')}]`, 'w.json').definitions).toHaveLength(1);
    // The first place past the bound in the file is named: here the second workflow's loop, before the third's switch.
    expect(refusal(`[${nested(32, 'switch')},${nested(60, 'loop')},${nested(40, 'switch')}]`)).toMatchObject({
      task: 'l49',
      field: 'loopOver',
    });
  });
});
