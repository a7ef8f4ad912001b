/** The runs table's rows (pure, unit-tested in Node): child runs grouped under their parent. */
import type { RunRecord } from './types.js';

/** A row of the table: the run, the parent it was started by (null for a top-level run), and whether it sits under that parent here. */
export interface RunRow {
  run: RunRecord;
  parent: string | null;
  nested: boolean;
}

/**
 * The page's runs with each child run moved under its parent when the parent is on the page too (depth first, so a
 * grandchild sits under its child); a child whose parent is on another page keeps its place, marked.
 */
export function grouped(runs: readonly RunRecord[]): RunRow[] {
  const parentOf = (r: RunRecord) => (r.trigger.kind === 'parent' ? r.trigger.runId : null);
  const here = new Set(runs.map((r) => r.runId));
  const kids = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const p = parentOf(r);
    if (p !== null && here.has(p)) kids.set(p, [...(kids.get(p) ?? []), r]);
  }
  const out: RunRow[] = [];
  const seen = new Set<string>();
  const add = (r: RunRecord, nested: boolean) => {
    if (seen.has(r.runId)) return;
    seen.add(r.runId);
    out.push({ run: r, parent: parentOf(r), nested });
    for (const k of kids.get(r.runId) ?? []) add(k, true);
  };
  for (const r of runs) {
    const p = parentOf(r);
    if (p === null || !here.has(p)) add(r, false);
  }
  // A cycle of parents cannot be recorded, but no row is ever dropped.
  for (const r of runs) add(r, false);
  return out;
}
