/**
 * What changed in a workflow's inputs and outputs (docs/check.md#what-changed): who still reads an output that is gone,
 * in this file or in a parent of the folder; who does not give an input now required; and a pair of imported Conductor
 * workflows with a task removed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffDefinitions, parentsIn } from '../../src/check/index.js';
import { importConductor } from '../../src/import/index.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { BASE, brief, checked, diff, PARENT, ROUTE } from './versions.js';

describe('inputs', () => {
  it('input-newly-required: an error at the declaration naming the parents that do not give it', () => {
    const required = BASE.replace('      - order_id\n', '      - order_id\n      - priority: { type: number }\n');
    const fs = diff(BASE, required, [checked(PARENT, 'batch.yaml')]);
    expect(brief(fs)).toEqual(['input-newly-required error new.yaml:8:9']);
    expect(fs[0]!.message).toBe(
      "input priority is new and is now required with no default, so every start that does not give it is refused: batch's one (batch.yaml:12:7) does not give it; give it a default or map it in every starter",
    );
  });

  it('an optional input that loses its default is newly required; one that stays optional is not', () => {
    const optional = BASE.replace('  tasks:', '    optional:\n      - note: { type: string, default: "" }\n  tasks:');
    const required = BASE.replace('      - order_id\n', '      - order_id\n      - note: { type: string }\n');
    expect(brief(diff(optional, required))).toEqual(['input-newly-required error new.yaml:8:9']);
    expect(diff(BASE, optional)).toEqual([]);
  });

  it('input-removed: a warning at the input key naming the parents that still give it', () => {
    const fs = diff(
      BASE,
      BASE.replace('      - order_id\n', '      - order_ref\n').replaceAll('input.order_id', 'input.order_ref'),
      [checked(PARENT, 'batch.yaml')],
    );
    expect(brief(fs)).toEqual(['input-newly-required error new.yaml:7:9', 'input-removed warning new.yaml:5:3']);
    expect(fs[1]!.message).toBe(
      "input order_id is removed: a start that still gives it is refused as an unknown input (batch's one (batch.yaml:12:16) still gives it); stop giving it",
    );
  });
});

describe('outputs', () => {
  it("output-removed: an error at each read of a task's removed output, a note for one nothing reads", () => {
    const fs = diff(BASE, BASE.replace('output: [box, weight]', 'output: [weight]'));
    expect(brief(fs)).toEqual(['output-removed error new.yaml:18:22', 'output-removed error new.yaml:20:11']);
    expect(fs[0]!.message).toBe(
      'task pick no longer declares output box, but task pack reads ${pick.output.box}: read another output or declare it again',
    );
    expect(fs[1]!.message).toMatch(/but the workflow's output reads \$\{pick\.output\.box\}/);
    const unread = diff(BASE, BASE.replace('output: [box, weight]', 'output: [box]'));
    expect(brief(unread)).toEqual(['output-removed note new.yaml:13:7']);
  });

  it("output-removed: the workflow's own, an error at the parent's read in the parent's file", () => {
    const noBox = BASE.replace(
      '  output:\n    box: "${pick.output.box}"\n',
      '  output:\n    weight: "${pick.output.weight}"\n',
    );
    const fs = diff(BASE, noBox, [checked(PARENT, 'batch.yaml')]);
    expect(brief(fs)).toEqual(['output-removed error batch.yaml:17:22']);
    expect(fs[0]!.message).toBe(
      "the workflow's output box is removed, but its parent batch reads ${one.output.box} in task after: keep the output or change the parent",
    );
  });

  it('output-removed: a warning when no parent reads it, saying so, or that there was no folder to look in', () => {
    const noBox = BASE.replace(
      '  output:\n    box: "${pick.output.box}"\n',
      '  output:\n    weight: "${pick.output.weight}"\n',
    );
    const inFolder = diff(BASE, noBox, []);
    expect(brief(inFolder)).toEqual(['output-removed warning new.yaml:19:3']);
    expect(inFolder[0]!.message).toBe(
      "the workflow's output box is removed; no workflow of the folder starts ship: callers outside the folder may",
    );
    const alone = diff(BASE, noBox);
    expect(alone[0]!.message).toBe(
      "the workflow's output box is removed; no definitions folder was given to look for parents that read it: check the workflows that start ship",
    );
  });

  it('parentsIn reads the folder: the definitions that start the workflow, none of the others', () => {
    const dir = tempDir('lf-check-parents-');
    writeFileSync(join(dir, 'batch.yaml'), PARENT);
    writeFileSync(join(dir, 'ship.yaml'), BASE);
    writeFileSync(join(dir, 'route.yaml'), ROUTE);
    writeFileSync(join(dir, 'broken.yaml'), 'workflow: [ship');
    const parents = parentsIn(dir, 'ship');
    expect(parents.map((p) => p.file)).toEqual([join(dir, 'batch.yaml')]);
    expect(parents[0]!.text).toBe(PARENT);
    expect(parentsIn(dir, 'route')).toEqual([]);
  });
});

describe('imported Conductor workflows', () => {
  it('a task removed from the Conductor JSON is a task removed, pointed at the task that waited for it', () => {
    const text = readFileSync(join(ROOT, 'test', 'fixtures', 'conductor', 'order_fulfilment.json'), 'utf8');
    const json = JSON.parse(text) as { tasks: { taskReferenceName: string }[] };
    json.tasks = json.tasks.filter((t) => t.taskReferenceName !== 'announce_ref');
    const yaml = (t: string) => importConductor(t, 'order_fulfilment.json').definitions[0]!.yaml;
    const before = yaml(text);
    const after = yaml(JSON.stringify(json));
    const fs = diffDefinitions(checked(before, 'old.yaml'), checked(after, 'new.yaml'));
    const doneAt = after.split('\n').indexOf('    - id: done_ref') + 1;
    expect(brief(fs)).toEqual([
      `task-removed warning new.yaml:${doneAt}:7`,
      `dependencies-changed warning new.yaml:${doneAt + 3}:7`,
    ]);
    expect(fs[0]!.message).toMatch(/^task announce_ref \(EMIT\) is removed \(done_ref waited for it\)/);
    expect(fs[1]!.message).toMatch(/^task done_ref now waits for join_ref and no longer waits for announce_ref/);
  });
});
