/**
 * Whether an in-process attempt is held for a file agent (src/agent/) instead of run here: its task's queue is one file
 * agents serve, or its required skills are not this process's. Apart from in-process-attempts.ts, which runs the rest.
 */
import type { CompiledWorkflow } from '../compiler/index.js';
import { forFileAgents } from '../executor/index.js';
import { hasSkills } from '../limits/index.js';
import type { StartAttempt } from '../runtime/index.js';
import type { DriverOptions } from './driver-options.js';

/**
 * An attempt of a task on a queue file agents serve (executor/agent-queues.ts): held in flight here, so
 * the run waits for it and its timeout counts, while an agent process takes it from the log and records its
 * outcome (src/agent/); this driver follows the log, and reconcile drops the hold once the attempt settles.
 * A handler task only: COMMAND programs, built-in failure steps and the executor's own work still run here.
 */
export function heldForFileAgent(
  effect: StartAttempt,
  opts: DriverOptions,
  host: { compiled(): CompiledWorkflow },
  forAgents: Set<string>,
): boolean {
  const requires = effect.task.requires;
  // A task whose skills this process has runs here (started with --skills), whoever else serves its queue.
  if (requires && hasSkills(opts.skills ?? [], requires)) return false;
  if (requires) {
    // Its gate found a file agent with the skills (executor/agent-queues.ts): held for it, as an agent queue's attempts are.
    forAgents.add(effect.instance);
    opts.onLog?.(
      effect.instance,
      `attempt ${effect.attempt} waits for a file agent of queue ${effect.queue} with skills ${requires.join(', ')}`,
    );
    return true;
  }
  if (effect.command || effect.transform || !forFileAgents(host.compiled(), effect.taskId, opts.agentQueues))
    return false;
  forAgents.add(effect.instance);
  opts.onLog?.(effect.instance, `attempt ${effect.attempt} waits for a file agent of queue ${effect.queue}`);
  return true;
}
