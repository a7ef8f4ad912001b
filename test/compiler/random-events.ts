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

  constructor(
    private readonly rng: () => number,
    private readonly def: Definition,
    private readonly outputs: Map<string, unknown[]>,
    start: number,
  ) {
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
    return this.pick([
      {},
      null,
      { value: Math.floor(this.rng() * 100) },
      'text',
      { value: ['a', 'b', 'c'] },
      { value: [] },
    ]);
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
        case 'SCHEDULED':
          return [{ type: `task.started.${id}`, time, attempt: n + 1, item }];
        case 'IN_PROGRESS':
          return [
            { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), item },
            { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), item },
            { type: `task.failed.${id}`, time, attempt: n, error: this.error(n), item },
            { type: `timer.timeout.${id}`, time, attempt: n, item },
            { type: `task.restarted.${id}`, time, attempt: n, restart: (it.restarts ?? 0) + 1, item },
            { type: `task.released.${id}`, time, attempt: n, restart: it.restarts ?? 0, item },
          ];
        case 'RETRYING':
          return [{ type: `timer.backoff.${id}`, time, attempt: n, item }];
        default:
          return [];
      }
    });
  }

  /** What the task could receive now, in its current status. */
  private plausible(task: TaskDef, ctx: RunContext, time: number): MachineEvent[] {
    const s = ctx.tasks[task.id]!;
    const id = task.id;
    if (s.items) return this.plausibleItems(task, ctx, time);
    const n = s.attempts;
    // A loop-body task's events name its iteration.
    const it = s.iteration === undefined ? {} : { iteration: s.iteration };
    switch (s.status) {
      case 'SCHEDULED':
        return [{ type: `task.started.${id}`, time, attempt: n + 1, ...it }];
      case 'IN_PROGRESS':
        if (task.type === 'DO_WHILE') return [];
        return [
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), ...it },
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), ...it },
          { type: `task.completed.${id}`, time, attempt: n, output: this.output(task), ...it },
          { type: `task.failed.${id}`, time, attempt: n, error: this.error(n), ...it },
          { type: `timer.timeout.${id}`, time, attempt: n, ...it },
          { type: `task.restarted.${id}`, time, attempt: n, restart: (s.restarts ?? 0) + 1, ...it },
          { type: `task.released.${id}`, time, attempt: n, restart: s.restarts ?? 0, ...it },
        ];
      case 'RETRYING':
        return [{ type: `timer.backoff.${id}`, time, attempt: n, ...it }];
      case 'PENDING_APPROVAL': {
        const by = this.approver(task);
        const comment = this.chance(0.5) ? { comment: 'looked at it' } : {};
        return [
          { type: `approval.approved.${id}`, time, by, ...comment },
          { type: `approval.approved.${id}`, time, by, ...comment },
          { type: `approval.rejected.${id}`, time, by, ...comment },
          { type: `timer.approval_timeout.${id}`, time, attempt: n, ...it },
        ];
      }
      case 'PENDING':
        // A signal sent before its WAIT is reached is kept.
        return task.type === 'WAIT' && task.event !== undefined && this.chance(0.3)
          ? [this.signal(task.event, time, task.signalers)]
          : [];
      case 'WAITING':
        if (task.type !== 'WAIT') return [];
        return task.event !== undefined
          ? [
              this.signal(task.event, time, task.signalers),
              this.signal(task.event, time, task.signalers),
              { type: `timer.timeout.${id}`, time, attempt: n },
            ]
          : [{ type: `timer.wait.${id}`, time, attempt: n }];
      default:
        return [];
    }
  }

  /** A signal, by 'ops' or nobody; for a WAIT with `from:` (`senders`), mostly by one of them (the draws of others unchanged). */
  private signal(name: string, time: number, senders?: string[]): MachineEvent {
    const data = this.pick([{ ok: true }, null, 'text', { value: Math.floor(this.rng() * 100) }]);
    if (senders && senders.length > 0 && this.chance(0.7))
      return { type: `signal.${name}`, time, data, by: this.pick(senders) };
    return { type: `signal.${name}`, time, data, ...(this.chance(0.5) ? { by: 'ops' } : {}) };
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
      const k = this.pick([
        'task.started',
        'task.completed',
        'task.failed',
        'timer.timeout',
        'timer.backoff',
        'task.restarted',
        'task.released',
      ] as const);
      if (k === 'task.restarted' || k === 'task.released')
        return { type: `${k}.${id}`, time, attempt: an, restart: Math.floor(this.rng() * 3), item };
      if (k === 'task.completed')
        return { type: `task.completed.${id}`, time, attempt: an, output: this.output(task), item };
      if (k === 'task.failed') return { type: `task.failed.${id}`, time, attempt: an, error: this.error(an), item };
      return { type: `${k}.${id}`, time, attempt: an, item };
    }
    // A late event of an earlier iteration (or one that is not a loop's at all).
    const iteration = ctx.tasks[id]?.iteration;
    const it =
      iteration === undefined ? {} : this.chance(0.5) ? { iteration: Math.max(1, iteration - 1) } : { iteration };
    const kind = this.pick([
      'task.started',
      'task.completed',
      'task.failed',
      'timer.timeout',
      'timer.backoff',
      'timer.approval_timeout',
      'approval.approved',
      'approval.rejected',
      'task.restarted',
      'task.released',
      'timer.wait',
      'signal',
    ] as const);
    switch (kind) {
      case 'signal':
        return this.signal(
          task?.type === 'WAIT' && task.event !== undefined && this.chance(0.8) ? task.event : 'nobody_waits',
          time,
        );
      case 'task.restarted':
      case 'task.released':
        return {
          type: `${kind}.${id}`,
          time,
          attempt: n,
          restart: Math.max(0, (ctx.tasks[id]?.restarts ?? 0) + Math.floor(this.rng() * 3) - 1),
          ...it,
        };
      case 'task.completed':
        return { type: `task.completed.${id}`, time, attempt: n, output: task ? this.output(task) : {}, ...it };
      case 'task.failed':
        return { type: `task.failed.${id}`, time, attempt: n, error: this.error(n), ...it };
      case 'approval.approved':
      case 'approval.rejected':
        return { type: `${kind}.${id}`, time, by: task ? this.approver(task) : 'anyone' };
      default:
        return { type: `${kind}.${id}`, time, attempt: n, ...it };
    }
  }

  next(ctx: RunContext): MachineEvent {
    const time = this.tick();
    if (this.chance(0.01))
      return { type: 'run.cancel', time, ...(this.chance(0.5) ? { by: 'ops', reason: 'no longer needed' } : {}) };
    // Pause and resume (targetless transitions of the parallel state), sometimes twice in a row (refused then).
    if (this.chance(0.03))
      return ctx.paused === true || this.chance(0.2)
        ? { type: 'run.resume', time, ...(this.chance(0.5) ? { by: 'ops' } : {}) }
        : { type: 'run.pause', time, ...(this.chance(0.5) ? { by: 'ops', reason: 'maintenance' } : {}) };
    const plausible = this.def.tasks.flatMap((t) => this.plausible(t, ctx, time));
    return plausible.length > 0 && this.chance(0.85) ? this.pick(plausible) : this.stale(ctx, time);
  }
}
