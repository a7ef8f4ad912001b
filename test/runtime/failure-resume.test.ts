/**
 * A run that settled FAILED while its failure workflow had not started (the
 * process died between the two): driving it again (`Engine.drive`, what
 * `resume` does) starts the failure workflow, once by its run id
 * (`<runId>-failure`); a run that has one, or fails without one, is not driven.
 */
import { describe, expect, it } from 'vitest';
import { Engine, type ChildResolver } from '../../src/local/index.js';
import { MemoryEventStore } from '../../src/store/index.js';
import { def } from '../helpers/engine.js';

const failing = def(`
workflow:
  id: failing
  name: Failing
  version: 1
  failure_workflow:
    id: on_failure
    input: { team: ops }
  tasks:
    - id: boom
      type: SIMPLE
`);
const onFailure = def(`
workflow:
  id: on_failure
  name: On failure
  version: 1
  input: { required: [failedRunId, failedTask, error, team] }
  output: { said: "\${record.output.said}" }
  tasks:
    - id: record
      type: SIMPLE
      input: { said: "\${workflow.input.failedRunId} \${workflow.input.failedTask} \${workflow.input.team}" }
`);
const handlers = {
  boom: () => {
    throw Object.assign(new Error('boom'), { retryable: false });
  },
  record: (input: Record<string, unknown>) => ({ said: input.said }),
};
const resolveChild: ChildResolver = (ref) => (ref.workflow === 'on_failure' ? { definition: onFailure } : null);

describe('resume starts the failure workflow a failed run never started', () => {
  it('drives a FAILED run whose <runId>-failure does not exist to start it, and never starts it twice', async () => {
    const store = new MemoryEventStore();
    // The crash: the run failed in a process that could not start its failure workflow.
    const crashed = new Engine({ store });
    const failed = await crashed.run(failing, {}, { handlers });
    expect(failed.status).toBe('FAILED');
    const failureId = `${failed.runId}-failure`;
    expect(await store.lastSeq(failureId)).toBe(0);
    const before = await store.lastSeq(failed.runId);

    const engine = new Engine({ store, resolveChild });
    expect(await engine.pendingFailureRun(await engine.load(failed.runId))).toEqual({
      runId: failureId,
      workflow: 'on_failure',
    });
    const view = await engine.drive(failed.runId, { handlers });
    expect(view.status).toBe('FAILED');
    expect(await engine.status(failureId)).toMatchObject({
      status: 'COMPLETED',
      output: { said: `${failed.runId} boom ops` },
      parent: { runId: failed.runId, relation: 'failure' },
    });
    expect((await engine.status(failed.runId)).failureRun).toBe(failureId);
    // The failed run's own log is unchanged: starting its failure workflow records nothing in it.
    expect(await store.lastSeq(failed.runId)).toBe(before);

    // Driven again: nothing pending, nothing started twice.
    expect(await engine.pendingFailureRun(await engine.load(failed.runId))).toBeNull();
    const failureEvents = await store.lastSeq(failureId);
    await engine.drive(failed.runId, { handlers });
    expect(await store.lastSeq(failureId)).toBe(failureEvents);
    expect((await engine.events(failureId)).filter((e) => e.type === 'run.started')).toHaveLength(1);
  });

  it('a failed run without a failure workflow, and a completed one, have none pending', async () => {
    const store = new MemoryEventStore();
    const engine = new Engine({ store, resolveChild });
    const plain = def('workflow:\n  id: plain\n  name: P\n  version: 1\n  tasks:\n    - { id: boom, type: SIMPLE }\n');
    const failed = await engine.run(plain, {}, { handlers });
    expect(failed.status).toBe('FAILED');
    expect(await engine.pendingFailureRun(await engine.load(failed.runId))).toBeNull();
    const ok = await engine.run(failing, {}, { handlers: { ...handlers, boom: () => ({}) } });
    expect(ok.status).toBe('COMPLETED');
    expect(await engine.pendingFailureRun(await engine.load(ok.runId))).toBeNull();
  });
});
