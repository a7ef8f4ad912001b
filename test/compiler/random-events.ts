/**
 * Seeded random machine events for differential tests: mostly what the run
 * in its current state could plausibly receive next (so runs go deep), some
 * stale or wrong (old attempts, other tasks' events, strangers approving).
 */
import type { MachineEvent, RunContext } from '../../src/compiler/index.js';
import type { Definition, TaskDef } from '../../src/definition/index.js';

/** mulberry32: a tiny seeded PRNG, so a failure names the seed that reproduces it. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RandomEvents {
  private time: number;

  constructor(private readonly rng: () => number, private readonly def: Definition, private readonly outputs: Map<string, unknown[]>, start: number) {
    this.time = start;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rng() * items.length)]!;
  }

  private chance(p: number): boolean {
    return this.rng() < p;
  }

  /** Event times never go back; several events often share one. */
  private tick(): number {
    if (this.chance(0.7)) this.time += Math.floor(this.rng() * 60_000);
    return this.time;
  }

  private output(task: TaskDef): unknown {
    const variants = this.outputs.get(task.id);
    if (variants?.length && this.chance(0.9)) return this.pick(variants);
    return this.pick([{}, null, { value: Math.floor(this.rng() * 100) }, 'text', { value: ['a', 'b', 'c'] }, { value: [] }]);
  }

  private error(attempt: number): { code: string; message: string; retryable: boolean } {
    return { code: 'E_RANDOM', message: `attempt ${attempt} failed`, retryable: !this.chance(0.2) };
  }

  private approver(task: TaskDef): string {
    const named = task.type === 'HUMAN' ? task.approvers : [];
    return this.chance(0.85) ? (named[0] ?? task.assignedTo ?? 'anyone') : 'mallory';
  }

  /** What a MAP's items could receive now, each in its own status (item events carry `item`). */
  private plausibleItems(task: TaskDef, ctx: RunContext, time: number): MachineEvent[] {
    const id = task.id;
    return (ctx.tasks[id]!.items ?? []).flatMap((it, item): MachineEvent[] => {
      const n = it.attempts;
      switch (it.status) {
        case 'SCHEDULED': return [{ type: `task.started.${id}`, time, attempt: n + 1, item }];
        case 'IN_PROGRESS': return [
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), item },
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), item },
          { type: `task.failed.${id}`, time, attempt: n, error: this.error(n), item },
          { type: `timer.timeout.${id}`, time, attempt: n, item },
          { type: `task.restarted.${id}`, time, attempt: n, restart: (it.restarts ?? 0) + 1, item },
        ];
        case 'RETRYING': return [{ type: `timer.backoff.${id}`, time, attempt: n, item }];
        default: return [];
      }
    });
  }

  /** What the task could receive now, in its current status. */
  private plausible(task: TaskDef, ctx: RunContext, time: number): MachineEvent[] {
    const s = ctx.tasks[task.id]!;
    const id = task.id;
    if (s.items) return this.plausibleItems(task, ctx, time);
    const n = s.attempts;
    switch (s.status) {
      case 'SCHEDULED':
        return [{ type: `task.started.${id}`, time, attempt: n + 1 }];
      case 'IN_PROGRESS':
        return [
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task) },
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task) },
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task) },
          { type: `task.failed.${id}`, time, attempt: n, error: this.error(n) },
          { type: `timer.timeout.${id}`, time, attempt: n },
          { type: `task.restarted.${id}`, time, attempt: n, restart: (s.restarts ?? 0) + 1 },
        ];
      case 'RETRYING':
        return [{ type: `timer.backoff.${id}`, time, attempt: n }];
      case 'PENDING_APPROVAL': {
        const by = this.approver(task);
        const comment = this.chance(0.5) ? { comment: 'looked at it' } : {};
        return [
          { type: `approval.approved.${id}`, time, by, ...comment },
          { type: `approval.approved.${id}`, time, by, ...comment },
          { type: `approval.rejected.${id}`, time, by, ...comment },
          { type: `timer.approval_timeout.${id}`, time, attempt: n },
        ];
      }
      default:
        return [];
    }
  }

  /** Any event of any kind for any task (or one the definition does not have), with an attempt near the current one. */
  private stale(ctx: RunContext, time: number): MachineEvent {
    const task = this.chance(0.9) ? this.pick(this.def.tasks) : undefined;
    const id = task?.id ?? 'no_such_task';
    const n = Math.max(0, (ctx.tasks[id]?.attempts ?? 1) + Math.floor(this.rng() * 4) - 2);
    // Now and then an item of a task (a MAP's, or a stray one for a task that has none), near the ones it has.
    if (task && this.chance(0.3)) {
      const items = ctx.tasks[id]?.items ?? [];
      const item = Math.floor(this.rng() * (items.length + 2));
      const an = Math.max(0, (items[item]?.attempts ?? 1) + Math.floor(this.rng() * 4) - 2);
      const k = this.pick(['task.started', 'task.completed', 'task.failed', 'timer.timeout', 'timer.backoff', 'task.restarted'] as const);
      if (k === 'task.restarted') return { type: `task.restarted.${id}`, time, attempt: an, restart: Math.floor(this.rng() * 3), item };
      if (k === 'task.completed') return { type: `task.completed.${id}`, time, attempt: an, output: this.output(task), item };
      if (k === 'task.failed') return { type: `task.failed.${id}`, time, attempt: an, error: this.error(an), item };
      return { type: `${k}.${id}`, time, attempt: an, item };
    }
    const kind = this.pick(['task.started', 'task.completed', 'task.failed', 'timer.timeout', 'timer.backoff', 'timer.approval_timeout', 'approval.approved', 'approval.rejected', 'task.restarted'] as const);
    switch (kind) {
      case 'task.restarted': return { type: `task.restarted.${id}`, time, attempt: n, restart: Math.max(0, (ctx.tasks[id]?.restarts ?? 0) + Math.floor(this.rng() * 3) - 1) };
      case 'task.completed': return { type: `task.completed.${id}`, time, attempt: n, output: task ? this.output(task) : {} };
      case 'task.failed': return { type: `task.failed.${id}`, time, attempt: n, error: this.error(n) };
      case 'approval.approved': case 'approval.rejected': return { type: `${kind}.${id}`, time, by: task ? this.approver(task) : 'anyone' };
      default: return { type: `${kind}.${id}`, time, attempt: n };
    }
  }

  next(ctx: RunContext): MachineEvent {
    const time = this.tick();
    if (this.chance(0.01)) return { type: 'run.cancel', time, ...(this.chance(0.5) ? { by: 'ops', reason: 'no longer needed' } : {}) };
    const plausible = this.def.tasks.flatMap((t) => this.plausible(t, ctx, time));
    return plausible.length > 0 && this.chance(0.85) ? this.pick(plausible) : this.stale(ctx, time);
  }
}
