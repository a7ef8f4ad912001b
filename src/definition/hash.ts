/**
 * A definition's identity: sha256 of its canonical JSON (keys sorted, absent
 * fields dropped), so the same workflow hashes the same whatever the key order
 * or aliases of the YAML it came from. Runs record it to detect definition drift.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../expressions/index.js';
import type { Definition } from './types.js';

/**
 * Every run start records the hash: remembered per definition object, since
 * canonical JSON plus sha256 of a whole definition cost more than the rest of
 * a start. Definitions are values: nothing in ledgerflow changes one after
 * parseDefinition returns it (a caller that edits one must pass a copy).
 */
const hashes = new WeakMap<Definition, string>();

export function definitionHash(def: Definition): string {
  let hash = hashes.get(def);
  if (hash === undefined) {
    hash = createHash('sha256').update(canonicalJson(def)).digest('hex');
    hashes.set(def, hash);
  }
  return hash;
}
