/**
 * What an in-process handler is handed besides its input (docs/library-api.md): the run's and
 * attempt's ids, `log`, the workflow input and the task, and `signal`, an own enumerable getter that
 * a spread of the context reads, as when the context was one object literal.
 */
import { describe, expect, it } from 'vitest';
import type { TaskContext, TaskHandler } from '../../src/runtime/index.js';
import { def, engine } from '../helpers/engine.js';

describe("a handler's context", () => {
  it('has the same keys in the same order, and a signal that a spread reads and that aborts with the attempt', async () => {
    const { engine: e } = engine();
    const seen: {
      keys: string[];
      spread: Record<string, unknown>;
      signal: AbortSignal;
      same: boolean;
      json: string;
    }[] = [];
    const workflow = def(`
workflow:
  id: ctx
  name: Context
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
    - { id: b, type: SIMPLE, depends_on: [a] }
`);
    const handler: TaskHandler = async (_input, ctx: TaskContext) => {
      const spread = { ...ctx };
      const first = ctx.signal;
      seen.push({
        keys: Object.keys(ctx),
        spread,
        signal: first,
        same: ctx.signal === first,
        json: JSON.stringify({ ...ctx, log: undefined, task: undefined }),
      });
      return { ok: true };
    };
    const view = await e.run(workflow, {}, { handlers: { a: handler, b: handler } });
    expect(view.status).toBe('COMPLETED');
    expect(seen).toHaveLength(2);
    for (const s of seen) {
      expect(s.keys).toEqual([
        'runId',
        'workflowId',
        'taskId',
        'attempt',
        'idempotencyKey',
        'log',
        'progress',
        'workflowInput',
        'task',
        'signal',
      ]);
      expect(s.signal).toBeInstanceOf(AbortSignal);
      expect(s.same).toBe(true);
      expect(s.spread.signal).toBe(s.signal);
      expect(Object.getOwnPropertySymbols(s.spread)).toEqual([]);
      expect(JSON.parse(s.json)).toEqual({
        runId: view.runId,
        workflowId: 'ctx',
        taskId: expect.any(String),
        attempt: 1,
        idempotencyKey: expect.any(String),
        workflowInput: {},
        signal: {},
      });
    }
    expect(seen.map((s) => s.spread.taskId)).toEqual(['a', 'b']);
  });

  it('aborts its signal when the attempt is no longer wanted (the run cancelled)', async () => {
    const { engine: e } = engine();
    const workflow = def(`
workflow:
  id: ctx-abort
  name: Context abort
  version: 1
  tasks:
    - { id: a, type: SIMPLE }
`);
    let signal: AbortSignal | undefined;
    let runId = '';
    const done = e.run(
      workflow,
      {},
      {
        onStarted: (id) => {
          runId = id;
        },
        handlers: {
          a: (_input, ctx: TaskContext) =>
            new Promise((_resolve, reject) => {
              signal = ctx.signal;
              ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
              void e.cancel(runId, { reason: 'test' });
            }),
        },
      },
    );
    const view = await done;
    expect(view.status).toBe('CANCELLED');
    expect(signal?.aborted).toBe(true);
  });
});
