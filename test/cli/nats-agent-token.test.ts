/**
 * A file agent over NATS: whoever can write its outbox but not read its
 * inbox must not be able to answer a task. The task file's token used to be
 * sha256 of the run, the task and the attempt (sequence 0), all of which
 * `status` shows, so a result file with that token was taken as the task's.
 * Now it is keyed with what only the worker handed the attempt has: the
 * forged result (the old-style token, computed as an attacker would) is
 * refused into 0UT.3OX/rejected/ with why and nothing is recorded; the
 * result echoing the task file's token completes the run. Real nats-server,
 * engine and agent processes.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, spawnCli } from '../helpers/cli.js';
import { agentProject, files, taskFile, writeResult } from '../helpers/file-agent.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

function spawned(args: string[], cwd: string): () => string {
  const child = spawnCli(args, { cwd });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return () => out;
}

/** The token as it was made before: from what anyone who may read the run knows (written out, as an attacker would). */
const unkeyed = (runId: string, task: string, attempt: number) =>
  `tk${createHash('sha256').update(`${runId}\n${task}\n${attempt}\n0`).digest('hex').slice(0, 24)}`;

type Ev = { type: string; data: Record<string, unknown> };

describe.skipIf(noNats)("a file agent's task token over NATS is keyed (issue 60, Low)", () => {
  const c = useCluster();

  it("a result forged with the token computed from run, task and attempt is refused and nothing recorded; the task file's token is accepted", async () => {
    const dir = agentProject((y) => y.replace('id: inventory_check', 'id: inventory_check_nats_token'));
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
    const started = await cli([...nats, 'start', 'inventory_check_nats_token', '--folder', join(dir, 'data')], {
      cwd: dir,
    });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    const task = await waitFor('the task file', () => taskFile(dir), {
      timeout: 30_000,
      detail: () => engine() + agent(),
    });
    const forged = unkeyed(runId, 'validate', 1);
    expect(task.token).not.toBe(forged);
    expect(task.token).toMatch(/^tk[0-9a-f]{32}$/);

    const stem = task.name.slice('task-'.length);
    writeResult(dir, stem, `token: ${forged}\nstatus: completed\noutput: { files: 666 }\n`);
    await waitFor('the forged result refused', () => files(dir, '0UT.3OX/rejected').includes(`result-${stem}`), {
      timeout: 20_000,
      detail: agent,
    });
    expect(readFileSync(join(dir, '0UT.3OX', 'rejected', `result-${stem}.reason`), 'utf8')).toContain(
      `has token ${forged}, not that of the attempt in flight`,
    );
    const status = JSON.parse((await cli([...nats, 'status', runId, '--json'])).stdout) as {
      status: string;
      tasks: Record<string, { status: string }>;
    };
    expect(status.tasks.validate!.status).toBe('IN_PROGRESS');
    expect(files(dir, '1N.3OX')).toContain(task.name);

    writeResult(dir, stem, `token: ${task.token}\nstatus: completed\noutput: { files: 3 }\n`);
    const waited = await cli([...nats, 'wait', runId, '--timeout', '30s', '--json']);
    expect(waited.code, waited.stderr + agent()).toBe(0);
    const history = JSON.parse((await cli([...nats, 'history', runId, '--json'])).stdout) as Ev[];
    const outcomes = history.filter((e) => e.type === 'task.completed' || e.type === 'task.failed');
    expect(outcomes.map((e) => [e.type, e.data.attempt, e.data.output])).toEqual([['task.completed', 1, { files: 3 }]]);
    // The forged result's output is nowhere in the log (hashes, tokens and times may hold the digits 666 themselves).
    expect(JSON.stringify(history)).not.toMatch(/"files":666\b/);
  }, 120_000);
});
