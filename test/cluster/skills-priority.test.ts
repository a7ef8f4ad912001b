/**
 * Skill routing under the production nats.conf (the worker user's lines, unchanged by skills) and with priority:
 * two workers on one queue, one with the skill gpu. Tasks that require gpu run only on it, at every priority
 * level; the plain worker takes the rest; nothing is lost or run twice.
 */
import { describe, expect, it } from 'vitest';
import type { Handlers } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';

const render = def(`
workflow:
  id: skill-render
  version: 1
  input:
    required: [label]
  tasks:
    - id: render
      type: SIMPLE
      requires: [gpu]
      input: { label: "\${workflow.input.label}" }
    - id: note
      type: SIMPLE
      depends_on: [render]
      input: { label: "\${workflow.input.label}" }
`);

function handlers(who: string, ran: string[]): Handlers {
  const h = async (input: Record<string, unknown>, ctx: { task: { id: string } }) => {
    ran.push(`${ctx.task.id}:${String(input.label)}`);
    return { by: who };
  };
  return { render: h as Handlers[string], note: h as Handlers[string] };
}

describe.skipIf(noNats)('skills with the production nats.conf and priorities', () => {
  const c = useCluster({ engines: 1, production: true, deploy: [render] });

  it('gpu tasks go only to the gpu worker at every level; plain tasks to either; each runs once', async () => {
    const gpuRan: string[] = [];
    const plainRan: string[] = [];
    const plain = await c.addWorker({ concurrency: 2, handlers: handlers('plain', plainRan) });
    const gpu = await c.addWorker({ concurrency: 2, skills: ['gpu', 'pdf'], handlers: handlers('gpu', gpuRan) });
    try {
      const runs: string[] = [];
      for (let i = 0; i < 6; i++)
        runs.push(
          (await c.client.start('skill-render', { label: `r${i}` }, i % 2 === 0 ? { priority: 80 } : {})).runId,
        );
      for (const runId of runs) {
        const view = await c.runs.wait(runId, { timeoutMs: 60_000 });
        expect(view.status).toBe('COMPLETED');
        expect(view.tasks.render!.output).toEqual({ by: 'gpu' });
      }
      expect(gpuRan.filter((r) => r.startsWith('render:')).sort()).toEqual(runs.map((_, i) => `render:r${i}`).sort());
      expect(plainRan.filter((r) => r.startsWith('render:'))).toEqual([]);
      // Every note ran once, on one worker or the other.
      expect([...gpuRan, ...plainRan].filter((r) => r.startsWith('note:')).sort()).toEqual(
        runs.map((_, i) => `note:r${i}`).sort(),
      );
    } finally {
      await c.stopWorker(gpu);
      await c.stopWorker(plain);
    }
  }, 120_000);
});
