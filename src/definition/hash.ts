/**
 * A definition's identity: sha256 of its canonical JSON (keys sorted, absent fields dropped), so the same workflow
 * hashes the same whatever the key order or aliases of the YAML it came from. Runs record it to detect drift.
 */
import { sha256Hex } from '../digest/index.js';
import { canonicalJson } from '../expressions/index.js';
import type { Definition } from './types.js';

/** Computed afresh: a workflow value (compiler/workflow.ts) holds its definition's, worked out once. */
export function definitionHash(def: Definition): string {
  return sha256Hex(canonicalJson(def));
}
