/**
 * The JSON of a run's definition, made once per definition object. Every
 * run.started holds its whole definition (most of a start commit's bytes),
 * and every run of a definition holds the same definition object, so its JSON
 * is remembered (keyed by the object the append request carries, which zod's
 * copy mirrors key for key; definitions are never mutated, as definitionHash
 * also assumes). `JSON.stringify` is pure, so the bytes stored are the same
 * warm, cleared or off (test/caches.test.ts). A WeakMap: bounded by the
 * definitions still in use.
 */
import { weakMemo } from '../weak-memo.js';

const memo = weakMemo<object, string>();

/** `JSON.stringify(definition)`, remembered under `key` (the request's own definition object). */
export function rememberedDefinitionJson(key: object, definition: unknown): string {
  return memo.get(key, () => JSON.stringify(definition));
}
export const clearDefinitionJsonCache = memo.clear;
export const setDefinitionJsonCacheEnabled = memo.setEnabled;
