/**
 * A driver whose append loses to another writer (commitWithRetry, DriverLog.flush): the store
 * refuses it, the driver reads what the other writer appended, folds its open group onto that
 * and appends again. Here the other writer is the engine's own pause and unpause, asked from
 * inside a handler of a run driven without following its log, so the driver learns of them only
 * through the refused append.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import type { Handlers } from '../../src/runtime/index.js';
import { def, expectReplayMatches } from '../helpers/engine.js';

const three = def(`
workflow:
  id: three
  name: Three steps
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
    - { id: c, type: SIMPLE, depends_on: [b] }
`);

describe('a driver that loses an append to another writer', () => {
  it("catches up, appends its step after the other writer's events, and the run completes and replays", async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store });
    const handlers: Handlers = {
      a: async () => ({ step: 'a' }),
      b: async (_input, ctx) => {
        await engine.pause(ctx.runId, { by: 'ops' });
        await engine.unpause(ctx.runId, { by: 'ops' });
        return { step: 'b' };
      },
      c: async () => ({ step: 'c' }),
    };
    const view = await engine.run(three, {}, { handlers, follow: false });
    expect(view.status).toBe('COMPLETED');
    const events = await store.read(view.runId);
    expect(
      events.map((e) => `${e.type}${'task' in (e.data as object) ? `:${(e.data as { task: string }).task}` : ''}`),
    ).toEqual([
      'run.started',
      'task.started:a',
      'task.completed:a',
      'task.started:b',
      'run.paused',
      'run.resumed',
      'task.completed:b',
      'task.started:c',
      'task.completed:c',
    ]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    await expectReplayMatches(engine, view);
  });
});
