/**
 * Definition hashes remembered per definition object. Every run start records
 * the hash, and canonical JSON plus sha256 of a whole definition cost more
 * than the rest of a start. Definitions are values: nothing in ledgerflow
 * changes one after parseDefinition returns it (a caller that edits one must
 * pass a copy), so the result is the same warm, cleared or off
 * (test/caches.test.ts). A WeakMap: bounded by the definitions still in use.
 */
import type { Definition } from './types.js';

let enabled = true;
let hashes = new WeakMap<Definition, string>();

/** `hashOf(def)`, remembered for this definition object. */
export function rememberedDefinitionHash(def: Definition, hashOf: (def: Definition) => string): string {
  if (!enabled) return hashOf(def);
  let hash = hashes.get(def);
  if (hash === undefined) {
    hash = hashOf(def);
    hashes.set(def, hash);
  }
  return hash;
}

export function clearDefinitionHashCache(): void {
  hashes = new WeakMap();
}

/** Off: every call hashes afresh (for tests that check the cache changes no result). */
export function setDefinitionHashCacheEnabled(on: boolean): void {
  enabled = on;
  clearDefinitionHashCache();
}
