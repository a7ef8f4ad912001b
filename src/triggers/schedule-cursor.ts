/**
 * Schedule cursors: where each schedule stands (its entry's zod schema, with the slots claimed or queued), the
 * compare-and-set storage a firer writes them through, and its in-memory kind. Apart from the Scheduler (scheduler.ts),
 * which reads and claims through them.
 */
import { z } from 'zod';

const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected an ISO time' });
export const PendingFiringSchema = z.object({
  slot: Iso,
  runId: z.string().min(1),
  missed: z.array(z.string()).optional(),
  missedCount: z.number().int().nonnegative().optional(),
  /** Asked for by a person (`schedules trigger`): recorded as a manual slot in run.started. */
  manual: z.literal(true).optional(),
});
export type PendingFiring = z.infer<typeof PendingFiringSchema>;

/** Where a schedule stands: the value under `<workflowId>.<triggerIndex>` (schedules.json, KV LF_SCHEDULES). */
export const ScheduleCursorEntrySchema = z.object({
  /** The schedule this entry is for: another cron or zone at the same index starts from now again. */
  cron: z.string(),
  timezone: z.string(),
  /** The last slot dealt with (fired or skipped), or when the schedule was first seen. */
  through: Iso,
  /** The last slot fired and its run. */
  last: z.object({ slot: Iso, runId: z.string().min(1) }).optional(),
  /** Slots claimed whose runs are not known to have started yet, and when they were claimed. */
  pending: z.array(PendingFiringSchema).optional(),
  claimedAt: Iso.optional(),
  claimedBy: z.string().optional(),
  /**
   * Paused by a person (`schedules pause`): no slot of the cron fires and `through` stays where it was, so on
   * resume the slots of the pause are missed slots and catch_up decides them. Held here, so it outlives restarts.
   */
  paused: z.object({ at: Iso, by: z.string().optional(), reason: z.string().optional() }).optional(),
  /** When the last pause ended: every slot before it is a missed slot, however recent (the grace is for slow ticks, not pauses). */
  resumedAt: Iso.optional(),
  /** Slots a person asked for (`schedules trigger`, `schedules backfill`), for the next firer to claim and start, paused or not. */
  queued: z.array(PendingFiringSchema).optional(),
});
export type ScheduleCursorEntry = z.infer<typeof ScheduleCursorEntrySchema>;

/**
 * Compare-and-set storage of schedule cursors. `revision` changes with every write; `create` and `update` return the
 * new revision, or null when someone else wrote first (the key exists / the revision moved on).
 */
export interface ScheduleCursor {
  get(key: string): Promise<{ entry: ScheduleCursorEntry; revision: number } | null>;
  create(key: string, entry: ScheduleCursorEntry): Promise<number | null>;
  update(key: string, entry: ScheduleCursorEntry, revision: number): Promise<number | null>;
  /** Every entry (for `ledgerflow schedules`). */
  all(): Promise<Map<string, ScheduleCursorEntry>>;
}

/** An entry without its claim: what a firer carries over when it writes its own. */
export function unclaimed(entry: ScheduleCursorEntry): ScheduleCursorEntry {
  const { pending: _p, claimedAt: _c, claimedBy: _b, ...rest } = entry;
  return rest;
}

/** Cursors in memory (tests; one process). */
export class MemoryScheduleCursor implements ScheduleCursor {
  private readonly entries = new Map<string, { entry: ScheduleCursorEntry; revision: number }>();
  private seq = 0;
  async get(key: string) {
    const e = this.entries.get(key);
    return e ? { entry: structuredClone(e.entry), revision: e.revision } : null;
  }
  async create(key: string, entry: ScheduleCursorEntry) {
    if (this.entries.has(key)) return null;
    this.entries.set(key, { entry: structuredClone(entry), revision: ++this.seq });
    return this.seq;
  }
  async update(key: string, entry: ScheduleCursorEntry, revision: number) {
    if (this.entries.get(key)?.revision !== revision) return null;
    this.entries.set(key, { entry: structuredClone(entry), revision: ++this.seq });
    return this.seq;
  }
  async all() {
    return new Map([...this.entries].map(([k, v]) => [k, structuredClone(v.entry)]));
  }
}
