/**
 * TRANSFORM attempts on NATS: the engine runs their jq itself (src/transform/), as it performs a built-in failure step
 * or an EMIT, never handing them to a worker: jq is pure and quick, and no worker needs to be running for a workflow of
 * transforms. The outcome goes back in from the engine sender with the attempt's token, as a child run's does, and is
 * recorded as the attempt's task.completed or task.failed: a replay reads the output and never runs jq again. An engine
 * that dies before it reports leaves the attempt to the next engine's reconcile, which runs it again (the same input
 * gives the same output).
 */
import type { StartAttempt } from '../../runtime/index.js';
import type { ChildRuns } from './children.js';

export function engineTransforms(o: {
  children: ChildRuns;
  now: () => number;
}): (effect: StartAttempt) => Promise<void> {
  // The message id of the report: one per attempt and restart of the instance.
  return (effect) =>
    o.children.perform(
      effect,
      `${effect.runId}/${effect.instance}/${effect.attempt}/r${effect.restart}/jq`,
      `the TRANSFORM ${effect.instance}`,
      async () => {
        // Loaded on the first TRANSFORM this engine runs.
        const { runTransform } = await import('../../transform/index.js');
        // Stopped at the attempt's deadline (its timeout, or its run's), if it has one.
        const deadline = effect.deadline === undefined ? {} : { deadlineMs: Date.parse(effect.deadline), now: o.now() };
        return runTransform(effect.taskId, effect.transform!, effect.input, deadline);
      },
    );
}
