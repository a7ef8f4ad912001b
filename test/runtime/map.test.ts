import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors/index.js';
import { parseDefinition } from '../../src/definition/index.js';
import { def, engine, expectReplayMatches, runToIdle, virtualClock } from '../helpers/engine.js';

const fanOut = (extra = '', body = 'handler: fetch\n      input: { folder: "${item.path}", position: "${index}", run: "${workflow.runId}" }') => def(`
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
  it('runs the handler once per item with ${item} and ${index}, and outputs the results in item order', async () => {
    const { engine: e } = engine();
    const seen: unknown[] = [];
    const view = await runToIdle(e, fanOut('      max_concurrency: 2'), { folders: folders(5) }, {
      fetch: async (input, ctx) => { seen.push({ input, item: ctx.item, key: ctx.idempotencyKey }); return { size: Number(String(input.folder).slice(6)) * 10 }; },
    });
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ fetched: [0, 10, 20, 30, 40].map((size) => ({ size })) });
    expect(seen).toHaveLength(5);
    expect(seen).toContainEqual({ input: { folder: '/data/3', position: 3, run: view.runId }, item: 3, key: `${view.runId}/fetch_all[3]/1` });
    expect(view.tasks.fetch_all).toMatchObject({ status: 'COMPLETED', output: { results: [0, 10, 20, 30, 40].map((size) => ({ size })) } });
  });

  it('recorded by start (as serve, triggers, schedules and the dashboard start runs), a MAP over the input starts its items when driven', async () => {
    const { engine: e } = engine();
    const handlers = { fetch: async (input: Record<string, unknown>) => ({ size: String(input.folder).length }) };
    const runId = await e.start(fanOut('      max_concurrency: 2'), { folders: folders(3) }, { handlers });
    const view = await e.drive(runId, { handlers, maxTimerWaitMs: 1000 });
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ fetched: [{ size: 7 }, { size: 7 }, { size: 7 }] });
    await expectReplayMatches(e, view);
  });

  it('never has more than max_concurrency handlers in flight', async () => {
    const { engine: e } = engine();
    let inFlight = 0;
    let most = 0;
    const view = await runToIdle(e, fanOut('      max_concurrency: 3'), { folders: folders(20) }, {
      fetch: async () => {
        inFlight++; most = Math.max(most, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return {};
      },
    });
    expect(view.status).toBe('COMPLETED');
    expect(most).toBe(3);
  });

  it('completes at once with no results over an empty list', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, fanOut(), { folders: [] }, { fetch: async () => { throw new Error('never'); } });
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ fetched: [] });
  });

  it('fails with LF_MAP_ITEMS_NOT_A_LIST naming the type it got', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, fanOut(), { folders: { a: 1 } }, { fetch: async () => ({}) });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.fetch_all!.error).toMatchObject({ code: 'LF_MAP_ITEMS_NOT_A_LIST' });
    expect(view.tasks.fetch_all!.error!.message).toContain('gave an object, not a list');
  });

  it('fails after the in-flight items settle when an item fails, skipping the items not started', async () => {
    const { engine: e } = engine();
    const started: number[] = [];
    const view = await runToIdle(e, fanOut('      max_concurrency: 2'), { folders: folders(6) }, {
      fetch: async (_input, ctx) => { started.push(ctx.item!); if (ctx.item === 0) throw new NonRetryableError('folder 0 is unreadable', 'BAD'); return {}; },
    });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.fetch_all!.error).toMatchObject({ code: 'LF_MAP_ITEMS_FAILED' });
    expect(view.tasks.fetch_all!.error!.message).toContain('fetch_all[0]: folder 0 is unreadable');
    expect(started.sort()).toEqual([0, 1]);
    expect(view.tasks.fetch_all!.items!.map((i) => i.status)).toEqual(['FAILED', 'COMPLETED', 'SKIPPED', 'SKIPPED', 'SKIPPED', 'SKIPPED']);
  });

  it('tolerates tolerate_failures failed items, with null results for them', async () => {
    const { engine: e } = engine();
    const view = await runToIdle(e, fanOut('      tolerate_failures: 1'), { folders: folders(3) }, {
      fetch: async (_input, ctx) => { if (ctx.item === 1) throw new NonRetryableError('no', 'BAD'); return { i: ctx.item }; },
    });
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ fetched: [{ i: 0 }, null, { i: 2 }] });
  });

  it('retries an item by the task policy, that item only', async () => {
    const { engine: e, store } = engine({ clock: virtualClock() });
    const calls: number[] = [];
    const view = await runToIdle(e, fanOut('      retry_policy: { max_attempts: 3, initial_delay: 1s }'), { folders: folders(3) }, {
      fetch: async (_input, ctx) => { calls.push(ctx.item!); if (ctx.item === 2 && ctx.attempt < 3) throw new Error('flaky'); return {}; },
    });
    expect(view.status).toBe('COMPLETED');
    expect(calls.filter((i) => i === 2)).toHaveLength(3);
    expect(calls.filter((i) => i !== 2)).toHaveLength(2);
    const fired = (await store.read(view.runId)).filter((ev) => ev.type === 'timer.fired');
    expect(fired.map((ev) => ev.data)).toEqual([
      { task: 'fetch_all', timer: 'backoff', attempt: 1, item: 2 },
      { task: 'fetch_all', timer: 'backoff', attempt: 2, item: 2 },
    ]);
  });

  it('times an item out by the task timeout', async () => {
    const { engine: e } = engine({ clock: virtualClock() });
    const view = await runToIdle(e, fanOut('      timeout: 5s\n      tolerate_failures: 1'), { folders: folders(2) }, {
      fetch: async (_input, ctx) => {
        if (ctx.item === 1) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        return { ok: ctx.item };
      },
    });
    expect(view.status).toBe('COMPLETED');
    expect(view.tasks.fetch_all!.items!.map((i) => i.status)).toEqual(['COMPLETED', 'TIMED_OUT']);
  });

  it('runs an iterator task as the body; the iterator only mirrors the MAP', async () => {
    const { engine: e } = engine();
    const d = fanOut(`    - id: fetch_one
      type: SIMPLE
      handler: fetch
      input: { folder: "\${item.path}" }
    - id: after
      type: SIMPLE
      depends_on: [fetch_all]
      input: { n: "\${fetch_all.output.results}" }`, 'iterator: fetch_one');
    const seen: unknown[] = [];
    const view = await runToIdle(e, d, { folders: folders(2) }, {
      fetch: async (input) => { seen.push(input); return { f: input.folder }; },
      after: async (input) => input,
    });
    expect(view.status).toBe('COMPLETED');
    expect(seen).toEqual([{ folder: '/data/0' }, { folder: '/data/1' }]);
    expect(view.tasks.fetch_one).toMatchObject({ status: 'COMPLETED', output: { results: [{ f: '/data/0' }, { f: '/data/1' }] } });
    expect(view.tasks.after!.output).toEqual({ n: [{ f: '/data/0' }, { f: '/data/1' }] });
  });
});

describe('MAP validation', () => {
  const problems = (yaml: string) => parseDefinition(yaml, 'm.yaml').diagnostics.map((d) => `${d.line}:${d.col} ${d.code}`);
  it('refuses ${item} outside the input of a MAP body, at its line and column', () => {
    expect(problems(`
workflow:
  id: w
  tasks:
    - id: a
      type: SIMPLE
      input: { x: "see \${item.name}" }
`)).toEqual(['7:24 LF_ITEM_REF_OUTSIDE_MAP']);
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
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^7:\d+ LF_MISSING_FIELD$/), expect.stringMatching(/^8:\d+ LF_CONFLICT$/)]));
  });
});

describe('MAP in status and history', () => {
  it('names items task[i], with a progress summary, in text and JSON', async () => {
    const { statusText } = await import('../../src/cli/render.js');
    const { engine: e } = engine();
    const view = await runToIdle(e, fanOut('      tolerate_failures: 1'), { folders: folders(3) }, {
      fetch: async (_input, ctx) => { if (ctx.item === 1) throw new NonRetryableError('permission denied'); return {}; },
    });
    const text = statusText(view).replace(/\x1b\[[0-9;]*m/g, '');
    expect(text).toMatch(/fetch_all +COMPLETED +items: 2 of 3 done, 1 failed/);
    expect(text).toMatch(/✗ fetch_all\[1\] +FAILED +attempts 1 +permission denied/);
    expect(view.tasks.fetch_all!.items!.map((i) => [i.instance, i.status])).toEqual([['fetch_all[0]', 'COMPLETED'], ['fetch_all[1]', 'FAILED'], ['fetch_all[2]', 'COMPLETED']]);
  });
});

describe('MAP handlers', () => {
  it('a MAP whose handler the module does not export is refused before it starts', async () => {
    const { engine: e } = engine();
    await expect(e.run(fanOut(), { folders: folders(1) }, { handlers: {} })).rejects.toThrow(/no handler for task fetch_all \(named "fetch"\)/);
  });
});
