/**
 * COMMAND tasks over NATS: the engine resolves the command and publishes it
 * in the task message (lf.q.<queue>._command), a worker started with a
 * command executor runs it as the restricted `worker` NATS user, and a timed
 * out attempt's process group dies on the worker. A real nats-server from
 * nats.conf.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandExecutor } from '../../src/workers/index.js';
import { def } from '../helpers/engine.js';
import { tempDir } from '../helpers/cli.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { processGone } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const pids = join(tempDir('lf-cmd-nats-'), 'pids');

const commands = def(`
workflow:
  id: cluster-commands
  name: Commands on a worker
  version: 1
  input: { required: [name] }
  output: { line: "\${shout.output.line}", count: "\${count.output.n}" }
  tasks:
    - id: shout
      type: COMMAND
      command: [node, -e, "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.stringify({ line: process.argv[1].toUpperCase() + ' ' + JSON.parse(s).suffix, run: process.env.LF_RUN_ID, key: process.env.LF_IDEMPOTENCY_KEY, mode: process.env.MODE })))", "\${workflow.input.name}"]
      env: { MODE: strict }
      input: { suffix: "!" }
    - id: count
      type: SIMPLE
      depends_on: [shout]
      input: { line: "\${shout.output.line}" }
`);

const hangs = def(`
workflow:
  id: cluster-command-timeout
  name: A command that outlives its timeout
  version: 1
  tasks:
    - id: hang
      type: COMMAND
      command: [sh, -c, 'sleep 300 & echo "$$ $!" > "$0"; wait', "${pids}"]
      timeout: 1s
`);

const late = def(`
workflow:
  id: cluster-late-handler
  name: A handler that returns after its deadline
  version: 1
  tasks:
    - id: slow
      type: SIMPLE
      timeout: 1s
`);

describe.skipIf(noNats)('COMMAND tasks on NATS workers', () => {
  // The restricted `worker` NATS user of nats.conf, as a remote worker connects: handlers and commands.
  const c = useCluster({
    engines: 1,
    handlers: {
      count: async (i: Record<string, unknown>) => ({ n: String(i.line).length }),
      // Ignores the deadline's meaning: returns a result as soon as it is aborted.
      slow: async (_i: Record<string, unknown>, ctx: { signal: AbortSignal }) => {
        await new Promise((r) => ctx.signal.addEventListener('abort', r));
        return { late: true };
      },
    },
    worker: { commands: createCommandExecutor() },
    deploy: [commands, hangs, late],
  });

  it('runs the command the engine resolved, with its input on stdin and the LF_ variables set, next to a handler task', async () => {
    const { runId } = await c.client.start('cluster-commands', { name: 'ada; rm -rf /' });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.shout!.output).toEqual({ line: 'ADA; RM -RF / !', run: runId, key: `${runId}/shout/1`, mode: 'strict' });
    expect(done.output).toEqual({ line: 'ADA; RM -RF / !', count: 15 });
    expect(c.workers[0]!.stats.completed).toBeGreaterThanOrEqual(2);
  });

  it('kills the command and its grandchild on the worker when the attempt times out', async () => {
    const { runId } = await c.client.start('cluster-command-timeout', {});
    const line = await waitFor('the command to start on the worker', () => existsSync(pids) && readFileSync(pids, 'utf8').trim(), { timeout: 20_000 });
    const [shell, sleeper] = line.split(' ').map(Number);
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.tasks.hang).toMatchObject({ status: 'TIMED_OUT' });
    await waitFor('the command and its grandchild to be gone', () => processGone(shell!) && processGone(sleeper!), { timeout: 15_000 });
  });

  it("an outcome a worker gets after the attempt's deadline is not reported: the engine's timeout decides (TIMED_OUT), as in-process", async () => {
    // Before, the late result raced the engine's timeout timer: a COMMAND killed at its deadline could end FAILED, this handler COMPLETED.
    const { runId } = await c.client.start('cluster-late-handler', {});
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('FAILED');
    expect(done.tasks.slow).toMatchObject({ status: 'TIMED_OUT' });
    expect(done.tasks.slow!.output).toBeNull();
  });

  it('a template that resolves to a NUL in an argument fails the task on the worker with LF_NUL_CHARACTER, not retried', async () => {
    const { runId } = await c.client.start('cluster-commands', { name: 'a\0b' });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('FAILED');
    expect(done.tasks.shout).toMatchObject({ status: 'FAILED', attempts: 1, error: { code: 'LF_NUL_CHARACTER', retryable: false } });
    expect(done.tasks.shout!.error!.message).toMatch(/^task shout: command\[3\] resolves to a value with a NUL character/);
  });
});
