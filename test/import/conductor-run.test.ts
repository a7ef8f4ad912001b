/** An imported workflow runs as Conductor would have run it: its loop condition, switch and plain INLINE translated. */
import { writeFileSync } from 'node:fs';
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
});
