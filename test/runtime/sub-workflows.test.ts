import { describe, expect, it } from 'vitest';
import type { Handlers } from '../../src/runtime/index.js';
import { Engine, type ChildResolver } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import type { Definition } from '../../src/definition/index.js';
import { def } from '../helpers/engine.js';

const parent = def(`
workflow:
  id: parent
  name: Parent
  version: 1
  input: { required: [n] }
  output: { total: "\${call.output.total}" }
  tasks:
    - id: call
      type: SUB_WORKFLOW
      workflow: child
      input: { n: "\${workflow.input.n}" }
      retry_policy: { max_attempts: 2, backoff: fixed, initial_delay: 1ms }
    - id: after
      type: SIMPLE
      depends_on: [call]
      input: { total: "\${call.output.total}" }
`);

const child = def(`
workflow:
  id: child
  name: Child
  version: 1
  input: { required: [n] }
  output: { total: "\${double.output.total}" }
  tasks:
    - id: double
      type: SIMPLE
      input: { n: "\${workflow.input.n}" }
`);

function engineWith(defs: Definition[]): { engine: Engine; store: MemoryEventStore; asked: string[] } {
  const store = new MemoryEventStore();
  const asked: string[] = [];
  const resolveChild: ChildResolver = (ref) => {
    asked.push(ref.workflow);
    const d = defs.find((x) => x.id === ref.workflow);
    return d ? { definition: d, file: `/defs/${d.id}.yaml` } : null;
  };
  return { engine: new Engine({ store, resolveChild }), store, asked };
}

describe('SUB_WORKFLOW on the embedded store', () => {
  it('fails the attempt with LF_SUBWORKFLOW_NOT_FOUND when no definition has that id (no crash)', async () => {
    const { engine } = engineWith([]);
    const view = await engine.run(
      parent,
      { n: 1 },
      { handlers: { after: () => ({}) }, source: { file: '/defs/parent.yaml' } },
    );
    expect(view.status).toBe('FAILED');
    expect(view.tasks.call!.error).toMatchObject({ code: 'LF_SUBWORKFLOW_NOT_FOUND', retryable: false });
    expect(view.tasks.call!.error!.message).toContain('no definition of workflow child beside /defs/parent.yaml');
  });

  it('catches a cycle at run time: a workflow that calls itself fails with LF_SUBWORKFLOW_CYCLE at depth 16', async () => {
    const self = def(`
workflow:
  id: self
  name: Self
  version: 1
  tasks:
    - { id: again, type: SUB_WORKFLOW, workflow: self }
`);
    const { engine } = engineWith([self]);
    const view = await engine.run(self, {}, { handlers: {} });
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatchObject({ code: 'LF_SUBWORKFLOW_CYCLE', retryable: false });
    const runs = await engine.list({ workflowId: 'self' });
    expect(runs).toHaveLength(17);
  });

  it('on resume, a child.start for a child that already settled reports its outcome at once without running it again', async () => {
    const { engine, store } = engineWith([child]);
    let calls = 0;
    const handlers: Handlers = {
      double: (i) => {
        calls++;
        return { total: Number(i.n) * 2 };
      },
      after: () => ({}),
    };
    const view = await engine.run(parent, { n: 5 }, { handlers });
    // Cut the parent's log back to before the child's outcome was reported: as if the process died then.
    const events = await store.read(view.runId);
    const cut = events.findIndex((e) => e.type === 'task.completed' && e.data.task === 'call');
    const store2 = new MemoryEventStore();
    for (const runId of [view.runId, `${view.runId}-call-1`]) {
      const evs = (await store.read(runId)).filter((e) => runId !== view.runId || e.seq <= events[cut - 1]!.seq);
      await store2.append({ runId, expectedSeq: 0, dedupId: `${runId}/copy`, events: evs });
    }
    const e2 = new Engine({ store: store2, resolveChild: () => ({ definition: child }) });
    expect(calls).toBe(1);
    const resumed = await e2.drive(view.runId, { handlers });
    expect(resumed.status).toBe('COMPLETED');
    expect(resumed.output).toEqual({ total: 10 });
    expect(calls).toBe(1);
  });

  it("a run under a child's id that is not the child (a MAP item's, a SUB_WORKFLOW's) is left alone; the child runs under <child>--0, and a timed-out attempt cancels that child, not the other run", async () => {
    const person = def(`
workflow:
  id: person
  name: Waits for a person
  version: 1
  tasks:
    - { id: sign, type: HUMAN }
`);
    const fanned = def(`
workflow:
  id: fanned
  name: A child per item
  version: 1
  input: { required: [ns] }
  tasks:
    - { id: each, type: MAP, items: "\${workflow.input.ns}", workflow: child, input: { n: "\${item}" } }
    - { id: held, type: SUB_WORKFLOW, workflow: person, timeout: 50ms, depends_on: [each] }
`);
    const { engine, store } = engineWith([child, person]);
    const handlers: Handlers = { double: (i) => ({ total: Number(i.n) * 2 }) };
    // Someone's runs under the ids of item 1's child and of `held`'s child, started first.
    await engine.start(child, { n: 100 }, { runId: 'f-each-m1-1' });
    await engine.start(person, {}, { runId: 'f-held-1' });
    const before = await store.read('f-held-1');
    const view = await engine.run(fanned, { ns: [1, 2] }, { runId: 'f', handlers });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.each!.output).toEqual({ results: [{ total: 2 }, { total: 4 }] });
    expect(view.tasks.held).toMatchObject({ status: 'TIMED_OUT', child: 'f-held-1--0' });
    expect((await engine.status('f-each-m1-1--0')).parent).toMatchObject({ runId: 'f', task: 'each', item: 1 });
    expect(await store.lastSeq('f-each-m0-1--0')).toBe(0); // item 0's id was free: its child is under it
    await expect.poll(async () => (await engine.status('f-held-1--0')).status).toBe('CANCELLED');
    expect(await store.read('f-held-1')).toEqual(before);
    expect((await engine.status('f-each-m1-1')).status).toBe('RUNNING');
  });
});
