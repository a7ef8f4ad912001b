/**
 * A start's priority (`run --priority`, `start --priority`, the API's `priority`) is recorded in
 * run.started and orders the run's waits for a task's gate too, not only for a concurrency slot
 * (docs/limits.md, "Concurrency limits and priority" and "Task concurrency and rate limits").
 */
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/compiler/index.js';
import { Engine, MemoryEventStore } from '../../src/index.js';
import { foldStartOf, reconcile, startFold } from '../../src/runtime/index.js';
import type { EventEnvelope } from '../../src/events/index.js';
import { def } from '../helpers/engine.js';

const gated = def(`
workflow:
  id: gated
  version: 1
  priority: 20
  tasks:
    - { id: push, type: SIMPLE, concurrency: { limit: 1 } }
`);

const waitPriority = (snapshot: ReturnType<typeof startFold>) =>
  reconcile(compile(gated), snapshot).flatMap((e) => (e.type === 'attempt.wait' ? [e.priority] : []));

describe("a start's priority", () => {
  it("orders the run's task gate waits; without one the workflow's priority does", () => {
    const compiled = compile(gated);
    expect(
      waitPriority(startFold(compiled, { runId: 'a', time: '2026-01-01T00:00:00.000Z', input: {}, priority: 90 })),
    ).toEqual([90]);
    expect(waitPriority(startFold(compiled, { runId: 'b', time: '2026-01-01T00:00:00.000Z', input: {} }))).toEqual([
      20,
    ]);
  });

  it('is recorded in run.started only when the start gave one, and read back from it', async () => {
    const engine = new Engine({ store: new MemoryEventStore() });
    const handlers = { push: async () => ({ ok: true }) };
    const urgent = await engine.run(gated, {}, { handlers, priority: 90 });
    const plain = await engine.run(gated, {}, { handlers });
    const [u] = (await engine.events(urgent.runId)) as EventEnvelope[];
    const [p] = (await engine.events(plain.runId)) as EventEnvelope[];
    expect(u!.type === 'run.started' && u!.data.priority).toBe(90);
    expect(p!.type === 'run.started' && 'priority' in p!.data).toBe(false);
    expect(foldStartOf(u as EventEnvelope & { type: 'run.started' }).priority).toBe(90);
    expect(urgent.status).toBe('COMPLETED');
  });
});
