/**
 * Task instances. A task outside loops and maps runs as one instance, named by its id. A loop-body task runs once per
 * DO_WHILE iteration and a MAP task once per item, so their events, attempts and timers also carry `iteration` (1, 2,
 * ...) and/or `item` (0, 1, ...). Both are absent for every other task, so events, idempotency keys, tokens and timer
 * ids of such tasks are exactly what they were before instances existed (recorded histories depend on it).
 */
import type { RunContext, TaskStatus } from './context.js';

export interface InstanceRef {
  readonly task: string;
  readonly iteration?: number;
  readonly item?: number;
}

/** `task`, `task#2` (iteration 2), `task[3]` (item 3) or `task#2[3]`: how status, history and executors name an instance. */
export function instanceKey(ref: InstanceRef): string {
  let key = ref.task;
  if (ref.iteration !== undefined) key += `#${ref.iteration}`;
  if (ref.item !== undefined) key += `[${ref.item}]`;
  return key;
}

/**
 * The instance as a NATS token (`task`, `task.i2`, `task.m3`, `task.i2.m3`): for KV keys and attempt tokens, which
 * cannot hold `#` or `[`. Task ids hold no dots, so no instance's token is another's.
 */
export function instanceToken(ref: InstanceRef): string {
  let token = ref.task;
  if (ref.iteration !== undefined) token += `.i${ref.iteration}`;
  if (ref.item !== undefined) token += `.m${ref.item}`;
  return token;
}

/** The instance fields of a ref, as optional event data: nothing at all for a plain task. */
export function instanceFields(ref: { iteration?: number | undefined; item?: number | undefined }): {
  iteration?: number;
  item?: number;
} {
  return {
    ...(ref.iteration !== undefined ? { iteration: ref.iteration } : {}),
    ...(ref.item !== undefined ? { item: ref.item } : {}),
  };
}

/** The state an instance's current attempt is in: its status, attempt number and restarts. */
interface InstanceState {
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly restarts?: number;
  /** The current run was given back by a clean stop (task.released), and how many runs of the attempt were. */
  readonly released?: true;
  readonly releases?: number;
}

/**
 * The state of an instance's current attempt, or undefined when the run has no such instance now (no such task, or the
 * task is in another iteration).
 */
export function instanceState(ctx: RunContext, ref: InstanceRef): InstanceState | undefined {
  const t = ctx.tasks[ref.task];
  if (!t || t.iteration !== ref.iteration) return undefined;
  // A MAP item's state is on its MAP's (map.ts); a task without items has no item instances.
  if (ref.item !== undefined) return t.items?.[ref.item];
  return t.items ? undefined : t;
}
