/** The MAP region as XState runs it: the compiled machine as a live actor takes a MAP run to its end as the interpreter does. */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { compile, type MachineEvent } from '../../src/compiler/index.js';
import { def } from '../helpers/engine.js';

const d = def(`
workflow:
  id: map-actor
  name: Map actor
  version: 1
  input:
    required: [xs]
  tasks:
    - id: fan
      type: MAP
      items: "\${workflow.input.xs}"
      handler: h
      input: { x: "\${item}" }
      max_concurrency: 1
      retry_policy: { max_attempts: 2, initial_delay: 1s }
    - { id: body, type: SIMPLE }
    - { id: each, type: MAP, items: "\${workflow.input.xs}", iterator: body, tolerate_failures: 1 }
`);

describe('a compiled MAP machine', () => {
  it('runs as an XState actor: items one at a time, a retried item, a tolerated failure, the iterator mirroring its MAP', () => {
    const compiled = compile(d);
    const input = {
      runId: 'r',
      workflowId: d.id,
      version: 1,
      input: { xs: ['a', 'b'] },
      time: Date.parse('2026-01-01T00:00:00Z'),
    };
    const actor = createActor(compiled.machine, { input });
    actor.start();
    let snap = compiled.interpreter.initial(input);
    let t = input.time;
    const send = (e: Record<string, unknown> & { type: string }) => {
      const ev = { ...e, time: (t += 1000) } as MachineEvent;
      actor.send(ev);
      snap = compiled.interpreter.transition(snap, ev);
      expect(actor.getSnapshot().context).toEqual(snap.context);
      expect(actor.getSnapshot().value).toEqual(snap.value);
    };
    expect(actor.getSnapshot().context.tasks.fan.items.map((i: { status: string }) => i.status)).toEqual([
      'SCHEDULED',
      'PENDING',
    ]);
    send({ type: 'task.started.fan', attempt: 1, item: 0 });
    send({ type: 'task.failed.fan', attempt: 1, item: 0, error: { code: 'E', message: 'no', retryable: true } });
    send({ type: 'timer.backoff.fan', attempt: 1, item: 0 });
    send({ type: 'task.started.fan', attempt: 2, item: 0 });
    send({ type: 'task.completed.fan', attempt: 2, item: 0, output: 1 });
    // A stale answer for an item that is not at work is refused.
    send({ type: 'task.completed.fan', attempt: 1, item: 1, output: 'stale' });
    expect(actor.getSnapshot().context.tasks.fan.items[1].status).toBe('SCHEDULED');
    send({ type: 'task.started.fan', attempt: 1, item: 1 });
    send({ type: 'task.completed.fan', attempt: 1, item: 1, output: 2 });
    expect(actor.getSnapshot().context.tasks.fan).toMatchObject({ status: 'COMPLETED', output: { results: [1, 2] } });
    send({ type: 'task.started.each', attempt: 1, item: 0 });
    send({ type: 'task.started.each', attempt: 1, item: 1 });
    send({ type: 'task.failed.each', attempt: 1, item: 0, error: { code: 'E', message: 'no', retryable: false } });
    send({ type: 'task.completed.each', attempt: 1, item: 1, output: 'ok' });
    expect(actor.getSnapshot().value).toBe('completed');
    expect(actor.getSnapshot().context.tasks.body).toMatchObject({
      status: 'COMPLETED',
      output: { results: [null, 'ok'] },
    });
    actor.stop();
  });
});
