/**
 * The actions of a MAP's region: resolving its items, each item's attempts, retries and timeouts, and the MAP settling
 * (map.ts holds the item logic these write with). One group of actionsFor (actions.ts), apart so the per-item writes
 * read on their own.
 */
import { isDynamicFork, type MapTask } from '../definition/index.js';
import { forkResults } from './fork-dynamic.js';
import { retryDelayAfter } from './backoff.js';
import type { ItemState, RunContext } from './context.js';
import { taskState as state, type ImplementationArgs as Args, type TaskParams as P } from './implementation-args.js';
import { bodyDef, mapFailure, mapResults, resolveItems, startItems, withItem } from './map.js';
import { replaceItem } from './item-list.js';
import { scopeOf } from './scope.js';
import {
  attemptError,
  nowOf,
  stamped,
  withoutItemTimers,
  withoutReleased,
  withoutRuns,
  type ActionKit,
} from './action-kit.js';

export function mapActions({ def, task, putTask, withTask, armTimer }: ActionKit) {
  const asMap = (id: string) => task(id) as MapTask;
  /** The MAP's tasks with item `event.item` patched (and slots handed on: map.ts). */
  const withItemPatch = (ctx: RunContext, id: string, i: number, patch: Partial<ItemState>) => {
    const t = state(ctx, id);
    const items = withItem(asMap(id), t.items!, i, { ...t.items![i]!, ...patch });
    return putTask(ctx, id, { ...t, items });
  };
  const itemTimeout = (ctx: RunContext, id: string, i: number, attempt: number, now: string) =>
    armTimer(ctx, 'timeout', id, attempt, now, bodyDef(task, asMap(id)).timeoutMs, i);
  const itemSettled = (status: 'FAILED' | 'TIMED_OUT') =>
    stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const it = state(context, p.task).items![i]!;
      const error = attemptError(event, it.attempts, false, bodyDef(task, asMap(p.task)).timeoutMs);
      return {
        tasks: withItemPatch(context, p.task, i, { status, error, completedAt: nowOf(context, event) }),
        timers: withoutItemTimers(context, p.task, i),
      };
    });
  return {
    /** Entering `mapping`: the items resolved once, now; the first max_concurrency scheduled. Not a list: no items, and the error that fails the MAP. */
    mapStart: stamped(({ context, event }: Args, p: P) => {
      const map = asMap(p.task);
      const now = nowOf(context, event);
      const r = resolveItems(map, scopeOf(context));
      const before = state(context, p.task);
      return {
        tasks: putTask(context, p.task, {
          ...before,
          status: p.status!,
          attempts: 1,
          startedAt: now,
          items: 'values' in r ? startItems(map, r.values) : [],
          error: 'error' in r ? r.error : null,
        }),
      };
    }),
    itemStarted: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const now = nowOf(context, event);
      // A new attempt has not been restarted or given back: those runs were the attempt before's.
      const before = withoutRuns(state(context, p.task).items![i]!);
      const items = replaceItem(state(context, p.task).items!, i, {
        ...before,
        status: 'IN_PROGRESS',
        attempts: event.attempt!,
        startedAt: before.startedAt ?? now,
      });
      return {
        tasks: putTask(context, p.task, { ...state(context, p.task), items }),
        timers: itemTimeout(context, p.task, i, event.attempt!, now),
      };
    }),
    itemRestarted: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const t = state(context, p.task);
      const it = t.items![i]!;
      // A run given back (task.released) is taken up: the mark goes, its count stays (restarts.ts reads both).
      const tasks = it.released
        ? putTask(context, p.task, {
            ...t,
            items: withItem(asMap(p.task), t.items!, i, { ...withoutReleased(it), restarts: event.restart! }),
          })
        : withItemPatch(context, p.task, i, { restarts: event.restart! });
      return { tasks, timers: itemTimeout(context, p.task, i, event.attempt!, nowOf(context, event)) };
    }),
    /** The item's run was given back by a clean stop: still in flight, its restart not a loss (task.released). */
    itemReleased: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const it = state(context, p.task).items![i]!;
      return { tasks: withItemPatch(context, p.task, i, { released: true, releases: (it.releases ?? 0) + 1 }) };
    }),
    itemCompleted: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      return {
        tasks: withItemPatch(context, p.task, i, {
          status: 'COMPLETED',
          output: event.output ?? null,
          error: null,
          completedAt: nowOf(context, event),
        }),
        timers: withoutItemTimers(context, p.task, i),
      };
    }),
    itemRetrying: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      const body = bodyDef(task, asMap(p.task));
      const attempt = state(context, p.task).items![i]!.attempts;
      const error = attemptError(event, attempt, true, body.timeoutMs);
      const delay = retryDelayAfter(body.retry, error, attempt, context.runId, `${p.task}[${i}]`);
      return {
        tasks: withItemPatch(context, p.task, i, { status: 'RETRYING', error }),
        timers: armTimer(
          context,
          'backoff',
          p.task,
          attempt,
          nowOf(context, event),
          delay,
          i,
          withoutItemTimers(context, p.task, i),
        ),
      };
    }),
    itemFailed: itemSettled('FAILED'),
    itemTimedOut: itemSettled('TIMED_OUT'),
    itemBackoffElapsed: stamped(({ context, event }: Args, p: P) => {
      const i = event.item!;
      return {
        tasks: withItemPatch(context, p.task, i, { status: 'SCHEDULED' }),
        timers: withoutItemTimers(context, p.task, i),
      };
    }),
    mapCompleted: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        output: isDynamicFork(asMap(p.task))
          ? forkResults(state(context, p.task).items ?? [])
          : mapResults(state(context, p.task).items ?? []),
        error: null,
        completedAt: nowOf(context, event),
      }),
    })),
    mapFailed: stamped(({ context, event }: Args, p: P) => ({
      tasks: withTask(context, p.task, {
        status: p.status!,
        error: mapFailure(asMap(p.task), state(context, p.task)),
        completedAt: nowOf(context, event),
      }),
    })),
    /** An iterator settles with its MAP: done with the MAP's output when it completed, else skipped. */
    mirrorMap: stamped(({ context, event }: Args, p: P) => {
      const map = def.tasks.find((t) => t.type === 'MAP' && t.iterator === p.task)!;
      const m = state(context, map.id);
      const now = nowOf(context, event);
      return {
        tasks: withTask(context, p.task, {
          status: p.status!,
          output: p.status === 'COMPLETED' ? m.output : null,
          startedAt: m.startedAt ?? now,
          completedAt: now,
        }),
      };
    }),
  };
}
