/**
 * COMMAND tasks driven by the embedded engine: the attempt's argv, cwd and
 * env are resolved from templates when it starts (effects.ts) and run by the
 * executor the engine is given, and the program's processes die with a
 * cancelled attempt. Failures, retries and timeouts (a timed-out command dies
 * with its grandchild) are the executor contract's (test/executor/contract.ts),
 * on the local engine and on a NATS worker.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { outputWriter } from '../../src/files/index.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AttemptCommand, CommandContext } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { createCommandExecutor } from '../../src/handlers/index.js';
import { def, expectReplayMatches } from '../helpers/engine.js';
import { tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { processGone } from '../helpers/processes.js';

const pipeline = def(`
workflow:
  id: cmd-pipeline
  name: Commands
  version: 1
  input: { required: [name, dir] }
  output: { greeting: "\${greet.output.greeting}" }
  tasks:
    - id: who
      type: COMMAND
      command: [node, -e, "console.log(JSON.stringify({ who: process.argv[1], mode: process.env.MODE }))", "\${workflow.input.name}"]
      env: { MODE: "m-\${workflow.input.name}" }
    - id: greet
      type: COMMAND
      depends_on: [who]
      cwd: "\${workflow.input.dir}"
      command: [node, -e, "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.stringify({ greeting: 'Hello, ' + process.argv[1], input: JSON.parse(s), cwd: process.cwd() })))", "\${who.output.who}"]
      input: { mode: "\${who.output.mode}", n: 2 }
`);

function commandEngine(limit?: number): Engine {
  return new Engine({
    store: new MemoryEventStore(),
    runCommand: createCommandExecutor(limit ? { outputLimit: limit } : {}),
  });
}

describe('COMMAND tasks on the engine', () => {
  it('resolve argv, env and cwd from templates when each attempt starts, with the input on stdin, and pass outputs on', async () => {
    const e = commandEngine();
    const dir = tempDir('lf-cmd-run-');
    const view = await e.run(pipeline, { name: 'Ada; rm -rf ~', dir }, { handlers: {} });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.who!.output).toEqual({ who: 'Ada; rm -rf ~', mode: 'm-Ada; rm -rf ~' });
    expect(view.tasks.greet!.output).toEqual({
      greeting: 'Hello, Ada; rm -rf ~',
      input: { mode: 'm-Ada; rm -rf ~', n: 2 },
      cwd: dir,
    });
    expect(view.output).toEqual({ greeting: 'Hello, Ada; rm -rf ~' });
    await expectReplayMatches(e, view);
  });

  it('hands the executor the resolved command and the definition file the run was started from', async () => {
    const seen: { command: AttemptCommand; input: Record<string, unknown>; ctx: CommandContext }[] = [];
    const e = new Engine({
      store: new MemoryEventStore(),
      runCommand: async (command, input, ctx) => {
        seen.push({ command, input, ctx });
        return { who: 'x', mode: 'y' };
      },
    });
    await e.run(
      pipeline,
      { name: 'Bo', dir: 'work/${not a template}' },
      { handlers: {}, source: { file: '/defs/pipeline.yaml' } },
    );
    expect(seen.map((s) => s.command)).toEqual([
      { argv: ['node', '-e', expect.any(String), 'Bo'], env: { MODE: 'm-Bo' } },
      { argv: ['node', '-e', expect.any(String), 'x'], cwd: 'work/${not a template}', env: {} },
    ]);
    expect(seen[1]!.input).toEqual({ mode: 'y', n: 2 });
    expect(seen[0]!.ctx).toMatchObject({
      taskId: 'who',
      attempt: 1,
      definitionFile: '/defs/pipeline.yaml',
      idempotencyKey: `${seen[0]!.ctx.runId}/who/1`,
    });
  });

  it('kills the command when its run is cancelled', async () => {
    const e = commandEngine();
    const pids = join(tempDir('lf-cmd-cancel-'), 'pids');
    const d = def(`
workflow:
  id: cmd-cancel
  tasks:
    - id: hang
      type: COMMAND
      command: [sh, -c, 'sleep 300 & echo "$$ $!" > "$0"; wait', "${pids}"]
`);
    const runId = await e.start(d, {});
    const driving = e.drive(runId, { handlers: {} });
    const line = await waitFor('the command to start', () => existsSync(pids) && readFileSync(pids, 'utf8').trim());
    const [shell, sleeper] = line.split(' ').map(Number);
    await e.cancel(runId, { by: 'test', reason: 'enough' });
    expect((await driving).status).toBe('CANCELLED');
    await waitFor('the command and its grandchild to be gone', () => processGone(shell!) && processGone(sleeper!));
  });

  it('fails a COMMAND attempt when the engine was given no executor', async () => {
    const e = new Engine({ store: new MemoryEventStore() });
    const view = await e.run(
      def('workflow:\n  id: no-exec\n  tasks:\n    - { id: a, type: COMMAND, command: ["true"] }\n'),
      {},
      { handlers: {} },
    );
    expect(view.tasks.a).toMatchObject({ status: 'FAILED', error: { code: 'LF_COMMAND_UNAVAILABLE' } });
  });

  it('runs a COMMAND iterator once per MAP item with ${item} in its arguments', async () => {
    const e = commandEngine();
    const d = def(`
workflow:
  id: cmd-map
  input: { required: [names] }
  tasks:
    - id: each
      type: MAP
      items: "\${workflow.input.names}"
      iterator: shout
    - id: shout
      type: COMMAND
      command: [node, -e, "console.log(JSON.stringify({ loud: process.argv[1].toUpperCase(), index: Number(process.argv[2]) }))", "\${item}", "\${index}"]
`);
    const view = await e.run(d, { names: ['a', 'b; echo c'] }, { handlers: {} });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.each!.output).toEqual({
      results: [
        { loud: 'A', index: 0 },
        { loud: 'B; ECHO C', index: 1 },
      ],
    });
  });
});

describe('output_to that turns out to be a directory, in-process', () => {
  const d = def(
    'workflow:\n  id: out-dir\n  input: { required: [where] }\n  tasks:\n    - { id: a, type: COMMAND, command: [echo, "{}"], output_to: "${workflow.input.where}", retry_policy: { max_attempts: 3 } }\n',
  );
  it.each([
    ['.', 'output_to "." names a directory'],
    ['', 'output_to "" is empty'],
    ['reports', `output_to "reports" resolves to `],
  ])(
    'output_to resolving to %j fails the task with LF_OUTPUT_TO_DIRECTORY, not retried (it was a raw EISDIR)',
    async (where, message) => {
      const root = tempDir('lf-out-dir-');
      mkdirSync(join(root, 'reports'));
      const e = new Engine({
        store: new MemoryEventStore(),
        runCommand: createCommandExecutor(),
        writeOutput: outputWriter(root),
      });
      const view = await e.run(d, { where }, { handlers: {} });
      expect(view.tasks.a).toMatchObject({
        status: 'FAILED',
        attempts: 1,
        error: { code: 'LF_OUTPUT_TO_DIRECTORY', retryable: false },
      });
      expect(view.tasks.a!.error!.message).toContain(message);
      expect(readdirSync(join(root, 'reports'))).toEqual([]);
    },
  );
});
