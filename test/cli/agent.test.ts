/**
 * `ledgerflow agent` on the embedded store, as docs/agents.md tells a user:
 * the docs' workflow, command lines and shell-script agent; a timed-out
 * attempt retried, and its late result refused into rejected/ with why;
 * results that are not YAML, too big or not a result refused, nothing
 * recorded; a task above the agent's level not given to it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, afterEach } from 'vitest';
import { cli } from '../helpers/cli.js';
import {
  agentProject,
  answerUntil,
  everyAgentRunReplays,
  events,
  files,
  outcomes,
  spawnIn,
  startAgent,
  stop,
  taskFile,
  writeResult,
  stopSpawned,
  agentOnce,
  runToItsTaskFile,
} from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';

// A case that fails half-way leaves no agent or run process behind (they poll until killed).
afterEach(stopSpawned);

afterAll(async () => {
  // Every run an agent completed replays to the state it recorded.
  expect(await everyAgentRunReplays()).toBeGreaterThanOrEqual(8);
});

const once = agentOnce;

describe('ledgerflow agent (docs/agents.md)', () => {
  it('runs the quick start: the agent writes the task file, the shell script answers it, the run completes with its output', async () => {
    const dir = agentProject();
    const agent = await startAgent(dir);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
    const task = await waitFor('the task file', () => taskFile(dir), {
      timeout: 20_000,
      detail: () => run.output() + agent.output(),
    });
    expect(task).toMatchObject({ attempt: 1 });
    const text = readFileSync(join(dir, '1N.3OX', task.name), 'utf8');
    expect(text).toContain('task_id: validate');
    expect(text).toContain('agent_level: L3');
    expect(text).toContain('timeout: 30s');
    expect(text).toContain(`folder: ${join(dir, 'data')}`);
    expect(run.output()).toContain('validate: attempt 1 waits for a file agent of queue agents');
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toContain('COMPLETED');
    const done = outcomes(await events(dir, task.runId));
    expect(done.map((e) => [e.type, e.data.attempt])).toEqual([['task.completed', 1]]);
    expect(done[0]!.data).toMatchObject({ output: { files: 3 }, by: 'agent:agents' });
    await waitFor(
      'both files in done/',
      () => files(dir, '1N.3OX/done').length === 1 && files(dir, '0UT.3OX/done').length === 1,
      { detail: agent.output },
    );
    expect(files(dir, '1N.3OX').filter((n) => n.endsWith('.yaml'))).toEqual([]);
    expect(files(dir, '0UT.3OX').filter((n) => n.endsWith('.yaml'))).toEqual([]);
    const history = await cli(['history', task.runId], { cwd: dir });
    expect(history.stdout).toContain('reported by agent:agents, an unauthenticated name');
    await stop(agent);
  }, 60_000);

  it('fails an attempt nobody answers at its timeout and retries it; the late result of attempt 1 goes to rejected/ with why, nothing recorded for it', async () => {
    const dir = agentProject((y) =>
      y.replace('timeout: 30s', 'timeout: 1s').replace('max_attempts: 2', 'max_attempts: 10'),
    );
    const agent = await startAgent(dir, ['--poll', '50ms']);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
    const first = await waitFor("attempt 1's task file", () => taskFile(dir), {
      timeout: 20_000,
      detail: () => run.output() + agent.output(),
    });
    const second = await waitFor(
      "attempt 2's task file",
      () => {
        const t = taskFile(dir);
        return t?.attempt === 2 && t;
      },
      { timeout: 20_000, detail: () => run.output() + agent.output() },
    );
    expect(second.token).not.toBe(first.token);
    // Attempt 1's task file was taken out of the inbox with why.
    const reasons = files(dir, '1N.3OX/rejected').filter((n) => n.endsWith('.reason'));
    expect(reasons.length).toBe(1);
    const stem = first.name.slice('task-'.length);
    writeResult(dir, stem, `token: ${first.token}\nstatus: completed\noutput: { late: true }\n`);
    // The reason is written first, then the file moved beside it.
    await waitFor('the late result refused', () => files(dir, '0UT.3OX/rejected').includes(`result-${stem}`), {
      detail: agent.output,
    });
    const reason = readFileSync(join(dir, '0UT.3OX', 'rejected', `result-${stem}.reason`), 'utf8');
    expect(reason).toContain('was not recorded');
    expect(reason).toMatch(
      /task\.completed \(attempt 1\) does not apply to task validate, which is \w+ at attempt [2-9]/,
    );
    let exit: number | null | undefined;
    void run.exited.then((code) => {
      exit = code;
    });
    await answerUntil(
      dir,
      () => exit !== undefined,
      '{ files: 3 }',
      () => run.output() + agent.output(),
    );
    expect(exit, run.output()).toBe(0);
    const evs = await events(dir, first.runId);
    const done = outcomes(evs);
    expect(done.map((e) => e.type)).toEqual(['task.completed']);
    expect(done[0]!.data.attempt).toBeGreaterThanOrEqual(2);
    expect(evs.some((e) => e.type === 'task.started' && e.data.attempt === 2)).toBe(true);
    await stop(agent);
  }, 60_000);

  it('refuses a result that is not YAML, one over 1 MiB, one that is not a result and a link, each with a clear reason, and records none of them', async () => {
    const dir = agentProject();
    expect(await once(dir)).toEqual({ written: [], recorded: [], rejected: [] });
    const { run, task } = await runToItsTaskFile(dir);
    const stem = task.name.slice('task-'.length);
    const refused = async (text: string) => {
      writeResult(dir, stem, text);
      const r = await once(dir);
      expect(r.recorded).toEqual([]);
      const latest = r.rejected.find((p) => p.includes('0UT.3OX'))!;
      return readFileSync(join(dir, `${latest}.reason`), 'utf8');
    };
    expect(await refused('token: [unclosed\nstatus: completed\n')).toMatch(/is not YAML: .*write a YAML mapping/);
    expect(await refused(`token: ${task.token}\nstatus: completed\noutput: "${'x'.repeat(1024 * 1024)}"\n`)).toContain(
      'bytes, over the 1,048,576 a result may be',
    );
    expect(await refused(`token: ${task.token}\nstatus: done\n`)).toContain('not a result at status');
    expect(await refused(`token: ${task.token}\nstatus: failed\n`)).toContain('not a result');
    expect(await refused(`token: tk0123\nstatus: completed\n`)).toContain('no task file task-');
    // A well-formed answer under the name response-… (the task file says requires_response): refused, naming result-….
    writeFileSync(join(dir, '0UT.3OX', `response-${stem}`), `token: ${task.token}\nstatus: completed\n`);
    const misnamed = await once(dir);
    expect(misnamed.recorded).toEqual([]);
    expect(readFileSync(join(dir, `${misnamed.rejected[0]!}.reason`), 'utf8')).toContain(
      `a result is named result-<run>-<task>.yaml, as its task file's routing.respond_to says (here result-${stem})`,
    );
    // A link is not read through (it could name a file only this process may read).
    symlinkSync(join(dir, '1N.3OX', task.name), join(dir, '0UT.3OX', `result-${stem}`));
    const linked = await once(dir);
    expect(readFileSync(join(dir, `${linked.rejected[0]!}.reason`), 'utf8')).toContain('not a plain file');
    // Each refusal is kept; the task file still waits for its answer.
    expect(files(dir, '0UT.3OX/rejected').filter((n) => !n.endsWith('.reason'))).toHaveLength(7);
    expect(files(dir, '1N.3OX')).toContain(task.name);
    expect(outcomes(await events(dir, task.runId))).toEqual([]);
    writeResult(
      dir,
      stem,
      `token: ${task.token}\nstatus: failed\nerror: { message: no such folder, retryable: false }\n`,
    );
    expect((await once(dir)).recorded).toHaveLength(1);
    expect(await run.exited).toBe(1);
    const failed = outcomes(await events(dir, task.runId));
    expect(failed.map((e) => e.type)).toEqual(['task.failed']);
    expect(failed[0]!.data).toMatchObject({ error: { message: 'no such folder', retryable: false } });
  }, 60_000);

  it("fails the attempt, not retried, when a result's output nests deeper than a payload may (docs/language.md#how-deep-a-value-may-nest)", async () => {
    const dir = agentProject();
    await once(dir); // the agent's queue declared: the run hands it the attempt
    const { run, task } = await runToItsTaskFile(dir);
    const deep = `${'['.repeat(300)}${']'.repeat(300)}`;
    writeResult(
      dir,
      task.name.slice('task-'.length),
      `token: ${task.token}\nstatus: completed\noutput: { files: ${deep} }\n`,
    );
    expect((await once(dir)).recorded).toHaveLength(1);
    expect(await run.exited, run.output()).toBe(1);
    const failed = outcomes(await events(dir, task.runId));
    expect(failed.map((e) => e.type)).toEqual(['task.failed']);
    expect(failed[0]!.data).toMatchObject({
      error: {
        code: 'LF_OUTPUT_TOO_LARGE',
        retryable: false,
        message:
          'the output of task validate nests objects and arrays more than 256 levels deep; flatten it, or carry the deep part as a JSON string',
      },
    });
    expect((await cli(['history', task.runId], { cwd: dir })).code).toBe(0);
  }, 60_000);

  it("serve drives a run started with start --detach, stops at once on SIGTERM without waiting for the agent (the attempt stays in flight), and the agent's answer is recorded with no serve running", async () => {
    const dir = agentProject();
    mkdirSync(join(dir, 'definitions'));
    renameSync(join(dir, 'inventory-check.yaml'), join(dir, 'definitions', 'inventory-check.yaml'));
    await once(dir);
    const started = await cli(['start', 'inventory_check', '--folder', join(dir, 'data'), '--detach'], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim().split('\n')[0]!;
    const serve = spawnIn(dir, ['serve', '--grace', '5m']);
    await waitFor('serve to hold the attempt for an agent', () => serve.output().includes('waits for a file agent'), {
      timeout: 20_000,
      detail: serve.output,
    });
    serve.child.kill('SIGTERM');
    // Far sooner than its 5 minutes of grace: nothing of this process runs the agent's attempt.
    expect(
      await waitFor('serve to exit', () => serve.child.exitCode !== null && { code: serve.child.exitCode }, {
        timeout: 20_000,
        detail: serve.output,
      }),
    ).toEqual({ code: 0 });
    expect(serve.output()).toContain('every attempt in flight finished');
    const task = await waitFor(
      'the task file',
      async () => {
        await once(dir);
        return taskFile(dir);
      },
      { timeout: 20_000 },
    );
    expect(task.runId).toBe(runId);
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    expect((await once(dir)).recorded).toHaveLength(1);
    const evs = await events(dir, runId);
    expect(outcomes(evs).map((e) => e.type)).toEqual(['task.completed']);
    expect(evs.at(-1)!.state.status).toBe('COMPLETED');
  }, 60_000);

  it('with a users file runs as a proven user: its level decides what it takes, --level cannot raise it, and outcomes are recorded as by that user', async () => {
    const dir = agentProject((y) => y.replace('agent_level: L3', 'agent_level: L2'));
    for (const [name, level] of [
      ['bob', 'L3'],
      ['carol', 'L2'],
      ['ops', 'L1'],
    ] as const) {
      const r = await cli(['users', 'add', name, '--level', level, '--password-stdin'], {
        cwd: dir,
        stdin: `${name}-pw\n`,
      });
      expect(r.code, r.stderr).toBe(0);
    }
    const as = (name: string) => ({ cwd: dir, env: { LEDGERFLOW_USER: name, LEDGERFLOW_PASSWORD: `${name}-pw` } });
    const agentArgs = ['agent', '--inbox', '1N.3OX', '--outbox', '0UT.3OX', '--queue', 'agents', '--once', '--json'];
    const raised = await cli([...agentArgs, '--level', 'L2'], as('bob'));
    expect(raised.code).toBe(2);
    expect(raised.stderr).toContain(
      'bob is L3 (Worker); an agent of level L2 (Station OPS) needs that level or higher; nothing was declared',
    );
    expect((await cli(agentArgs, as('carol'))).code).toBe(0);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')], as('ops').env);
    await waitFor('the attempt held for an agent', () => run.output().includes('waits for a file agent'), {
      timeout: 20_000,
      detail: run.output,
    });
    const runId = /run (\S+) started/.exec(run.output())![1]!;
    const bob = await cli(agentArgs, as('bob'));
    expect(JSON.parse(bob.stdout).written).toEqual([]);
    expect(bob.stderr).toContain('bob is L3 (Worker); executing validate needs L2 (Station OPS) or higher');
    expect(JSON.parse((await cli(agentArgs, as('carol'))).stdout).written).toHaveLength(1);
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    expect(JSON.parse((await cli(agentArgs, as('carol'))).stdout).recorded).toHaveLength(1);
    expect(await run.exited, run.output()).toBe(0);
    const [done] = outcomes(await events(dir, runId));
    expect(done!.data).toMatchObject({ by: 'carol' });
    expect(done!.data).not.toHaveProperty('unauthenticated');
  }, 60_000);

  it("gives each item of a MAP on the agents' queue its own task file (task-<run>-<task>[i].yaml), and the MAP completes with their outputs in order", async () => {
    const dir = agentProject((y) =>
      y
        .replace(
          / {4}- id: validate[\s\S]*$/,
          [
            '    - id: scan_each',
            '      type: MAP',
            '      items: "${workflow.input.folders}"',
            '      queue: agents',
            '      handler: scan_folder',
            '      input: { folder: "${item}" }',
            '      timeout: 30s',
            '',
          ].join('\n'),
        )
        .replace('required: [folder]', 'required: [folders]'),
    );
    writeFileSync(
      join(dir, 'in.json'),
      JSON.stringify({ folders: [join(dir, 'data'), join(dir, 'data'), join(dir, 'data')] }),
    );
    await once(dir);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--input-file', 'in.json']);
    const written = await waitFor(
      "the items' task files",
      async () => {
        const r = await once(dir);
        return r.written.length > 0 && r.written;
      },
      { timeout: 20_000, detail: run.output },
    );
    const runId = /run (\S+) started/.exec(run.output())![1]!;
    expect(written.map((p) => p.split('/').at(-1))).toEqual([0, 1, 2].map((i) => `task-${runId}-scan_each[${i}].yaml`));
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    expect((await once(dir)).recorded).toHaveLength(3);
    expect(await run.exited, run.output()).toBe(0);
    expect(outcomes(await events(dir, runId)).map((e) => [e.data.task, e.data.item])).toEqual(
      expect.arrayContaining([
        ['scan_each', 0],
        ['scan_each', 1],
        ['scan_each', 2],
      ]),
    );
  }, 60_000);

  it("counts an agent's failed results on the task's breaker: it opens, and the next attempt waits for it (task.delayed)", async () => {
    const dir = agentProject((y) =>
      y.replace(
        'retry_policy: { max_attempts: 2 }',
        'retry_policy: { max_attempts: 5, initial_delay: 10ms }\n      breaker: { failures: 2, window: 1m, open_for: 5m }',
      ),
    );
    await once(dir);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
    for (const attempt of [1, 2]) {
      const t = await waitFor(
        `attempt ${attempt}'s task file`,
        async () => {
          await once(dir);
          const f = taskFile(dir);
          return f?.attempt === attempt && f;
        },
        { timeout: 20_000, detail: run.output },
      );
      writeResult(dir, t.name.slice('task-'.length), `token: ${t.token}\nstatus: failed\nerror: disk full\n`);
      expect((await once(dir)).recorded).toHaveLength(1);
    }
    const runId = /run (\S+) started/.exec(run.output())![1]!;
    await waitFor(
      'the third attempt held by the open breaker',
      async () => (await events(dir, runId)).some((e) => e.type === 'task.delayed'),
      { timeout: 20_000, detail: run.output },
    );
    const shown = JSON.parse((await cli(['limits', 'show', '--json'], { cwd: dir })).stdout) as {
      breakers: { name: string; state: string; failures: number }[];
    };
    expect(shown.breakers).toEqual([
      expect.objectContaining({ name: 'task/inventory_check/validate', state: 'open', by: 'failures' }),
    ]);
    expect((await once(dir)).written).toEqual([]);
    expect((await cli(['breaker', 'close', 'task/inventory_check/validate'], { cwd: dir })).code).toBe(0);
    const third = await waitFor(
      "attempt 3's task file",
      async () => {
        await once(dir);
        const f = taskFile(dir);
        return f?.attempt === 3 && f;
      },
      { timeout: 20_000, detail: run.output },
    );
    writeResult(
      dir,
      third.name.slice('task-'.length),
      `token: ${third.token}\nstatus: completed\noutput: { files: 3 }\n`,
    );
    expect((await once(dir)).recorded).toHaveLength(1);
    expect(await run.exited, run.output()).toBe(0);
  }, 60_000);

  it('gives a task only to an agent of its agent_level or a higher authority', async () => {
    const dir = agentProject((y) => y.replace('agent_level: L3', 'agent_level: L2'));
    await once(dir);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
    await waitFor('the attempt held for an agent', () => run.output().includes('waits for a file agent'), {
      timeout: 20_000,
      detail: run.output,
    });
    expect((await once(dir)).written).toEqual([]);
    expect((await once(dir, ['--level', 'L2'])).written).toHaveLength(1);
    const task = taskFile(dir)!;
    writeFileSync(join(dir, '0UT.3OX', `result-${task.name.slice(5)}`), `token: ${task.token}\nstatus: completed\n`);
    expect((await once(dir, ['--level', 'L1'])).recorded).toHaveLength(1);
    expect(await run.exited).toBe(0);
  }, 60_000);
});
