/**
 * A handler sees the run's input as ctx.workflowInput, in-process and in a
 * NATS worker (the engine puts it in the task message), so a handler can name
 * what the run is about (the seed's receipt names its folder) without the
 * definition passing it to every task.
 */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/definition/index.js';
import type { Handlers } from '../../src/runtime/index.js';
import { Engine } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { runAttempt } from '../../src/cluster/worker/run-attempt.js';
import { TaskMessage } from '../../src/cluster/transport/messages.js';

const def = parseDefinition(`
workflow:
  id: sees-input
  name: sees input
  version: 1
  input: { required: [target_folder] }
  tasks:
    - { id: look, type: SIMPLE, input: { fixed: 1 } }
`).definition!;

describe('ctx.workflowInput', () => {
  it('is the run input in an in-process run', async () => {
    const seen: unknown[] = [];
    const handlers: Handlers = {
      look: (_input, ctx) => {
        seen.push(ctx.workflowInput);
        return {};
      },
    };
    const engine = new Engine({ store: new MemoryEventStore() });
    const view = await engine.run(def, { target_folder: 'depot-a' }, { handlers });
    expect(view.status).toBe('COMPLETED');
    expect(seen).toEqual([{ target_folder: 'depot-a' }]);
  });

  it('travels in the NATS task message to the worker', async () => {
    const msg = TaskMessage.parse({
      runId: 'r1',
      workflowId: 'sees-input',
      version: 1,
      taskId: 'look',
      attempt: 1,
      handler: 'look',
      input: { fixed: 1 },
      workflowInput: { target_folder: 'depot-b' },
      token: 't',
      task: { name: 'look', type: 'SIMPLE', output: { names: [], values: {} } },
    });
    const handlers: Handlers = { look: (_input, ctx) => ({ folder: ctx.workflowInput?.target_folder }) };
    const outcome = await runAttempt(msg, { handlers, log: () => {}, writeOutput: async () => {} });
    expect(outcome).toMatchObject({ type: 'task.completed', data: { output: { folder: 'depot-b' } } });
  });
});
