/**
 * The lenient readers normalize.ts and normalize-task.ts share: a raw value as a string, an integer, a map, one of a
 * list, a duration or a list of ids (undefined or empty when it is not one), and the helpers that build the canonical
 * objects (compact, rebuilt).
 */
import { parseDuration } from '../duration.js';
import { isObj } from './issues.js';
import { TASK_TYPES, type JsonValue, type OutputSpec, type TaskType } from './task-types.js';

export type Raw = Record<string, unknown>;

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const int = (v: unknown, min = 0): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= min ? v : undefined;
export const map = (v: unknown): Record<string, JsonValue> => (isObj(v) ? (v as Record<string, JsonValue>) : {});
export const oneOf = <T extends string>(v: unknown, values: readonly T[]): T | undefined =>
  typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : undefined;
export const duration = (v: unknown): number | undefined =>
  typeof v === 'string' || typeof v === 'number' ? (parseDuration(v) ?? undefined) : undefined;

/** A string or a list of strings, as a list (hand-written files use both). */
export function idList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

/** Drops undefined members so optional fields are absent, not `undefined` (stable hashes, clean JSON). */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/**
 * `o` rebuilt key by key, the same keys in the same order. Node 20's V8 gives an object made by a spread and a key the
 * spread did not have (`{ ...base, type }`) a hidden class of its own: every task of a 3,000-task definition had one,
 * and each read of a task's definition in the fold missed V8's caches. Built key by key (as compact builds), tasks of
 * one shape share one.
 */
export function rebuilt<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o)) as T;
}

export function taskTypeOf(v: unknown): TaskType | undefined {
  return typeof v === 'string' ? oneOf(v.toUpperCase(), TASK_TYPES) : undefined;
}

export function isDefaultCase(name: string): boolean {
  return name.toLowerCase() === 'default';
}

export function outputSpec(v: unknown): OutputSpec {
  if (Array.isArray(v)) return { names: v.filter((x): x is string => typeof x === 'string'), values: {} };
  return { names: [], values: map(v) };
}
