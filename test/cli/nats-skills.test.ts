/**
 * Skill routing over NATS, as docs/language.md "Skills" tells a user: the docs' workflow deployed, an engine, a
 * worker without the skill. The task that requires gpu waits SCHEDULED with the reason (status, history, engine
 * log) while the plain worker runs what it can; a worker started with --skills gpu takes it; the next run's gpu
 * task goes to that worker only, while the plain worker serves the rest.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { noNats, useCluster } from '../helpers/cluster.js';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const procs: ChildProcess[] = [];
afterEach(() => killLeftovers(procs));

function docsWorkflow(): string {
  const text = readFileSync(join(ROOT, 'docs', 'limits.md'), 'utf8');
  return /```yaml\n([\s\S]*?)```/.exec(text.slice(text.indexOf('### Skills')))![1]!;
}

const HANDLERS = `export default {
  render: async (input, ctx) => ({ by: process.env.WHO, requires: ctx.task.requires ?? [] }),
  summarize: async () => ({ by: process.env.WHO }),
};
`;

function spawnLogged(args: string[], env: Record<string, string>): { output: () => string } {
  const child = spawnCli(args, { env });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { output: () => out };
}

describe.skipIf(noNats)('skills over NATS (docs/limits.md#skills)', () => {
  const c = useCluster();
  it('a gpu task waits for a worker with gpu, says why, then runs only on it', async () => {
    const dir = tempDir('lf-nats-skills-');
    writeFileSync(join(dir, 'render-report.yaml'), docsWorkflow());
    writeFileSync(join(dir, 'handlers.mjs'), HANDLERS);
    expect((await cli(['--nats', c.url, 'deploy', join(dir, 'render-report.yaml')])).code).toBe(0);
    const engine = spawnLogged(['--nats', c.url, 'engine'], {});
    spawnLogged(['--nats', c.url, 'worker', '--handlers', join(dir, 'handlers.mjs')], { WHO: 'plain' });
    const status = async (runId: string) =>
      JSON.parse((await cli(['--nats', c.url, 'status', runId, '--json'])).stdout);
    const first = JSON.parse((await cli(['--nats', c.url, 'start', 'render-report', '--json'])).stdout).runId as string;
    let last = '';
    await waitFor(
      'render to wait for a worker with gpu',
      async () => {
        const s = await status(first);
        last = JSON.stringify(s);
        return s.tasks?.render?.status === 'SCHEDULED' && s.tasks.render.waitingFor === 'a worker with skills gpu';
      },
      { timeout: 30_000, detail: () => last + engine.output() },
    );
    const history = JSON.parse((await cli(['--nats', c.url, 'history', first, '--json'])).stdout) as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(history.filter((e) => e.type === 'task.delayed').map((e) => e.data)).toEqual([
      { task: 'render', attempt: 1, reason: 'no_skilled_worker', skills: ['gpu'] },
    ]);
    expect(history.some((e) => e.type === 'task.started' && e.data.task === 'render')).toBe(false);
    await waitFor(
      'the engine log to say so',
      () => engine.output().includes('no worker with skills gpu serves handler render on queue default'),
      { detail: engine.output },
    );

    const gpu = spawnLogged(['--nats', c.url, 'worker', '--handlers', join(dir, 'handlers.mjs'), '--skills', 'gpu'], {
      WHO: 'gpu',
    });
    await waitFor(
      'the first run to complete',
      async () => {
        const s = await status(first);
        last = JSON.stringify(s);
        return s.status === 'COMPLETED';
      },
      { timeout: 30_000, detail: () => last + engine.output() + gpu.output() },
    );
    const done = await status(first);
    expect(done.tasks.render, JSON.stringify(done)).toMatchObject({ output: { by: 'gpu', requires: ['gpu'] } });

    // With both workers up, every gpu task goes to the gpu worker; the plain one never gets one.
    const runs: string[] = [];
    for (let i = 0; i < 4; i++)
      runs.push(JSON.parse((await cli(['--nats', c.url, 'start', 'render-report', '--json'])).stdout).runId as string);
    for (const id of runs) {
      await waitFor(`run ${id} to complete`, async () => (await status(id)).status === 'COMPLETED', {
        timeout: 30_000,
        detail: engine.output,
      });
      const s = await status(id);
      expect(s.tasks.render.output.by).toBe('gpu');
      // No wait recorded once a skilled worker is there.
      const h = JSON.parse((await cli(['--nats', c.url, 'history', id, '--json'])).stdout) as { type: string }[];
      expect(h.some((e) => e.type === 'task.delayed')).toBe(false);
    }
    // Who serves: the agents view names the gpu worker's skills.
    const agents = JSON.parse((await cli(['--nats', c.url, 'agents', '--json'])).stdout) as {
      agents: { skills: string[]; inFlight?: number; utilization?: { m1: number; m15: number } }[];
      participation: { workflow: string; runs: number; agents: { name: string }[] }[];
    };
    const gpuRow = agents.agents.find((a) => a.skills.includes('gpu'));
    expect(gpuRow).toMatchObject({ inFlight: 0, utilization: { m1: expect.any(Number), m15: expect.any(Number) } });
    // Who took part, per workflow: the workers' NATS user reported every outcome of the five runs.
    expect(agents.participation.find((w) => w.workflow === 'render-report')).toMatchObject({
      runs: 5,
      agents: [expect.objectContaining({ runs: 5 })],
    });
  }, 150_000);
});
