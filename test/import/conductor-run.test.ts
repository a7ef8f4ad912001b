/** An imported workflow runs as Conductor would have run it: its loop condition, switch and plain INLINE translated, its JSON_JQ_TRANSFORM run as jq. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

const conductor = {
  name: 'count_up',
  version: 1,
  inputParameters: ['limit'],
  outputParameters: { rounds: '${loop_ref.output.iteration}', size: '${size_ref.output.result}', last: '${count_ref.output.n}' },
  tasks: [
    {
      name: 'loop', taskReferenceName: 'loop_ref', type: 'DO_WHILE', inputParameters: { limit: '${workflow.input.limit}' },
      loopCondition: "if ($.loop_ref['iteration'] < $.limit) { true; } else { false; }",
      loopOver: [{ name: 'count', taskReferenceName: 'count_ref', type: 'SIMPLE', inputParameters: { round: '${loop_ref.output.iteration}' } }],
    },
    {
      name: 'size', taskReferenceName: 'size_switch', type: 'SWITCH', evaluatorType: 'graaljs', inputParameters: { n: '${count_ref.output.n}' },
      expression: "(function () { return $.n >= 3 ? 'many' : 'few'; })();",
      decisionCases: {
        many: [{ name: 'many', taskReferenceName: 'size_ref', type: 'INLINE', inputParameters: { evaluatorType: 'graaljs', expression: "'many'" } }],
        few: [{ name: 'few', taskReferenceName: 'few_ref', type: 'INLINE', inputParameters: { evaluatorType: 'graaljs', expression: "'few'" } }],
      },
    },
  ],
};

describe('an imported Conductor workflow, run', () => {
  it('loops until its translated condition fails and takes the case its translated JavaScript chooses', async () => {
    const dir = tempDir('lf-conductor-run-');
    writeFileSync(join(dir, 'count.json'), JSON.stringify(conductor));
    writeFileSync(join(dir, 'handlers.mjs'), 'export default { async count(input) { return { n: input.round }; } };\n');
    const imported = await cli(['import', 'conductor', 'count.json', '--out', 'definitions'], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    const run = await cli(['run', 'definitions/count_up.yaml', '--handlers', './handlers.mjs', '--limit', '3', '--json'], { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/"rounds": 3/);
    expect(run.stdout).toMatch(/"size": "many"/);
    expect(run.stdout).toMatch(/"last": 3/);
  });

  it('runs a JSON_JQ_TRANSFORM as a TRANSFORM: its queryExpression over its other inputParameters, read as ${ref.output.result}', async () => {
    const dir = tempDir('lf-conductor-run-');
    const jqWorkflow = {
      name: 'order_summary', version: 1, inputParameters: ['items'],
      outputParameters: { total: '${sum_ref.output.result.total}', names: '${names_ref.output.resultList}' },
      tasks: [
        {
          name: 'sum', taskReferenceName: 'sum_ref', type: 'JSON_JQ_TRANSFORM',
          inputParameters: { items: '${workflow.input.items}', queryExpression: '{ total: (.items | map(.price) | add) }' },
        },
        {
          name: 'names', taskReferenceName: 'names_ref', type: 'JSON_JQ_TRANSFORM',
          inputParameters: { items: '${workflow.input.items}', queryExpression: '.items[] | select(.price > 2) | .name' },
        },
      ],
    };
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(jqWorkflow));
    const imported = await cli(['import', 'conductor', 'summary.json', '--out', 'definitions'], { cwd: dir });
    expect(imported.code, imported.stderr).toBe(0);
    const yaml = readFileSync(join(dir, 'definitions', 'order_summary.yaml'), 'utf8');
    expect(yaml).toContain('type: TRANSFORM');
    expect(yaml).toContain('jq: "{ total: (.items | map(.price) | add) }"');
    expect((await cli(['validate', 'definitions/order_summary.yaml'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'items.json'), JSON.stringify({ items: [{ name: 'pen', price: 1.5 }, { name: 'book', price: 12 }, { name: 'lamp', price: 30 }] }));
    const run = await cli(['run', 'definitions/order_summary.yaml', '--input-file', 'items.json', '--json'], { cwd: dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { output: unknown }).output).toEqual({ total: 43.5, names: ['book', 'lamp'] });
  });
});
