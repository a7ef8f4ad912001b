import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { def, engine, expectReplayMatches, runToIdle, virtualClock } from '../helpers/engine.js';

const fanOut = (
  extra = '',
  body = 'handler: fetch\n      input: { folder: "${item.path}", position: "${index}", run: "${workflow.runId}" }',
) =>
  def(`
workflow:
  id: fan
  name: Fan out
  version: 1
  input:
    required: [folders]
  output:
    fetched: "\${fetch_all.output.results}"
  tasks:
    - id: fetch_all
      type: MAP
      items: "\${workflow.input.folders}"
      ${body}
${extra}
`);

const folders = (n: number) => Array.from({ length: n }, (_, i) => ({ path: `/data/${i}` }));

describe('MAP', () => {
  it('recorded by start (as serve, triggers, schedules and the dashboard start runs), a MAP over the input starts its items when driven', async () => {
    const { engine: e } = engine();
    const handlers = { fetch: async (input: Record<string, unknown>) => ({ size: String(input.folder).length }) };
    const runId = await e.start(fanOut('      max_concurrency: 2'), { folders: folders(3) }, { handlers });
    const view = await e.drive(runId, { handlers, maxTimerWaitMs: 1000 });
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ fetched: [{ size: 7 }, { size: 7 }, { size: 7 }] });
    await expectReplayMatches(e, view);
  });

  it('times an item out by the task timeout', async () => {
    const { engine: e } = engine({ clock: virtualClock() });
    const view = await runToIdle(
      e,
      fanOut('      timeout: 5s\n      tolerate_failures: 1'),
      { folders: folders(2) },
      {
        fetch: async (_input, ctx) => {
          if (ctx.item === 1)
            await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
          return { ok: ctx.item };
        },
      },
    );
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.fetch_all!.items!.map((i) => i.status)).toEqual(['COMPLETED', 'TIMED_OUT']);
  });
});

describe('MAP validation', () => {
  const problems = (yaml: string) =>
    parseDefinition(yaml, 'm.yaml').diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`);
  it('refuses ${item} outside the input of a MAP body, at its line and column', () => {
    expect(
      problems(`
workflow:
  id: w
  tasks:
    - id: a
      type: SIMPLE
      input: { x: "see \${item.name}" }
`),
    ).toEqual(['7:24 LF_ITEM_REF_OUTSIDE_MAP']);
  });
  it('accepts a workflow body, and refuses a MAP without a body or with two', () => {
    const found = problems(`
workflow:
  id: w
  input: { optional: [x] }
  tasks:
    - { id: m, type: MAP, items: "\${workflow.input.x}", workflow: child }
    - { id: n, type: MAP, items: "\${workflow.input.x}" }
    - { id: o, type: MAP, items: "\${workflow.input.x}", workflow: child, handler: h }
`);
    expect(found.filter((p) => p.startsWith('6:'))).toEqual([]);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^7:\d+ LF_MISSING_FIELD$/),
        expect.stringMatching(/^8:\d+ LF_CONFLICT$/),
      ]),
    );
  });
});

describe('MAP in status and history', () => {
  it('names items task[i], with a progress summary, in text and JSON', async () => {
    const { statusText } = await import('../../src/cli/render/render.js');
    const { engine: e } = engine();
    const view = await runToIdle(
      e,
      fanOut('      tolerate_failures: 1'),
      { folders: folders(3) },
      {
        fetch: async (_input, ctx) => {
          if (ctx.item === 1) throw new NonRetryableError('permission denied');
          return {};
        },
      },
    );
    const text = statusText(view).replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toMatch(/fetch_all +COMPLETED +items: 2 of 3 done, 1 failed/);
    expect(text).toMatch(/✗ fetch_all\[1\] +FAILED +attempts 1 +permission denied/);
    expect(view.tasks.fetch_all!.items!.map((i) => [i.instance, i.status])).toEqual([
      ['fetch_all[0]', 'COMPLETED'],
      ['fetch_all[1]', 'FAILED'],
      ['fetch_all[2]', 'COMPLETED'],
    ]);
  });
});

describe('MAP handlers', () => {
  it('a MAP whose handler the module does not export is refused before it starts', async () => {
    const { engine: e } = engine();
    await expect(e.run(fanOut(), { folders: folders(1) }, { handlers: {} })).rejects.toThrow(
      /no handler for task fetch_all \(named "fetch"\)/,
    );
  });
});
