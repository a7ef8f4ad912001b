/**
 * docs/handlers.md: a handler module's `import … from 'ledgerflow'` (or `require`) inside a `ledgerflow`
 * command gets the command's own copy of the package when it is the same build (src/cli/offer-library.ts):
 * one copy of every class, and none of the package's ES module chunks compiled again: in `run` on the
 * embedded store, and on NATS in an engine that runs the handlers and in a remote worker. A project that
 * installed another ledgerflow keeps its own.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli, statusWhen, tempDir, userProject } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';

const WORKFLOW = (handlers: string) => `workflow:
  id: library-copy
  version: 1
  handlers: ${handlers}
  tasks:
    - id: look
      type: SIMPLE
`;

// What a handler can see: whether the NonRetryableError it imported is the one the command offers, and whether it
// still behaves as one (the task fails at once, no retry).
const LOOK = `const offered = globalThis[Symbol.for('ledgerflow.offered')];
const same = offered !== undefined && offered.exports.NonRetryableError === NonRetryableError;
export default { async look() { return { same, parsed: parseYaml('a: 1') }; } };`;

async function taskOutput(dir: string, file: string): Promise<unknown> {
  const r = await cli(['run', file, '--store', join(dir, 'store'), '--json'], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { tasks: { look: { output: unknown } } }).tasks.look.output;
}

describe("a handler's ledgerflow inside the command", () => {
  it("is the command's own copy, for import (ES module) and require (CommonJS)", async () => {
    const dir = userProject();
    writeFileSync(join(dir, 'esm.yaml'), WORKFLOW('./h.mjs'));
    writeFileSync(join(dir, 'h.mjs'), `import { NonRetryableError, parseYaml } from 'ledgerflow';\n${LOOK}\n`);
    writeFileSync(join(dir, 'cjs.yaml'), WORKFLOW('./h.cjs'));
    writeFileSync(
      join(dir, 'h.cjs'),
      `const { NonRetryableError, parseYaml } = require('ledgerflow');\n${LOOK.replace('export default', 'module.exports =')}\n`,
    );
    expect(await taskOutput(dir, 'esm.yaml')).toEqual({ same: true, parsed: { a: 1 } });
    expect(await taskOutput(dir, 'cjs.yaml')).toEqual({ same: true, parsed: { a: 1 } });
  }, 60_000);

  it('a NonRetryableError from the handler still fails the task at once', async () => {
    const dir = userProject();
    writeFileSync(
      join(dir, 'wf.yaml'),
      `workflow:
  id: fails
  version: 1
  handlers: ./h.mjs
  tasks:
    - id: look
      type: SIMPLE
      retry_policy: { max_attempts: 3, backoff: fixed, initial_delay: 1s }
`,
    );
    writeFileSync(
      join(dir, 'h.mjs'),
      "import { NonRetryableError } from 'ledgerflow';\nexport default { async look() { throw new NonRetryableError('no', 'NOPE'); } };\n",
    );
    const r = await cli(['run', 'wf.yaml', '--store', join(dir, 'store'), '--json'], { cwd: dir });
    const view = JSON.parse(r.stdout) as {
      status: string;
      tasks: { look: { attempts: number; error: { code: string } } };
    };
    expect([view.status, view.tasks.look.attempts, view.tasks.look.error.code]).toEqual(['FAILED', 1, 'NOPE']);
  }, 60_000);

  it("a project's own install of another ledgerflow is the one its handlers get", async () => {
    const dir = tempDir('lf-own-');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'p', version: '1.0.0', type: 'module' }));
    const own = join(dir, 'node_modules', 'ledgerflow');
    mkdirSync(own, { recursive: true });
    writeFileSync(
      join(own, 'package.json'),
      JSON.stringify({ name: 'ledgerflow', version: '9.9.9', type: 'module', exports: './index.js' }),
    );
    writeFileSync(join(own, 'index.js'), "export const which = 'the project\\'s own';\n");
    writeFileSync(join(dir, 'wf.yaml'), WORKFLOW('./h.mjs'));
    writeFileSync(
      join(dir, 'h.mjs'),
      "import { which } from 'ledgerflow';\nexport default { async look() { return { which }; } };\n",
    );
    expect(await taskOutput(dir, 'wf.yaml')).toEqual({ which: "the project's own" });
  }, 60_000);
});

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

describe.skipIf(noNats)("a handler's ledgerflow on NATS", () => {
  const nats = useCluster({ server: 'shared' });
  for (const [where, args] of [
    ['an engine that runs the handlers', ['engine', '--handlers']],
    ['a remote worker', ['worker', '--handlers']],
  ] as const) {
    it(`is the command's own copy in ${where}`, async () => {
      const dir = userProject();
      const id = `library-copy-${args[0]}`;
      writeFileSync(join(dir, 'wf.yaml'), WORKFLOW('./h.mjs').replace('id: library-copy', `id: ${id}`));
      writeFileSync(join(dir, 'h.mjs'), `import { NonRetryableError, parseYaml } from 'ledgerflow';\n${LOOK}\n`);
      expect((await cli(['--nats', nats.url, 'deploy', 'wf.yaml'], { cwd: dir })).code).toBe(0);
      if (args[0] === 'worker') procs.push(spawnCli(['--nats', nats.url, 'engine'], { cwd: dir }));
      procs.push(spawnCli(['--nats', nats.url, ...args, join(dir, 'h.mjs')], { cwd: dir }));
      const started = await cli(['--nats', nats.url, 'start', id, '--json'], { cwd: dir });
      expect(started.code, started.stderr).toBe(0);
      const lf = (...a: string[]) => cli(['--nats', nats.url, ...a], { cwd: dir });
      const view = await statusWhen<{ status: string; tasks: { look: { output: unknown } } }>(
        lf,
        (JSON.parse(started.stdout) as { runId: string }).runId,
        'COMPLETED',
      );
      expect(view.tasks.look.output).toEqual({ same: true, parsed: { a: 1 } });
    }, 90_000);
  }
});
