/**
 * Records kept in memory by an index adapter: kept in start order (oldest first by start time, then run id), by run id,
 * and by the run each was started from (parent or retried run), so a page, a run's children and the versions seen are
 * answered without sorting or scanning every run. A long- lived reader (the dashboard) answers `GET /api/runs` from
 * here in a few ms.
 *
 * Given a cold store (cold-records.ts), a settled run is kept as its slim row: what a page is sorted, filtered and
 * linked by, with the rest of its record on disk, read back when a page, a run's children or `get` show it. A run not
 * settled is kept whole (it changes; there are as many as there is work in flight, not as many as the store ever held).
 */
import type { SearchType } from '../definition/index.js';
import { SETTLED_STATUSES } from '../events/index.js';
import type { ColdKeeper, ColdRef } from './cold-records.js';
import { compareRuns } from '../store/index.js';
import { newPager, type RunOrder, type RunPage } from './paging.js';
import { addSearchTypes, checkWhere, matches, pagesOnly, type RunQuery } from './query.js';
import type { RunRecord } from './record.js';

/**
 * A settled run as a set with a cold store keeps it: what a page is sorted and filtered by (all but `outputContains`),
 * what links it to the run it was started from, and where its whole record lies.
 */
export type SlimRecord = SlimFields & { cold: ColdRef };
export type SlimFields = Pick<
  RunRecord,
  | 'runId'
  | 'workflowId'
  | 'version'
  | 'status'
  | 'startedAt'
  | 'lastSeq'
  | 'parent'
  | 'trigger'
  | 'agents'
  | 'search'
  | 'searchTypes'
>;
/** A record as a set keeps it: whole, or slim with the rest on disk. */
export type HeldRecord = RunRecord | SlimRecord;
const isSlim = (r: HeldRecord): r is SlimRecord => 'cold' in r;
const NO_AGENTS: string[] = [];
const MANUAL: RunRecord['trigger'] = { kind: 'manual' };

/**
 * The slim row of a settled record whose text lies at `cold`. Built field by field, always the same fields in the same
 * order: every row shares one hidden class (a spread of a record gave each row its own, 400 bytes more).
 */
export function slimOf(r: SlimFields, cold: ColdRef): SlimRecord {
  return {
    runId: r.runId,
    workflowId: r.workflowId,
    version: r.version,
    status: r.status,
    startedAt: r.startedAt,
    lastSeq: r.lastSeq,
    parent: r.parent,
    trigger: r.trigger.kind === 'manual' ? MANUAL : r.trigger,
    agents: r.agents.length === 0 ? NO_AGENTS : r.agents,
    search: r.search,
    searchTypes: r.searchTypes,
    cold,
  };
}

/** A (workflow, version) recorded in runs, and the newest run of it (where its definition can be read). */
export interface VersionSeen {
  workflowId: string;
  version: number;
  runId: string;
  runs: number;
}

/** The runs a record was started from: its parent (sub-workflow, failure workflow) and the run it retries. */
function originsOf(r: HeldRecord): string[] {
  const out: string[] = [];
  if (r.parent) out.push(r.parent.runId);
  if (r.trigger.kind === 'retry' && r.trigger.runId !== r.parent?.runId) out.push(r.trigger.runId);
  return out;
}

export class RecordSet {
  private readonly byId = new Map<string, HeldRecord>();
  /** Oldest first by (startedAt, runId): a record's start never changes, so an update replaces it in place. */
  private readonly sorted: HeldRecord[] = [];
  private readonly byOrigin = new Map<string, Set<string>>();
  /** outputText lowercased once per record kept whole (outputContains compares without case). */
  private readonly lower = new WeakMap<RunRecord, string>();
  /** Search attribute names and types seen in the records kept (never forgotten: a run deleted leaves its names known). */
  private readonly searchTypes = new Map<string, Set<SearchType>>();
  /** One copy of each workflow id and status text, however many slim rows name it. */
  private readonly texts = new Map<string, string>();

