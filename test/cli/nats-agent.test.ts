/**
 * `ledgerflow agent --nats` as docs/agents.md#over-nats tells it: the docs'
 * workflow deployed, an engine, the agent as a NATS worker answering
 * `validate`, a run started; the docs' shell agent answers and the run
 * completes with its output. Then an attempt nobody answers times out and is
 * retried: its task file goes to rejected/ with why, its late result is
 * refused, and the retry's result is recorded once. Real nats-server.
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { agentProject, answerUntil, files, taskFile, writeResult } from '../helpers/file-agent.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

function spawned(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { child: ChildProcess; out: () => string } {
  const child = spawnCli(args, { cwd, env });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, out: () => out };
}

type Ev = { type: string; data: Record<string, unknown> };

describe.skipIf(noNats)('ledgerflow agent --nats (docs/agents.md#over-nats)', () => {
  const c = useCluster();

  it("the docs' commands: deploy, engine, agent (answering the deployed validate), start; the shell agent answers and the run completes", async () => {
    const dir = agentProject((y) => y.replace('id: inventory_check', 'id: inventory_check_nats'));
    const nats = ['--nats', c.url];
    expect((await cli([...nats, 'deploy', 'inventory-check.yaml'], { cwd: dir })).code).toBe(0);
    const engine = spawned([...nats, 'engine'], dir);
    // As the docs: no --handler, the deployed workflows' handler tasks on the queue are answered.
    const agent = spawned([...nats, 'agent', '--inbox', '1N.3OX', '--outbox', '0UT.3OX', '--queue', 'agents'], dir);
    await waitFor('the agent to start', () => agent.out().includes('answering'), {
      timeout: 30_000,
      detail: agent.out,
    });
    expect(agent.out()).toMatch(/answering validate from queue agents over NATS/);
    const started = await cli([...nats, 'start', 'inventory_check_nats', '--folder', join(dir, 'data')], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const task = await waitFor('the task file', () => taskFile(dir), {
      timeout: 30_000,
      detail: () => engine.out() + agent.out(),
    });
    expect(task).toMatchObject({ runId, attempt: 1 });
    expect(readFileSync(join(dir, '1N.3OX', task.name), 'utf8')).toContain(`folder: ${join(dir, 'data')}`);
    // The header as on the embedded store: the task's timeout, not null.
    expect(readFileSync(join(dir, '1N.3OX', task.name), 'utf8')).toContain('  timeout: 30s');
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    const waited = await cli([...nats, 'wait', runId, '--timeout', '30s', '--json']);
    expect(waited.code, waited.stderr + agent.out()).toBe(0);
    const history = JSON.parse((await cli([...nats, 'history', runId, '--json'])).stdout) as Ev[];
    const outcomes = history.filter((e) => e.type === 'task.completed' || e.type === 'task.failed');
    expect(outcomes.map((e) => [e.type, e.data.attempt, e.data.output])).toEqual([['task.completed', 1, { files: 3 }]]);
    expect(files(dir, '1N.3OX/done')).toEqual([task.name]);
    expect(files(dir, '0UT.3OX/done')).toEqual([`result-${task.name.slice(5)}`]);
  }, 120_000);

  it('does not answer a handler a deployed task above its level runs under, and says why', async () => {
    const dir = agentProject((y) =>
      y
        .replace('id: inventory_check', 'id: inventory_check_nats_l2')
        .replace('agent_level: L3', 'agent_level: L2')
        .replace('queue: agents', 'queue: agents_l2'),
    );
    const nats = ['--nats', c.url];
    expect((await cli([...nats, 'deploy', 'inventory-check.yaml'], { cwd: dir })).code).toBe(0);
    const r = await cli([...nats, 'agent', '--inbox', '1N.3OX', '--outbox', '0UT.3OX', '--queue', 'agents_l2'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'not answering validate: task validate of inventory_check_nats_l2 needs an agent of level L2 or higher authority, and this agent is L3',
    );
    expect(r.stderr).toContain(
      'no deployed workflow has a handler task on queue agents_l2 that an agent of level L3 may execute',
    );
  }, 60_000);

  it("an attempt nobody answers times out and is retried; its late result is refused into rejected/ with why, and the retry's is recorded once", async () => {
    const dir = agentProject((y) =>
      y
        .replace('id: inventory_check', 'id: inventory_check_nats_timeout')
        .replace('timeout: 30s', 'timeout: 2s')
        .replace('max_attempts: 2', 'max_attempts: 10'),
    );
    const nats = ['--nats', c.url];
    expect((await cli([...nats, 'deploy', 'inventory-check.yaml'], { cwd: dir })).code).toBe(0);
    const engine = spawned([...nats, 'engine'], dir);
    const agent = spawned(
      [
        ...nats,
        'agent',
        '--inbox',
        '1N.3OX',
        '--outbox',
        '0UT.3OX',
        '--queue',
        'agents',
        '--handler',
        'validate',
        '--poll',
        '50ms',
      ],
      dir,
    );
    const started = await cli([...nats, 'start', 'inventory_check_nats_timeout', '--folder', join(dir, 'data')], {
      cwd: dir,
    });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const first = await waitFor("attempt 1's task file", () => taskFile(dir), {
      timeout: 30_000,
      detail: () => engine.out() + agent.out(),
    });
    const second = await waitFor(
      "attempt 2's task file",
      () => {
        const t = taskFile(dir);
        return t?.attempt === 2 && t;
      },
      { timeout: 30_000, detail: () => engine.out() + agent.out() },
    );
    expect(second.token).not.toBe(first.token);
    const stem = first.name.slice('task-'.length);
    writeResult(dir, stem, `token: ${first.token}\nstatus: completed\noutput: { late: true }\n`);
    await waitFor('the late result refused', () => files(dir, '0UT.3OX/rejected').includes(`result-${stem}`), {
      timeout: 20_000,
      detail: agent.out,
    });
    // Refused by the handler waiting on the task (a later attempt's token), or, between attempts, by the sweep.
    expect(readFileSync(join(dir, '0UT.3OX', 'rejected', `result-${stem}.reason`), 'utf8')).toMatch(
      /not that of the attempt in flight|was not recorded: attempt 1 /,
    );
    const waiting = cli([...nats, 'wait', runId, '--timeout', '60s', '--json']);
    let ended = false;
    void waiting.then(() => {
      ended = true;
    });
    await answerUntil(dir, () => ended, '{ files: 3 }', agent.out);
    const waited = await waiting;
    expect(waited.code, waited.stderr + agent.out()).toBe(0);
    const history = JSON.parse((await cli([...nats, 'history', runId, '--json'])).stdout) as Ev[];
    const outcomes = history.filter((e) => e.type === 'task.completed' || e.type === 'task.failed');
    expect(outcomes.map((e) => e.type)).toEqual(['task.completed']);
    expect(outcomes[0]!.data.attempt).toBeGreaterThanOrEqual(2);
    // Attempt 1's task file left the inbox with why when it ended.
    const taskReasons = files(dir, '1N.3OX/rejected')
      .filter((n) => n.endsWith('.reason'))
      .map((n) => readFileSync(join(dir, '1N.3OX', 'rejected', n), 'utf8'));
    expect(taskReasons.join('\n')).toMatch(/attempt 1 .*(ended before a result came|superseded by attempt 2)/);
  }, 120_000);

  it('an agent killed with SIGKILL after moving a result to done/ but before reporting it: the attempt, handed to the restarted agent, reports that result from done/, recorded once', async () => {
    const dir = agentProject((y) => y.replace('id: inventory_check', 'id: inventory_check_nats_kill'));
    const nats = ['--nats', c.url];
    // Short acks: a killed worker's attempt is handed out again within the test.
    const env = { LEDGERFLOW_NATS_TASK_ACK_WAIT: '2s' };
    expect((await cli([...nats, 'deploy', 'inventory-check.yaml'], { cwd: dir })).code).toBe(0);
    const engine = spawned([...nats, 'engine'], dir, env);
    const agentArgs = [
      ...nats,
      'agent',
      '--inbox',
      '1N.3OX',
      '--outbox',
      '0UT.3OX',
      '--queue',
      'agents',
      '--handler',
      'validate',
      '--poll',
      '50ms',
    ];
    const first = spawned(agentArgs, dir, env);
    const started = await cli([...nats, 'start', 'inventory_check_nats_kill', '--folder', join(dir, 'data')], {
      cwd: dir,
    });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const task = await waitFor('the task file', () => taskFile(dir), {
      timeout: 30_000,
      detail: () => engine.out() + first.out(),
    });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.on('close', r));
    // What the killed agent would have left had it died between its moves and its report: the result taken, both files in done/.
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    const stem = task.name.slice('task-'.length);
    for (const [from, to] of [
      ['1N.3OX', task.name],
      ['0UT.3OX', `result-${stem}`],
    ] as const) {
      mkdirSync(join(dir, from, 'done'), { recursive: true });
      renameSync(join(dir, from, to), join(dir, from, 'done', to));
    }
    const second = spawned(agentArgs, dir, env);
    const waited = await cli([...nats, 'wait', runId, '--timeout', '60s', '--json']);
    expect(waited.code, waited.stderr + second.out() + engine.out()).toBe(0);
    const history = JSON.parse((await cli([...nats, 'history', runId, '--json'])).stdout) as Ev[];
    const outcomes = history.filter((e) => e.type === 'task.completed' || e.type === 'task.failed');
    expect(outcomes.map((e) => [e.type, e.data.attempt, e.data.output])).toEqual([['task.completed', 1, { files: 3 }]]);
    // The attempt was handed out again (lost with the killed worker, restarted), and no new task file was written for it.
    expect(history.some((e) => e.type === 'task.restarted')).toBe(true);
    expect(files(dir, '1N.3OX').filter((n) => n.endsWith('.yaml'))).toEqual([]);
  }, 120_000);
});
