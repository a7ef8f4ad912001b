/**
 * `ledgerflow agent` killed with SIGKILL between its file operations: what a
 * kill leaves (an outcome recorded and its files not moved, or moved
 * halfway) is finished by the next start without recording anything twice,
 * and an agent killed again and again while the docs' shell agent answers
 * loses no task and records each outcome once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, afterEach } from 'vitest';
import {
  agentProject,
  events,
  everyAgentRunReplays,
  files,
  outcomes,
  spawnIn,
  stop,
  stopSpawned,
  agentOnce,
  runToItsTaskFile,
} from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';

// A case that fails half-way leaves no agent or run process behind (they poll until killed).
afterEach(stopSpawned);

afterAll(async () => {
  expect(await everyAgentRunReplays()).toBeGreaterThanOrEqual(4);
});

const once = agentOnce;

describe('ledgerflow agent after kill -9', () => {
  it('moves a result recorded before the kill to done/ without recording it again, whether none or one of its files had moved', async () => {
    const dir = agentProject();
    await once(dir);
    const { run, task } = await runToItsTaskFile(dir);
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    const stem = task.name.slice('task-'.length);
    expect((await once(dir)).recorded).toHaveLength(1);
    expect(await run.exited, run.output()).toBe(0);
    const back = (from: string, to: string) => renameSync(join(dir, from), join(dir, to));
    // Killed after recording, before either move: both files where they were.
    back(`1N.3OX/done/${task.name}`, `1N.3OX/${task.name}`);
    back(`0UT.3OX/done/result-${stem}`, `0UT.3OX/result-${stem}`);
    // And a task file's temporary copy, as a kill during its write leaves it.
    writeFileSync(join(dir, '1N.3OX', `.${task.name}.tmp`), 'header: {');
    expect(await once(dir)).toMatchObject({
      recorded: [join('0UT.3OX', 'done', `result-${stem}`)],
      rejected: [],
      written: [],
    });
    // Killed after the task file moved, before its result did.
    back(`0UT.3OX/done/result-${stem}`, `0UT.3OX/result-${stem}`);
    expect(await once(dir)).toMatchObject({ recorded: [join('0UT.3OX', 'done', `result-${stem}`)], rejected: [] });
    expect(files(dir, '1N.3OX/done')).toEqual([task.name]);
    expect(files(dir, '0UT.3OX/done')).toEqual([`result-${stem}`]);
    expect(files(dir, '0UT.3OX').filter((n) => n.endsWith('.yaml'))).toEqual([]);
    expect(outcomes(await events(dir, task.runId)).map((e) => e.type)).toEqual(['task.completed']);
  }, 60_000);

  it("holds the attempt for the agent again, not restarted, when the process running the run is killed and the run resumed: the agent's result is still recorded", async () => {
    const dir = agentProject();
    await once(dir);
    const { run, task } = await runToItsTaskFile(dir);
    await stop(run, 'SIGKILL');
    const resumed = spawnIn(dir, ['resume', task.runId]);
    await waitFor(
      'the resumed run to hold the attempt for an agent',
      () => resumed.output().includes('waits for a file agent'),
      { timeout: 20_000, detail: resumed.output },
    );
    // Not lost with the killed process: the agent has it, so no task.restarted (a restart cap would otherwise fail it after a few resumes).
    expect((await events(dir, task.runId)).some((e) => e.type === 'task.restarted')).toBe(false);
    expect(await once(dir)).toEqual({ written: [], recorded: [], rejected: [] });
    execFileSync('sh', ['agent.sh'], { cwd: dir });
    expect((await once(dir)).recorded).toHaveLength(1);
    expect(await resumed.exited, resumed.output()).toBe(0);
    expect(outcomes(await events(dir, task.runId)).map((e) => e.type)).toEqual(['task.completed']);
  }, 60_000);

  it("shares one queue between two agents: each attempt's task file is written in one inbox only, and the other takes over when one is killed", async () => {
    const dir = agentProject((y) =>
      y.replace(
        / {4}- id: validate[\s\S]*$/,
        ['a', 'b', 'c', 'd']
          .map((id) =>
            [
              `    - id: ${id}`,
              '      type: SIMPLE',
              '      queue: agents',
              '      timeout: 60s',
              '      input: { folder: "${workflow.input.folder}" }',
            ].join('\n'),
          )
          .join('\n') + '\n',
      ),
    );
    const script = readFileSync(join(dir, 'agent.sh'), 'utf8');
    for (const who of ['x', 'y']) {
      mkdirSync(join(dir, who));
      writeFileSync(join(dir, who, 'agent.sh'), script);
    }
    const agentIn = (who: string) =>
      spawnIn(dir, [
        'agent',
        '--inbox',
        `${who}/1N.3OX`,
        '--outbox',
        `${who}/0UT.3OX`,
        '--queue',
        'agents',
        '--poll',
        '20ms',
      ]);
    const x = agentIn('x');
    const y = agentIn('y');
    // As the docs say: the agents first (each declares the queue before it says it is there), then the run.
    await waitFor(
      'both agents declared',
      () => x.output().includes('agent on queue agents') && y.output().includes('agent on queue agents'),
      { timeout: 20_000, detail: () => x.output() + y.output() },
    );
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
    const inbox = (who: string) => files(dir, `${who}/1N.3OX`).filter((n) => n.startsWith('task-'));
    await waitFor('four task files between the two inboxes', () => inbox('x').length + inbox('y').length === 4, {
      timeout: 20_000,
      detail: () => x.output() + y.output() + run.output(),
    });
    // Killed before answering: its claims pass to the other, which writes their task files too.
    const [dead, live] = inbox('x').length > 0 ? ['x', 'y'] : ['y', 'x'];
    await stop(dead === 'x' ? x : y, 'SIGKILL');
    await waitFor('the survivor to hold all four', () => inbox(live).length === 4, {
      timeout: 20_000,
      detail: () => (live === 'x' ? x : y).output(),
    });
    execFileSync('sh', ['agent.sh'], { cwd: join(dir, live) });
    expect(await run.exited, run.output()).toBe(0);
    await stop(live === 'x' ? x : y);
    const runId = /run (\S+) started/.exec(run.output())![1]!;
    expect(
      outcomes(await events(dir, runId))
        .map((e) => `${e.type} ${e.data.task}`)
        .sort(),
    ).toEqual(['a', 'b', 'c', 'd'].map((t) => `task.completed ${t}`));
    expect(files(dir, `${live}/1N.3OX/done`)).toHaveLength(4);
  }, 60_000);

  it('loses nothing and records nothing twice when the agent is killed right after each file operation it reports', async () => {
    // Four tasks in parallel on the agents' queue: a pass has many operations to be killed between.
    const dir = agentProject((y) =>
      y.replace(
        / {4}- id: validate[\s\S]*$/,
        ['a', 'b', 'c', 'd']
          .map((id) =>
            [
              `    - id: ${id}`,
              '      type: SIMPLE',
              '      queue: agents',
              '      timeout: 60s',
              '      input: { folder: "${workflow.input.folder}" }',
            ].join('\n'),
          )
          .join('\n') + '\n',
      ),
    );
    await once(dir);
    const run = spawnIn(dir, ['run', 'inventory-check.yaml', '--folder', join(dir, 'data')]);
    await waitFor(
      'the attempts held for agents',
      () => (run.output().match(/waits for a file agent/g) ?? []).length === 4,
      { timeout: 20_000, detail: run.output },
    );
    let kills = 0;
    let finished = false;
    void run.exited.then(() => {
      finished = true;
    });
    for (let round = 0; !finished && round < 60; round++) {
      execFileSync('sh', ['agent.sh'], { cwd: dir });
      const agent = spawnIn(dir, [
        'agent',
        '--inbox',
        '1N.3OX',
        '--outbox',
        '0UT.3OX',
        '--queue',
        'agents',
        '--poll',
        '10ms',
      ]);
      // Killed as soon as it says it did something: the pass it is in is cut wherever it has got to.
      await waitFor(
        'the agent to act, or the run to end',
        () => finished || /\b(wrote|recorded|found already recorded|refused) /.test(agent.output()),
        { timeout: 20_000, detail: () => agent.output() + run.output() },
      );
      await stop(agent, 'SIGKILL');
      kills++;
    }
    expect(await run.exited, run.output()).toBe(0);
    // At least a kill in the pass that writes the task files and one in the pass that records their results: a quick
    // machine may finish the rest within those two passes (seen: 2 kills, the run complete).
    expect(kills).toBeGreaterThanOrEqual(2);
    await once(dir);
    const runId = (await waitFor('the run id', () => /run (\S+) COMPLETED/.exec(run.output())))[1]!;
    const recorded = outcomes(await events(dir, runId));
    expect(recorded.map((e) => `${e.type} ${e.data.task} ${e.data.attempt}`).sort()).toEqual(
      ['a', 'b', 'c', 'd'].map((t) => `task.completed ${t} 1`),
    );
    expect(files(dir, '1N.3OX/done')).toHaveLength(4);
    expect(files(dir, '0UT.3OX/done')).toHaveLength(4);
    expect(existsSync(join(dir, '0UT.3OX', 'rejected')) ? files(dir, '0UT.3OX/rejected') : []).toEqual([]);
    expect(files(dir, '1N.3OX').filter((n) => n.endsWith('.yaml'))).toEqual([]);
  }, 120_000);
});
