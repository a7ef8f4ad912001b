/**
 * docs/users.md "Starting and deploying as yourself": a person's `deploy` sends the file's text to the engines, which
 * parse and check it as a file is. The text is anyone's: one of 4,900 tasks with long, alike ids, each depending on
 * a task that does not exist (800 KB, within a message), kept the engine validating for 150 s of CPU (each unknown
 * reference compared with every id for a "did you mean"), deaf to every other request meanwhile. Now the refusal comes
 * in seconds, and the engine answers the next request.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { useUsersNats } from '../helpers/authority.js';

const ID = 'abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz';
const ALIKE = Array.from(
  { length: 4_900 },
  (_, i) => `    - { id: ${ID}${i}, type: SET, values: { a: 1 }, depends_on: [x${ID.slice(1)}${i}] }`,
);
const FINE = 'workflow:\n  id: fine\n  tasks:\n    - { id: one, type: SET, values: { a: 1 } }\n';

const nats = useUsersNats();

describe.skipIf(noNats)("a person's deploy of a definition made to be slow to check (docs/users.md)", () => {
  it('is refused in seconds naming its problems, and the engine takes the next deploy', async () => {
    const dir = tempDir('lf-hostile-deploy-');
    writeFileSync(join(dir, 'alike.yaml'), `workflow:\n  id: alike\n  tasks:\n${ALIKE.join('\n')}\n`);
    writeFileSync(join(dir, 'fine.yaml'), FINE);
    await nats.start(dir, [
      ['engine', 'L1'],
      ['bob', 'L1'],
    ]);
    const engine: ChildProcess = spawnCli(
      ['--nats', nats.url('engine'), 'engine', '--users', join(dir, 'users.yaml')],
      { cwd: dir },
    );
    nats.procs.push(engine);

    const refused = await nats.as('bob', ['deploy', 'alike.yaml', '--wait', '60s']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`unknown task "x${ID.slice(1)}0" in depends_on of task ${ID}0`);
    const fine = await nats.as('bob', ['deploy', 'fine.yaml', '--wait', '30s']);
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stdout).toContain('deployed fine@1');
  }, 120_000);
});
