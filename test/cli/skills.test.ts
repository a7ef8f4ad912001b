/**
 * Skill routing on the embedded store, as docs/language.md "Skills" tells a user: the docs' workflow, run with
 * and without `--skills`; a file agent with the skill takes the task a process without it holds; an agent
 * without it leaves the task alone; the wait is said in status and recorded once in the history.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { answerUntil, events, files, spawnIn, stopSpawned, taskFile } from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';

afterEach(stopSpawned);

/** The docs' workflow: the first YAML block of the Skills section. */
function docsWorkflow(): string {
  const text = readFileSync(join(ROOT, 'docs', 'limits.md'), 'utf8');
  const section = text.slice(text.indexOf('### Skills'));
  return /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
}

const HANDLERS = `export default {
  render: async (input, ctx) => ({ by: process.env.WHO ?? 'nobody', requires: ctx.task.requires ?? [] }),
  summarize: async () => ({ done: true }),
};
`;

function project(): string {
  const dir = tempDir('lf-skills-');
  writeFileSync(join(dir, 'render-report.yaml'), docsWorkflow());
  writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
  return dir;
}

describe('skills (docs/limits.md#skills), embedded store', () => {
  it('run --skills gpu runs the task that requires gpu here, its handler told the skills', async () => {
    const dir = project();
    const r = await cli(['run', 'render-report.yaml', '--handlers', 'handlers.mjs', '--skills', 'gpu', '--json'], {
      cwd: dir,
      env: { WHO: 'this process' },
    });
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout);
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.render.output).toEqual({ by: 'this process', requires: ['gpu'] });
  }, 30_000);

  it('without the skill the task waits with the reason; an agent without it leaves it, one with it takes it; the run completes', async () => {
    const dir = project();
    // Nobody has the skill: `run` says why and stops as for an approval (exit 3), the run left to resume.
    const first = spawnIn(dir, ['run', 'render-report.yaml', '--handlers', 'handlers.mjs']);
    expect(await first.exited, first.output()).toBe(3);
    expect(first.output()).toContain('render waits: no worker with skills gpu');
    const runId = /run (\S+) started/.exec(first.output())![1]!;
    let last = '';
    await waitFor(
      'status to say why render waits',
      async () => {
        last = (await cli(['status', runId], { cwd: dir })).stdout;
        return last.includes('waits for a worker with skills gpu');
      },
      { detail: () => last },
    );
    const delayed = (await events(dir, runId)).filter((e) => e.type === 'task.delayed');
    expect(delayed.map((e) => e.data)).toEqual([
      { task: 'render', attempt: 1, reason: 'no_skilled_worker', skills: ['gpu'] },
    ]);
    expect((await cli(['history', runId], { cwd: dir })).stdout).toContain(
      'render attempt 1 waits: no worker with skills gpu',
    );

    // An agent with other skills: declared, but the task is not its.
    const other = await cli(
      [
        'agent',
        '--inbox',
        '1N.other',
        '--outbox',
        '0UT.other',
        '--queue',
        'default',
        '--skills',
        'pdf',
        '--once',
        '--json',
      ],
      { cwd: dir },
    );
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout).written).toEqual([]);
    // The docs' agent, with the skill.
    const agent = spawnIn(dir, [
      'agent',
      '--inbox',
      '1N.3OX',
      '--outbox',
      '0UT.3OX',
      '--queue',
      'default',
      '--skills',
      'gpu,pdf',
      '--poll',
      '100ms',
    ]);
    // Declared with its skills (the agent without them declared the queue already): only then can a resume find it.
    await waitFor(
      'the agent to declare its queue with gpu',
      () => {
        const doc = join(dir, '.ledgerflow', 'gates', 'agent-queues.json');
        return existsSync(doc) && readFileSync(doc, 'utf8').includes('"gpu"');
      },
      { detail: agent.output },
    );
    // resume (or a serve) moves the run on: its gate now finds the agent, and the attempt is held for it.
    const run = spawnIn(dir, ['resume', runId, '--handlers', 'handlers.mjs']);
    const task = await waitFor('the task file', () => taskFile(dir), {
      timeout: 20_000,
      detail: () => run.output() + agent.output(),
    });
    expect(readFileSync(join(dir, '1N.3OX', task.name), 'utf8')).toContain('task_id: render');
    // The agent serves the whole default queue now: render (its skill) and then summarize; it answers each.
    let ended = false;
    void run.exited.then(() => {
      ended = true;
    });
    await answerUntil(
      dir,
      () => ended,
      '{ by: agent }',
      () => run.output() + agent.output(),
    );
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toContain('COMPLETED');
    const evs = await events(dir, runId);
    expect(evs.find((e) => e.type === 'task.completed' && e.data.task === 'render')?.data).toMatchObject({
      output: { by: 'agent' },
    });
    // Recorded once for the wait, however long it was.
    expect(evs.filter((e) => e.type === 'task.delayed')).toHaveLength(1);
    expect(files(dir, '1N.other').filter((n) => n.endsWith('.yaml'))).toEqual([]);
    // The agents view: the agent with the skill took part in the workflow's run; its load over the last minutes is known.
    const view = JSON.parse((await cli(['agents', '--json'], { cwd: dir })).stdout) as {
      agents: { name: string; skills: string[]; utilization?: { m1: number; m15: number } }[];
      participation: { workflow: string; runs: number; agents: { name: string; runs: number }[] }[];
    };
    expect(view.participation).toEqual([
      { workflow: 'render-report', runs: 1, agents: [{ name: 'agent:default', runs: 1 }] },
    ]);
    const gpuAgent = view.agents.find((a) => a.skills.includes('gpu'));
    expect(gpuAgent?.utilization?.m15).toBeGreaterThan(0);
  }, 90_000);

  it("ledgerflow test covers the docs' workflow: its model stands for a worker with the skills", async () => {
    const dir = project();
    const r = await cli(['test', 'render-report.yaml'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/all passed/);
  }, 30_000);

  it('refuses what is not a skill, at its line, and --skills that is not one', async () => {
    const dir = project();
    writeFileSync(join(dir, 'bad.yaml'), docsWorkflow().replace('requires: [gpu]', 'requires: [gpu, "two words"]'));
    const v = await cli(['validate', 'bad.yaml'], { cwd: dir });
    expect(v.code).toBe(2);
    expect(v.stderr + v.stdout).toMatch(/bad\.yaml:\d+:\d+.*skill/);
    const r = await cli(['run', 'render-report.yaml', '--handlers', 'handlers.mjs', '--skills', 'gpu,a.b'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--skills: "a.b" is not a skill name');
  }, 30_000);
});
