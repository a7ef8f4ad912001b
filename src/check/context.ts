/**
 * What every part of the diff reads: the two versions (side.ts), their tasks paired (same id, or a likely rename), the
 * new file's positions and what the new version reads.
 */
import type { CheckedDefinition } from './checked.js';
import type { Finding, FindingLevel, FindingLocation } from './findings.js';
import { readsOf, type Read } from './reads.js';
import { pairTasks, type Pairing } from './renames.js';
import { sideOf, type Side } from './side.js';
import { sourceOf, type Source } from './where.js';

export interface DiffContext {
  before: Side;
  after: Side;
  /** The new file: where findings point. */
  source: Source;
  pairing: Pairing;
  /** Every reference the new version reads, with its place. */
  reads: Read[];
}

export function diffContext(before: CheckedDefinition, after: CheckedDefinition): DiffContext {
  const b = sideOf(before.definition);
  const a = sideOf(after.definition);
  return { before: b, after: a, source: sourceOf(after), pairing: pairTasks(b, a), reads: readsOf(a.def) };
}

export function finding(
  rule: string,
  level: FindingLevel,
  message: string,
  location: FindingLocation,
  task?: string,
): Finding {
  return { section: 'change', rule, level, message, location, ...(task === undefined ? {} : { task }) };
}

/** `a, b and c`, for messages. */
export function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