  /** `cold`: where settled records are kept instead of the heap (none: every record is kept whole). */
  constructor(private readonly cold: ColdKeeper | null = null) {}

  get size(): number {
    return this.byId.size;
  }
  /** The whole record (read back from disk for a settled run kept slim). */
  get(runId: string): RunRecord | undefined {
    const h = this.byId.get(runId);
    return h && this.whole(h);
  }
  /** The record as kept: enough for its status, last seq, start and links, without reading anything. */
  held(runId: string): HeldRecord | undefined {
    return this.byId.get(runId);
  }
  /** The settled record's text where it is kept on disk (null: kept whole in memory). */
  coldRef(runId: string): ColdRef | null {
    const h = this.byId.get(runId);
    return h && isSlim(h) ? h.cold : null;
  }

  /** The settled record's text now lies at `ref` (a new cache written): the old place is let go. */
  repoint(runId: string, ref: ColdRef): void {
    const h = this.byId.get(runId);
    if (!h || !isSlim(h)) {
      this.cold?.release(ref);
      return;
    }
    const old = h.cold;
    h.cold = ref;
    this.cold!.release(old);
  }

  /**
   * Keeps `r` unless the record held is as far on (same or later lastSeq: a
   * late read never takes a record back). Returns whether it changed anything.
   */
  put(r: HeldRecord): boolean {
    const had = this.byId.get(r.runId);
    if (had && had.lastSeq >= r.lastSeq) {
      this.discard(r);
      return false;
    }
    const h = this.keepable(r);
    this.byId.set(r.runId, h);
    addSearchTypes(h, this.searchTypes);
    if (had && had.startedAt === h.startedAt) {
      this.sorted[this.indexOf(had)] = h;
    } else {
      if (had) this.removeSorted(had);
      const at = this.insertionPoint(h);
      if (at === this.sorted.length) this.sorted.push(h);
      else this.sorted.splice(at, 0, h);
    }
    if (had) this.forget(had);
    for (const o of originsOf(h)) (this.byOrigin.get(o) ?? this.byOrigin.set(o, new Set()).get(o)!).add(h.runId);
    return true;
  }

