/**
 * Which tasks of a workflow wait for a gate before an attempt starts, and what each is held to: its own `concurrency:`,
 * `rate_limit:`, `breaker:` and `requires:` (a MAP's, else its body's), and the limits file's for its queue and
 * handler. Part of the compiled workflow (`CompiledWorkflow.gates`, worked out on first use; a copy bound to the limits
 * file's limits has its own: CompiledWorkflow.bound). Pure.
 */
import {
  DEFAULT_QUEUE,
  handlerName,
  mapBody,
  type Definition,
  type GlobalLimits,
  type LimitSpec,
  type TaskDef,
} from '../definition/index.js';

/** Whose limit a part of a gate is: the task's own, its queue's or its handler's (the limits file). */
export type GateOwner = 'task' | 'queue' | 'handler';

/** One limit an attempt is held to, and the name its state is shared under: every run of every workflow, every executor. */
export interface GatePart {
  /** `task/<workflowId>/<taskId>`, `queue/<queue>` or `handler/<handler>`: what the executors' gate state is kept under. */
  readonly name: string;
  readonly owner: GateOwner;
  /** The queue's or handler's name (a task's own: its id). */
  readonly of: string;
  readonly concurrency?: number;
  readonly rate?: { readonly limit: number; readonly perMs: number };
  /** `breaker:` (docs/limits.md#circuit-breakers): attempts wait while it is open. */
  readonly breaker?: { readonly failures: number; readonly windowMs: number; readonly openForMs: number };
  /** `requires:` (docs/limits.md#skills): attempts wait while no worker or agent has every one of these skills. */
  readonly skills?: readonly string[];
}

/** Every limit an attempt of a task is held to: its own (`concurrency:`, `rate_limit:`), its queue's and its handler's (the limits file). */
export interface TaskGate {
  readonly parts: readonly GatePart[];
}

const specPart = (name: string, owner: GateOwner, of: string, spec: LimitSpec): GatePart => ({
  name,
  owner,
  of,
  ...(spec.concurrency ? { concurrency: spec.concurrency.limit } : {}),
  ...(spec.rateLimit ? { rate: { limit: spec.rateLimit.limit, perMs: spec.rateLimit.perMs } } : {}),
  ...(spec.breaker
    ? {
        breaker: {
          failures: spec.breaker.failures,
          windowMs: spec.breaker.windowMs,
          openForMs: spec.breaker.openForMs,
        },
      }
    : {}),
});

/** Every gated task of a definition (a MAP's limits, else its body's, hold its items), under the limits file's `limits` if given; empty for most. */
export function gatesOf(def: Definition, limits?: GlobalLimits): ReadonlyMap<string, TaskGate> {
  const m = new Map<string, TaskGate>();
  // A MAP's iterator runs only as the MAP's items: its own limits are the MAP's, not a task's of its own.
  const iterators = new Set(
    def.tasks.flatMap((t) => (t.type === 'MAP' && t.iterator && t.iterator !== t.id ? [t.iterator] : [])),
  );
  for (const t of def.tasks) {
    if (iterators.has(t.id)) continue;
    const body: TaskDef = t.type === 'MAP' ? mapBody(def.tasks, t) : t;
    const src: TaskDef = t.concurrency || t.rateLimit || t.breaker ? t : body;
    const parts: GatePart[] = [];
    if (src.concurrency || src.rateLimit || src.breaker)
      parts.push(
        specPart(`task/${def.id}/${t.id}`, 'task', t.id, {
          concurrency: src.concurrency,
          rateLimit: src.rateLimit,
          breaker: src.breaker,
        }),
      );
    // Skills are asked of whoever serves the task's queue, not counted: a part with nothing shared to keep.
    const requires = t.requires ?? body.requires;
    if (requires) parts.push({ name: `skills/${requires.join('+')}`, owner: 'task', of: t.id, skills: requires });
    if (
      limits &&
      (body.type === 'SIMPLE' ||
        body.type === 'COMMAND' ||
        body.type === 'HTTP' ||
        (body.type === 'MAP' && !body.workflow))
    ) {
      // What a worker takes: the queue (default "default"); a handler by name (COMMAND and HTTP tasks have none of their own).
      const queue = body.queue ?? DEFAULT_QUEUE;
      const q = Object.hasOwn(limits.queues, queue) ? limits.queues[queue] : undefined;
      if (q) parts.push(specPart(`queue/${queue}`, 'queue', queue, q));
      if (body.type !== 'COMMAND' && body.type !== 'HTTP') {
        const handler = handlerName(body);
        const h = Object.hasOwn(limits.handlers, handler) ? limits.handlers[handler] : undefined;
        if (h) parts.push(specPart(`handler/${handler}`, 'handler', handler, h));
      }
    }
    if (parts.length > 0) m.set(t.id, { parts });
  }
  return m;
}
