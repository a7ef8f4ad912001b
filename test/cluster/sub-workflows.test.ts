import { describe, expect, it } from 'vitest';
import { replayRun } from '../../src/runtime/index.js';
import { def } from '../helpers/engine.js';
import { noNats, useCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/wait.js';

const parent = def(`
workflow:
  id: nats-parent
  name: Parent
  version: 1
  input: { required: [n] }
  output: { total: "\${call.output.total}" }
  failure_workflow:
    id: nats-on-failure
    input: { note: "n was \${workflow.input.n}" }
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: nats-child
      input: { n: "\${workflow.input.n}" }
    - id: announce
      type: EMIT
      depends_on: [call]
      event: nats_doubled
      data: { total: "\${call.output.total}" }
    - id: shout
      type: EMIT
      depends_on: [announce]
      event: nats_nobody
      data: {}
`);

const child = def(`
workflow:
  id: nats-child
  name: Child
  version: 1
  input: { required: [n] }
  output: { total: "\${double.output.total}" }
  tasks:
    - { id: double, type: SIMPLE, input: { n: "\${workflow.input.n}" } }
`);

const listener = def(`
workflow:
  id: nats-listener
  name: Listener
  version: 1
  input: { required: [total] }
  output: { seen: "\${workflow.input.total}" }
  triggers:
    - event: nats_doubled
      input: { total: "\${event.data.total}" }
  tasks:
    - { id: note, type: SIMPLE, input: { total: "\${workflow.input.total}" } }
`);

const onFailure = def(`
workflow:
  id: nats-on-failure
  name: On failure
  version: 1
  input: { required: [failedRunId, failedTask, error, note] }
  output: { got: "\${workflow.input.note}" }
  tasks:
    - { id: note, type: SIMPLE, input: { total: 0 } }
`);

const waitsForPerson = def(`
workflow:
  id: nats-slow-parent
  name: Slow parent
  version: 1
  tasks:
    - { id: call, type: SUB_WORKFLOW, workflow: nats-person, timeout: 1s }
`);
const person = def(`
workflow:
  id: nats-person
  name: Person
  version: 1
  tasks:
    - { id: sign, type: HUMAN, approvers: [alice] }
`);

const fanOut = def(`
workflow:
  id: nats-fan-out
  name: Fan out
  version: 1
  input: { required: [ns] }
  output: { results: "\${each.output.results}" }
  tasks:
    - id: each
      type: MAP
      items: "\${workflow.input.ns}"
      workflow: nats-child
      input: { n: "\${item}" }
      max_concurrency: 2
`);

describe.skipIf(noNats)('SUB_WORKFLOW, EMIT and failure_workflow on NATS', () => {
  const c = useCluster({
    engines: 2,
    engine: { log: (l) => { if (process.env.LF_DEBUG) console.error(l); } },
    handlers: {
      double: async (i: Record<string, unknown>) => {
        if (Number(i.n) < 0) throw Object.assign(new Error('negative'), { retryable: false, code: 'NEGATIVE' });
        return { total: Number(i.n) * 2 };
      },
      note: async (i: Record<string, unknown>) => ({ total: i.total }),
    },
    deploy: [parent, child, listener, onFailure, waitsForPerson, person, fanOut],
  });

  it('runs the child among deployed definitions, reports its output to the parent, emits on lf.triggers.<event> once, and links both ways', async () => {
    const { runId } = await c.client.start('nats-parent', { n: 21 });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status, JSON.stringify(done)).toBe('COMPLETED');
    expect(done.output).toEqual({ total: 42 });
    const childId = `${runId}-call-1`;
    expect(done.tasks.call).toMatchObject({ status: 'COMPLETED', output: { total: 42 }, child: childId });
    const childEvents = await c.client.store.read(childId);
    const started = childEvents[0]!;
    expect(started.type === 'run.started' && started.data.source?.parent).toEqual({ runId, workflowId: 'nats-parent', task: 'call', attempt: 1, depth: 1 });
    const reported = (await c.client.store.read(runId)).find((e) => e.type === 'task.completed' && e.data.task === 'call')!;
    expect(reported.type === 'task.completed' && reported.data.by).toBe('engine');

    const announce = done.tasks.announce!.output as { eventId: string; runs: { runId: string; workflowId: string }[] };
    expect(announce).toMatchObject({ event: 'nats_doubled', eventId: `${runId}/announce/1`, runs: [{ workflowId: 'nats-listener' }] });
    const heard = await c.client.wait(announce.runs[0]!.runId, { timeoutMs: 20_000 });
    expect(heard).toMatchObject({ status: 'COMPLETED', output: { seen: 42 } });
    expect(done.tasks.shout!.output).toMatchObject({ runs: [], note: 'no workflow triggers on nats_nobody: no run started' });
    for (const id of [runId, childId]) expect(replayRun(await c.client.store.read(id)).divergence).toBeNull();
    const summaries = await c.client.store.listRuns({ workflowId: 'nats-child' });
    expect(summaries.find((s) => s.runId === childId)?.parent).toEqual({ runId, task: 'call' });
  });

  it("fails the task with the child's error, then starts the failure workflow once with failedRunId, failedTask and error", async () => {
    const { runId } = await c.client.start('nats-parent', { n: -1 });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status).toBe('FAILED');
    expect(done.tasks.call!.error).toMatchObject({ code: 'NEGATIVE', retryable: false });
    const failureId = `${runId}-failure`;
    await waitFor('the failure workflow completes', async () => (await c.client.status(failureId))?.status === 'COMPLETED', { timeout: 20_000 });
    const failure = (await c.client.store.read(failureId))[0]!;
    expect(failure.type === 'run.started' && failure.data.input).toMatchObject({ failedRunId: runId, failedTask: 'call', error: { code: 'NEGATIVE' }, note: 'n was -1' });
    expect(failure.type === 'run.started' && failure.data.source?.parent).toMatchObject({ runId, relation: 'failure' });
  });

  it('a SUB_WORKFLOW attempt that times out cancels its child run', async () => {
    const { runId } = await c.client.start('nats-slow-parent', {});
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.tasks.call!.status).toBe('TIMED_OUT');
    await waitFor('the child is cancelled', async () => (await c.client.status(`${runId}-call-1`))?.status === 'CANCELLED', { timeout: 20_000 });
  });

  it('a MAP whose body is a workflow runs one child run per item and collects their outputs in item order', async () => {
    const { runId } = await c.client.start('nats-fan-out', { ns: [1, 2, 3] });
    const done = await c.client.wait(runId, { timeoutMs: 20_000 });
    expect(done.status, JSON.stringify(done)).toBe('COMPLETED');
    expect(done.output).toEqual({ results: [{ total: 2 }, { total: 4 }, { total: 6 }] });
    for (const i of [0, 1, 2]) {
      const childId = `${runId}-each-m${i}-1`;
      const started = (await c.client.store.read(childId))[0]!;
      expect(started.type === 'run.started' && started.data.source?.parent).toMatchObject({ runId, task: 'each', item: i, attempt: 1 });
      expect(replayRun(await c.client.store.read(childId)).divergence).toBeNull();
    }
    // Each outcome is recorded for its item, as reported by the engine that saw the child settle.
    const outcomes = (await c.client.store.read(runId)).filter((e) => e.type === 'task.completed' && e.data.task === 'each');
    expect(outcomes.map((e) => (e.type === 'task.completed' ? e.data.item : null)).sort()).toEqual([0, 1, 2]);
    expect(replayRun(await c.client.store.read(runId)).divergence).toBeNull();
  });
});
