import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../src/errors/index.js';
import { type Handlers } from '../../src/runtime/index.js';
import { Engine, type ChildResolver } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import type { Definition } from '../../src/definition/index.js';
import { def, expectReplayMatches } from '../helpers/engine.js';

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
  it('starts the child once under <runId>-<task>-<attempt>, takes its workflow output as the task output, and links both ways', async () => {
    const { engine } = engineWith([child]);
    const seen: unknown[] = [];
    const handlers: Handlers = { double: (i) => ({ total: Number(i.n) * 2 }), after: (i) => { seen.push(i); return {}; } };
    const view = await engine.run(parent, { n: 21 }, { handlers, source: { file: '/defs/parent.yaml' } });
    expect(view.status).toBe('COMPLETED');
    expect(view.output).toEqual({ total: 42 });
    expect(seen).toEqual([{ total: 42 }]);
    const childId = `${view.runId}-call-1`;
    expect(view.tasks.call).toMatchObject({ status: 'COMPLETED', output: { total: 42 }, child: childId });
    const childView = await engine.status(childId);
    expect(childView).toMatchObject({ status: 'COMPLETED', workflowId: 'child', input: { n: 21 }, parent: { runId: view.runId, workflowId: 'parent', task: 'call', attempt: 1, depth: 1 } });
    const started = (await engine.events(childId))[0]!;
    expect(started.type === 'run.started' && started.data.source?.parent).toEqual({ runId: view.runId, workflowId: 'parent', task: 'call', attempt: 1, depth: 1 });
    await expectReplayMatches(engine, view);
  });

  it("fails the task with the child's error, and a retry starts a new child", async () => {
    const { engine } = engineWith([child]);
    let calls = 0;
    const view = await engine.run(parent, { n: 1 }, {
      handlers: { double: () => { calls++; throw new NonRetryableError('no doubling today', 'NOPE'); }, after: () => ({}) },
      source: { file: '/defs/parent.yaml' },
    });
    expect(view.status).toBe('FAILED');
    expect(view.tasks.call).toMatchObject({ status: 'FAILED', attempts: 1 });
    expect(view.tasks.call!.error).toMatchObject({ code: 'NOPE', retryable: false });
    expect(view.tasks.call!.error!.message).toContain(`sub-workflow child (run ${view.runId}-call-1) failed at task double: no doubling today`);
    expect(calls).toBe(1);

    // A retryable failure of the child: the parent retries with a new child run.
    const { engine: e2 } = engineWith([child]);
    let n = 0;
    const v2 = await e2.run(parent, { n: 1 }, { handlers: { double: () => { if (n++ === 0) throw new Error('flaky'); return { total: 2 }; }, after: () => ({}) } });
    expect(v2.status).toBe('COMPLETED');
    expect(v2.tasks.call).toMatchObject({ attempts: 2, child: `${v2.runId}-call-2` });
    expect((await e2.status(`${v2.runId}-call-1`)).status).toBe('FAILED');
    expect((await e2.status(`${v2.runId}-call-2`)).status).toBe('COMPLETED');
  });

  it('fails the attempt with LF_SUBWORKFLOW_NOT_FOUND when no definition has that id (no crash)', async () => {
    const { engine } = engineWith([]);
    const view = await engine.run(parent, { n: 1 }, { handlers: { after: () => ({}) }, source: { file: '/defs/parent.yaml' } });
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
    const handlers: Handlers = { double: (i) => { calls++; return { total: Number(i.n) * 2 }; }, after: () => ({}) };
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

  it('cancels the child run when the parent is cancelled', async () => {
    const { engine } = engineWith([child]);
    let release!: () => void;
    const started = new Promise<void>((r) => { release = r; });
    const handlers: Handlers = {
      double: (_i, ctx) => new Promise((_res, rej) => { release(); ctx.signal.addEventListener('abort', () => rej(new Error('aborted'))); }),
      after: () => ({}),
    };
    const run = engine.run(parent, { n: 1 }, { handlers, runId: 'p1' });
    await started;
    await engine.cancel('p1', { by: 'ops' });
    const view = await run;
    expect(view.status).toBe('CANCELLED');
    const c = await engine.status('p1-call-1');
    expect(c.status).toBe('CANCELLED');
    expect(c.error!.message).toContain('run p1');
  });
});