  /**
   * Keeps many records at once (a build, a load): sorted once, not placed one
   * by one. Returns the records given that changed anything, as `put` would.
   */
  putAll<T extends HeldRecord>(records: Iterable<T>): T[] {
    const changed: T[] = [];
    for (const r of records) {
      const had = this.byId.get(r.runId);
      if (had && had.lastSeq >= r.lastSeq) {
        this.discard(r);
        continue;
      }
      if (had) this.forget(had);
      const h = this.keepable(r);
      this.byId.set(r.runId, h);
      addSearchTypes(h, this.searchTypes);
      for (const o of originsOf(h)) (this.byOrigin.get(o) ?? this.byOrigin.set(o, new Set()).get(o)!).add(h.runId);
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
    this.forget(had);
    return true;
  }

  /**
   * The page the query asks for, as `pageOf` gives it, without sorting: one pass in start order; for a first page
   * without a filter (the dashboard's runs page, `list`), only its rows and one past them (every run counts: the total
   * is the number kept), so a page over 100,000 runs costs what one over 1,000 does.
   */
  page(q: RunQuery, order: RunOrder): RunPage {
    checkWhere(q.where, this.searchTypes);
    const pager = newPager<HeldRecord>(q, order);
    const n = this.sorted.length;
    const at = (k: number) => this.sorted[order === 'oldest' ? k : n - 1 - k]!;
    const firstUnfiltered = pagesOnly(q) && q.cursor === undefined;
    if (firstUnfiltered) {
      for (let k = 0, rows = Math.min(n, q.limit! + 1); k < rows; k++) pager.add(at(k));
    } else {
      const needle = q.outputContains?.toLowerCase();
      const rest: RunQuery = { ...q, outputContains: undefined };
      for (let k = 0; k < n; k++) {
        const r = at(k);
        if (!matches(r, rest)) continue;
        if (needle !== undefined && !this.lowerOf(r).includes(needle)) continue;
        pager.add(r);
      }
    }
    const page = pager.page();
    return { ...page, total: firstUnfiltered ? n : page.total, runs: page.runs.map((r) => this.whole(r)) };
  }

  /** Runs started from `runId` (its sub-workflow children, failure workflow, retries), oldest first. */
  children(runId: string): RunRecord[] {
    const ids = this.byOrigin.get(runId);
    if (!ids) return [];
    return [...ids]
      .map((id) => this.byId.get(id)!)
      .filter(Boolean)
      .sort(compareRuns)
      .map((r) => this.whole(r));
  }

  /** Every record kept, as kept, oldest first (start time, then run id). */
  inOrder(): readonly HeldRecord[] {
    return this.sorted;
  }

  /** Every record kept, as kept (slim or whole), in no order. */
  values(): IterableIterator<HeldRecord> {
    return this.byId.values();
  }

  /** Every (workflow, version) in the runs, with the newest run of each. */
  versions(): VersionSeen[] {
    const seen = new Map<string, VersionSeen>();
    for (let k = this.sorted.length - 1; k >= 0; k--) {
      const r = this.sorted[k]!;
      const key = `${r.workflowId}@${r.version}`;
      const v = seen.get(key);
      if (v) v.runs++;
      else seen.set(key, { workflowId: r.workflowId, version: r.version, runId: r.runId, runs: 1 });
    }
    return [...seen.values()];
  }

  /** A slim row's output read back each time (it is not kept: an `outputContains` query is rare, the heap is not). */
  private lowerOf(r: HeldRecord): string {
    if (isSlim(r)) return (this.cold!.outputText(r.cold) ?? '').toLowerCase();
    let s = this.lower.get(r);
    if (s === undefined) this.lower.set(r, (s = (r.outputText ?? '').toLowerCase()));
    return s;
  }

  private whole(r: HeldRecord): RunRecord {
    return isSlim(r) ? this.cold!.load(r.cold) : r;
  }

  /** What to keep of `r`: a settled record slim when there is a cold store that takes it, else as given. */
  private keepable(r: HeldRecord): HeldRecord {
    if (isSlim(r) || !this.cold || !SETTLED_STATUSES.includes(r.status)) return this.interned(r);
    const ref = this.cold.keep(r);
    return ref ? this.interned(slimOf(r, ref)) : r;
  }

  private interned<T extends HeldRecord>(r: T): T {
    if (!isSlim(r)) return r;
    r.workflowId = this.text(r.workflowId);
    r.status = this.text(r.status) as typeof r.status;
    return r;
  }

  private text(s: string): string {
    const had = this.texts.get(s);
    if (had !== undefined) return had;
    this.texts.set(s, s);
    return s;
  }

  /** A record no longer kept: its links, and its text on disk. */
  private forget(had: HeldRecord): void {
    for (const o of originsOf(had)) this.byOrigin.get(o)?.delete(had.runId);
    if (isSlim(had)) this.cold!.release(had.cold);
  }

  /** A slim row offered but not kept (an older read): its text on disk is let go. */
  private discard(r: HeldRecord): void {
    if (isSlim(r)) this.cold!.release(r.cold);
  }

  /** The first position whose record sorts after `r` (binary search). */
  private insertionPoint(r: HeldRecord): number {
    let lo = 0;
    let hi = this.sorted.length;
    // Most new runs are the newest: check the end first.
    if (hi === 0 || compareRuns(this.sorted[hi - 1]!, r) < 0) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRuns(this.sorted[mid]!, r) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(r: HeldRecord): number {
    const at = this.insertionPoint(r);
    // insertionPoint finds the first not before r: the record itself (same start and id).
    if (this.sorted[at]?.runId === r.runId) return at;
    const i = this.sorted.findIndex((x) => x.runId === r.runId); // unreachable unless the order was broken
    if (i < 0) throw new Error(`run index: ${r.runId} is not in its place`);
    return i;
  }

  private removeSorted(r: HeldRecord): void {
    this.sorted.splice(this.indexOf(r), 1);
  }
}
