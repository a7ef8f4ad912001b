/**
 * A copied template whose definition passes an input under another name (a
 * user renaming `rules:` to `policy_rules:` in the task's input): the bundled
 * handler says which input is missing and which it was given, not a raw
 * TypeError, and the attempt is not retried.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';

describe('bundled handlers given an input under another name', () => {
  it('inventory-validation with rules: renamed policy_rules: fails validate_compliance naming "rules" and the inputs given', async () => {
    const dir = tempDir('lf-renamed-');
    expect((await cli(['new', 'inventory-validation', '--dir', dir])).code).toBe(0);
    const file = join(dir, 'definitions', 'inventory-validation.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        '        rules: "${load_policy.output.policy_rules}"',
        '        policy_rules: "${load_policy.output.policy_rules}"',
      ),
    );
    const r = await cli(
      [
        '--store',
        join(dir, 'store'),
        'run',
        file,
        '--target_folder',
        join(dir, 'definitions', 'samples', '0UT.3OX'),
        '--policy_file',
        join(dir, 'definitions', 'samples', 'INVENTORY.POLICY.yaml'),
        '--json',
      ],
      { cwd: dir },
    );
    expect(r.code).toBe(1);
    const view = JSON.parse(r.stdout) as {
      tasks: Record<string, { status: string; attempts: number; error?: { code: string; message: string } }>;
    };
    expect(view.tasks.validate_compliance).toMatchObject({
      status: 'FAILED',
      attempts: 1,
      error: {
        code: 'INVENTORY_BAD_INPUT',
        message:
          'input "rules" (the policy rules, load_policy\'s policy_rules) is missing: the task was given "file_list", "policy_rules"; pass it as rules: in the task\'s input',
      },
    });
  });
});
