/**
 * TRANSFORM attempts on NATS: the engine runs their jq itself (src/transform/), as it performs a
 * built-in failure step or an EMIT, never handing them to a worker: jq is pure and quick, and no
 * worker needs to be running for a workflow of transforms. The outcome goes back in from the engine
 * sender with the attempt's token, as a child run's does, and is recorded as the attempt's
 * task.completed or task.failed: a replay reads the output and never runs jq again. An engine that
 * dies before it reports leaves the attempt to the next engine's reconcile, which runs it again (the
 * same input gives the same output).
 */
import { instanceFields } from '../../compiler/index.js';
import { errorMessage } from '../../errors/index.js';
import { toTaskError, type StartAttempt } from '../../runtime/index.js';
import type { ChildRuns } from './children.js';

export function engineTransforms(o: {
  children: ChildRuns;
  now: () => number;
  log: (line: string) => void;
}): (effect: StartAttempt) => Promise<void> {
  return (effect) => {
    const transform = effect.transform!;
    void (async () => {
      let outcome: { kind: 'completed'; output: unknown } | { kind: 'failed'; error: ReturnType<typeof toTaskError> };
      try {
        // Loaded on the first TRANSFORM this engine runs.
        const { runTransform } = await import('../../transform/index.js');
        // Stopped at the attempt's deadline (its timeout, or its run's), if it has one.
        const deadline = effect.deadline === undefined ? {} : { deadlineMs: Date.parse(effect.deadline), now: o.now() };
        outcome = { kind: 'completed', output: await runTransform(effect.taskId, transform, effect.input, deadline) };
      } catch (err) {
        outcome = { kind: 'failed', error: toTaskError(err) };
      }
      const parent = {
        runId: effect.runId,
        workflowId: effect.workflowId,
        task: effect.taskId,
        ...instanceFields(effect),
        attempt: effect.attempt,
      };
      // The message id of the report: one per attempt and restart of the instance.
      await o.children.reportOutcome(
        parent,
        `${effect.runId}/${effect.instance}/${effect.attempt}/r${effect.restart}/jq`,
        outcome,
      );
    })().catch((err: unknown) =>
      o.log(
        `run ${effect.runId}: the TRANSFORM ${effect.instance} could not report: ${errorMessage(err)} (the next engine's reconcile runs it again)`,
      ),
    );
    return Promise.resolve();
  };
}
