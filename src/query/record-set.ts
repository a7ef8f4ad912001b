/**
 * Records kept in memory by an index adapter: kept in start order (oldest
 * first by start time, then run id), by run id, and by the run each was
 * started from (parent or retried run), so a page, a run's children and the
 * versions seen are answered without sorting or scanning every run. A long-
 * lived reader (the dashboard) answers `GET /api/runs` from here in a few ms.
 */
import type { SearchType } from '../definition/index.js';
import { addSearchTypes, checkWhere, compareRuns, matches, newPager, type RunOrder, type RunPage, type RunQuery } from './query.js';
import type { RunRecord } from './record.js';

/** A (workflow, version) recorded in runs, and the newest run of it (where its definition can be read). */
export interface VersionSeen { workflowId: string; version: number; runId: string; runs: number }

/** The runs a record was started from: its parent (sub-workflow, failure workflow) and the run it retries. */
function originsOf(r: RunRecord): string[] {
  const out: string[] = [];
  if (r.parent) out.push(r.parent.runId);
  if (r.trigger.kind === 'retry' && r.trigger.runId !== r.parent?.runId) out.push(r.trigger.runId);
  return out;
}

export class RecordSet {
  private readonly byId = new Map<string, RunRecord>();
  /** Oldest first by (startedAt, runId): a record's start never changes, so an update replaces it in place. */
  private readonly sorted: RunRecord[] = [];
  private readonly byOrigin = new Map<string, Set<string>>();
  /** outputText lowercased once per record (outputContains compares without case). */
  private readonly lower = new WeakMap<RunRecord, string>();
  /** Search attribute names and types seen in the records kept (never forgotten: a run deleted leaves its names known). */
  private readonly searchTypes = new Map<string, Set<SearchType>>();

  get size(): number { return this.byId.size; }
  get(runId: string): RunRecord | undefined { return this.byId.get(runId); }
  values(): IterableIterator<RunRecord> { return this.byId.values(); }

  /**
   * Keeps `r` unless the record held is as far on (same or later lastSeq: a
   * late read never takes a record back). Returns whether it changed anything.
   */
  put(r: RunRecord): boolean {
    const had = this.byId.get(r.runId);
    if (had && had.lastSeq >= r.lastSeq) return false;
    this.byId.set(r.runId, r);
    addSearchTypes(r, this.searchTypes);
    if (had && had.startedAt === r.startedAt) {
      this.sorted[this.indexOf(had)] = r;
    } else {
      if (had) this.removeSorted(had);
      const at = this.insertionPoint(r);
      if (at === this.sorted.length) this.sorted.push(r); else this.sorted.splice(at, 0, r);
    }
    for (const o of originsOf(r)) (this.byOrigin.get(o) ?? this.byOrigin.set(o, new Set()).get(o)!).add(r.runId);
    return true;
  }

  /**
   * Keeps many records at once (a build, a load): sorted once, not placed one
   * by one. Returns the records that changed anything, as `put` would.
   */
  putAll(records: Iterable<RunRecord>): RunRecord[] {
    const changed: RunRecord[] = [];
    for (const r of records) {
      const had = this.byId.get(r.runId);
      if (had && had.lastSeq >= r.lastSeq) continue;
      if (had) for (const o of originsOf(had)) this.byOrigin.get(o)?.delete(r.runId);
      this.byId.set(r.runId, r);
      addSearchTypes(r, this.searchTypes);
      for (const o of originsOf(r)) (this.byOrigin.get(o) ?? this.byOrigin.set(o, new Set()).get(o)!).add(r.runId);
      changed.push(r);
    }
    if (changed.length > 0) {
      this.sorted.length = 0;
      for (const r of this.byId.values()) this.sorted.push(r);
      this.sorted.sort(compareRuns);
    }
    return changed;
  }

  delete(runId: string): boolean {
    const had = this.byId.get(runId);
    if (!had) return false;
    this.byId.delete(runId);
    this.removeSorted(had);
    for (const o of originsOf(had)) this.byOrigin.get(o)?.delete(runId);
    return true;
  }

  /** The page the query asks for, as `pageOf` gives it, without sorting: one pass in start order. */
  page(q: RunQuery, order: RunOrder): RunPage {
    checkWhere(q.where, this.searchTypes);
    const needle = q.outputContains?.toLowerCase();
    const rest: RunQuery = { ...q, outputContains: undefined };
    const pager = newPager(q, order);
    const n = this.sorted.length;
    for (let k = 0; k < n; k++) {
      const r = this.sorted[order === 'oldest' ? k : n - 1 - k]!;
      if (!matches(r, rest)) continue;
      if (needle !== undefined && !this.lowerOf(r).includes(needle)) continue;
      pager.add(r);
    }
    return pager.page();
  }

  /** Runs started from `runId` (its sub-workflow children, failure workflow, retries), oldest first. */
  children(runId: string): RunRecord[] {
    const ids = this.byOrigin.get(runId);
    if (!ids) return [];
    return [...ids].map((id) => this.byId.get(id)!).filter(Boolean).sort(compareRuns);
  }

  /** Every (workflow, version) in the runs, with the newest run of each. */
  versions(): VersionSeen[] {
    const seen = new Map<string, VersionSeen>();
    for (let k = this.sorted.length - 1; k >= 0; k--) {
      const r = this.sorted[k]!;
      const key = `${r.workflowId}@${r.version}`;
      const v = seen.get(key);
      if (v) v.runs++; else seen.set(key, { workflowId: r.workflowId, version: r.version, runId: r.runId, runs: 1 });
    }
    return [...seen.values()];
  }

  private lowerOf(r: RunRecord): string {
    let s = this.lower.get(r);
    if (s === undefined) this.lower.set(r, s = (r.outputText ?? '').toLowerCase());
    return s;
  }

  /** The first position whose record sorts after `r` (binary search). */
  private insertionPoint(r: RunRecord): number {
    let lo = 0;
    let hi = this.sorted.length;
    // Most new runs are the newest: check the end first.
    if (hi === 0 || compareRuns(this.sorted[hi - 1]!, r) < 0) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRuns(this.sorted[mid]!, r) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  private indexOf(r: RunRecord): number {
    const at = this.insertionPoint(r);
    // insertionPoint finds the first not before r: the record itself (same start and id).
    if (this.sorted[at]?.runId === r.runId) return at;
    const i = this.sorted.findIndex((x) => x.runId === r.runId); // unreachable unless the order was broken
    if (i < 0) throw new Error(`run index: ${r.runId} is not in its place`);
    return i;
  }

  private removeSorted(r: RunRecord): void {
    this.sorted.splice(this.indexOf(r), 1);
  }
}
