/**
 * Definition hashes remembered per definition object. Every run start records
 * the hash, and canonical JSON plus sha256 of a whole definition cost more
 * than the rest of a start. Definitions are values: nothing in ledgerflow
 * changes one after parseDefinition returns it (a caller that edits one must
 * pass a copy), so the result is the same warm, cleared or off
 * (test/caches.test.ts). A WeakMap: bounded by the definitions still in use.
 */
import { weakMemo } from '../weak-memo.js';
import type { Definition } from './types.js';

const memo = weakMemo<Definition, string>();

/** `hashOf(def)`, remembered for this definition object. */
export const rememberedDefinitionHash = (def: Definition, hashOf: (def: Definition) => string) => memo.get(def, hashOf);
export const clearDefinitionHashCache = memo.clear;
export const setDefinitionHashCacheEnabled = memo.setEnabled;
