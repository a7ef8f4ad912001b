/**
 * What a DO_WHILE does at the end of an iteration (loops.ts), remembered per run context: the loop's three guards and
 * the action that follows the one that held ask it of the same context, and it evaluates loop_condition. A pure
 * function of the context (which is never changed in place), so the result is the same warm, cleared or off
 * (test/caches.test.ts). A WeakMap: bounded by the contexts still in use.
 */
import { weakMemo } from '../weak-memo.js';
import type { RunContext } from './context.js';

const memo = weakMemo<RunContext, Map<string, unknown>>();

/** `compute()` for loop `id` on this context, remembered while the context is in use. */
export function rememberedLoopOutcome<V>(ctx: RunContext, id: string, compute: () => V): V {
  const byLoop = memo.get(ctx, () => new Map());
  if (byLoop.has(id)) return byLoop.get(id) as V;
  const value = compute();
  byLoop.set(id, value);
  return value;
}
export const clearLoopOutcomeCache = memo.clear;
export const setLoopOutcomeCacheEnabled = memo.setEnabled;
