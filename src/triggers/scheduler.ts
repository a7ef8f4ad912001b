/**
 * The Scheduler: the edge that fires schedule slots (the pure decisions are schedule.ts's). A firer calls
 * `fireDue(now)` every tick, e.g. once a second: for each schedule trigger of the definitions it reads the schedule's
 * cursor, asks dueSlots what is due, claims those slots by a compare-and-set of the cursor on its revision, and only
 * then starts a run per claimed slot through `start` (the same path event triggers use, under runIdForSchedule, so a
 * repeated start is a duplicate, never a second run).
 *
 * Several firers (three NATS engines) share one cursor: each slot is claimed by one CAS, so it is started by one firer.
 * A firer that dies between its claim and its starts leaves the claimed slots `pending` in the cursor; once the claim
 * is older than `claimTimeoutMs` any firer starts them (the run id makes that safe even if the first did start some)
 * and clears them.
 *
 * The cursor is not the truth (the runs are): losing it costs at most a catch-up decision (the schedule starts from now
 * again), never a double run.
 */
import type { Definition, JsonValue } from '../definition/index.js';
import {
  HandlerError,
  InputError,
  RunCannotStartError,
  UnsupportedTaskTypeError,
  errorMessage,
} from '../errors/index.js';
import { resolveTemplate } from '../expressions/index.js';
import {
  catchUpOf,
  DEFAULT_GRACE_MS,
  dueSlots,
  MAX_FIRE_PER_TICK,
  MAX_MISSED_COUNTED,
  runIdForSchedule,
  scheduleKey,
  schedulesOf,
} from './schedule.js';

import { unclaimed, type PendingFiring, type ScheduleCursor, type ScheduleCursorEntry } from './schedule-cursor.js';
import type { StartScheduled } from './scheduled-start.js';

interface SchedulerOptions {
  cursor: ScheduleCursor;
  /** The definitions whose schedules fire, asked every tick (deployed ones change). */
  definitions: () => readonly Definition[] | Promise<readonly Definition[]>;
  start: StartScheduled;
  /** How late a slot may be seen and still be on time (schedule.ts). */
  graceMs?: number;
  /** A claim older than this is taken over (its firer died before starting the runs). Default 30 s. */
  claimTimeoutMs?: number;
  /** Schedules looked at and fired at once in a tick (default 16; each schedule's own slots fire in order). */
  concurrency?: number;
  /** Who claims (an engine's name), recorded in the cursor for operators. */
  name?: string;
  log?: (line: string) => void;
}

interface FiredSlot {
  workflowId: string;
  trigger: number;
  slot: string;
  runId: string;
  duplicate: boolean;
  missedCount?: number;
  manual?: true;
}
interface MissedSlots {
  workflowId: string;
  trigger: number;
  catchUp: string;
  slots: string[];
  count: number;
  atLeast: boolean;
}
interface FailedSlot {
  workflowId: string;
  trigger: number;
  slot: string;
  runId: string;
  error: string;
  permanent: boolean;
}
interface FireReport {
  fired: FiredSlot[];
  missed: MissedSlots[];
  failed: FailedSlot[];
}

const iso = (ms: number) => new Date(ms).toISOString();
type Schedule = ReturnType<typeof schedulesOf>[number];
/** A cursor entry and the revision it was read at. */
type CursorAt = { entry: ScheduleCursorEntry; revision: number };

/** Schedules a tick deals with at once. */
const DEFAULT_SCHEDULER_CONCURRENCY = 16;
const MAX_CAS_TRIES = 5;

/** An error no second try would change (bad input, a definition that cannot run): the slot is given up, not retried forever. */
function isPermanent(err: unknown): boolean {
  return (
    err instanceof InputError ||
    err instanceof RunCannotStartError ||
    err instanceof UnsupportedTaskTypeError ||
    err instanceof HandlerError
  );
}

export class Scheduler {
  private readonly claimTimeoutMs: number;
  private readonly concurrency: number;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: SchedulerOptions) {
    this.claimTimeoutMs = opts.claimTimeoutMs ?? 30_000;
    this.concurrency = Math.max(1, opts.concurrency ?? DEFAULT_SCHEDULER_CONCURRENCY);
    this.log = opts.log ?? (() => {});
  }

  /** Fires every slot due at `now` of every schedule (once per slot across all firers sharing the cursor). */
  async fireDue(now: number): Promise<FireReport> {
    const schedules = schedulesOf(await this.opts.definitions());
    // Schedules are independent (a cursor key and run ids each): up to `concurrency` at a time, so that a
    // thousand due at once wait on round trips (KV) and saves (schedules.json, saved together) side by side.
    // The report lists them in the definitions' order whatever order they finished in.
    const parts: FireReport[] = schedules.map(() => ({ fired: [], missed: [], failed: [] }));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.concurrency, schedules.length) }, async () => {
        while (next < schedules.length) {
          const i = next++;
          const s = schedules[i]!;
          try {
            await this.fireSchedule(s, now, parts[i]!);
          } catch (err) {
            this.log(`schedule ${scheduleKey(s.definition.id, s.index)}: ${errorMessage(err)}; trying again next tick`);
          }
        }
      }),
    );
    return {
      fired: parts.flatMap((p) => p.fired),
      missed: parts.flatMap((p) => p.missed),
      failed: parts.flatMap((p) => p.failed),
    };
  }

  private async fireSchedule(s: Schedule, now: number, report: FireReport): Promise<void> {
    const { definition: def, trigger, index } = s;
    const { cursor } = this.opts;
    const key = scheduleKey(def.id, index);
    for (let tries = 0; tries < MAX_CAS_TRIES; tries++) {
      const cur = await cursor.get(key);
      if (!cur || cur.entry.cron !== trigger.cron || cur.entry.timezone !== trigger.timezone) {
        // First sight (or the schedule changed): it starts from now and never fires the past.
        // A pause and the slots people asked for outlive the change.
        const kept = cur
          ? {
              ...(cur.entry.last ? { last: cur.entry.last } : {}),
              ...(cur.entry.paused ? { paused: cur.entry.paused } : {}),
              ...(cur.entry.queued ? { queued: cur.entry.queued } : {}),
            }
          : {};
        const entry: ScheduleCursorEntry = {
          cron: trigger.cron,
          timezone: trigger.timezone,
          through: iso(now),
          ...kept,
        };
        const rev = cur ? await cursor.update(key, entry, cur.revision) : await cursor.create(key, entry);
        if (rev !== null)
          this.log(
            `schedule ${key} (${trigger.cron} ${trigger.timezone}) ${cur ? 'changed' : 'first seen'}: it fires from ${iso(now)} on`,
          );
        return;
      }
      let { entry, revision } = cur;
      if (entry.pending?.length) {
        const claimedAt = entry.claimedAt ? Date.parse(entry.claimedAt) : 0;
        if (now - claimedAt < this.claimTimeoutMs) return; // its claimer is starting them
        this.log(
          `schedule ${key}: slots ${entry.pending.map((p) => p.slot).join(', ')} were claimed${entry.claimedBy ? ` by ${entry.claimedBy}` : ''} at ${entry.claimedAt} and not confirmed: starting them`,
        );
        const after = await this.startClaimed(s, { entry, revision }, now, report);
        if (after === null) continue;
        ({ entry, revision } = after);
      }
      if (entry.queued?.length) {
        const after = await this.claimQueued(s, { entry, revision }, now, report);
        if (after === 'moved') continue;
        if (after === null) return;
        ({ entry, revision } = after);
      }
      if (entry.paused) return; // no slot of the cron fires; `through` waits for the resume
      const grace = this.opts.graceMs ?? DEFAULT_GRACE_MS;
      const resumedAt = entry.resumedAt ? Date.parse(entry.resumedAt) : Number.NaN;
      // Just resumed: the slots of the pause are missed (catch_up decides them), not on time within the grace.
      const graceMs = resumedAt > Date.parse(entry.through) ? Math.min(grace, Math.max(0, now - resumedAt)) : grace;
      const due = dueSlots(trigger, Date.parse(entry.through), now, { graceMs });
      if (due.fire.length === 0 && due.skippedCount === 0) return;
      const pending: PendingFiring[] = due.fire.map((f) => ({
        slot: iso(f.slot),
        runId: runIdForSchedule(def.id, index, f.slot),
        ...(f.missed ? { missed: f.missed.map(iso), missedCount: f.missedCount ?? f.missed.length } : {}),
      }));
      const { resumedAt: _r, ...rest } = unclaimed(entry);
      const claimed: ScheduleCursorEntry = {
        ...rest,
        through: iso(due.through),
        ...(pending.length > 0
          ? { pending, claimedAt: iso(now), ...(this.opts.name ? { claimedBy: this.opts.name } : {}) }
          : {}),
      };
      const rev = await cursor.update(key, claimed, revision);
      if (rev === null) continue; // another firer moved the cursor: look again (it has claimed these slots)
      if (due.skippedCount > 0) {
        const m: MissedSlots = {
          workflowId: def.id,
          trigger: index,
          catchUp: catchUpOf(trigger),
          slots: due.skipped.map(iso),
          count: due.skippedCount,
          atLeast: due.countCapped,
        };
        report.missed.push(m);
        const what =
          catchUpOf(trigger) === 'none'
            ? 'not fired (catch_up: none)'
            : `not fired, ${pending.at(-1)?.slot} fires for them (catch_up: latest)`;
        this.log(
          `schedule ${key}: missed ${due.countCapped ? `at least ${MAX_MISSED_COUNTED}` : due.skippedCount} slot${due.skippedCount === 1 ? '' : 's'} ${what}: ${m.slots.slice(0, 10).join(', ')}${m.slots.length > 10 || due.skippedCount > 10 ? ', …' : ''}`,
        );
      }
      if (pending.length > 0) await this.startClaimed(s, { entry: claimed, revision: rev }, now, report);
      if (!due.more) return;
    }
  }

  /**
   * Claims and starts the slots people asked for (`queued`), as a tick's slots are: at most MAX_FIRE_PER_TICK at
   * once, the rest on the next. 'moved': someone wrote the cursor first; null: the clear after the starts lost a race.
   */
  private async claimQueued(s: Schedule, { entry, revision }: CursorAt, now: number, report: FireReport) {
    const queued = entry.queued ?? [];
    const take = queued.slice(0, MAX_FIRE_PER_TICK);
    const rest = queued.slice(take.length);
    const { queued: _q, ...without } = entry;
    const claim: ScheduleCursorEntry = {
      ...without,
      ...(rest.length ? { queued: rest } : {}),
      pending: take,
      claimedAt: iso(now),
      ...(this.opts.name ? { claimedBy: this.opts.name } : {}),
    };
    const rev = await this.opts.cursor.update(scheduleKey(s.definition.id, s.index), claim, revision);
    if (rev === null) return 'moved';
    return this.startClaimed(s, { entry: claim, revision: rev }, now, report);
  }

  /**
   * Starts now the slots people asked for of one workflow's schedules (and none of the cron's): what
   * `schedules trigger|backfill` do on the embedded store right away rather than wait for serve's tick.
   */
  async startQueued(now: number, workflowId: string): Promise<FireReport> {
    const report: FireReport = { fired: [], missed: [], failed: [] };
    for (const s of schedulesOf(await this.opts.definitions())) {
      if (s.definition.id !== workflowId) continue;
      for (let tries = 0; tries < MAX_CAS_TRIES; tries++) {
        const cur = await this.opts.cursor.get(scheduleKey(workflowId, s.index));
        if (!cur?.entry.queued?.length || cur.entry.pending?.length) break; // nothing asked for, or a firer is starting a claim
        const after = await this.claimQueued(s, cur, now, report);
        if (after === null) break;
        if (after !== 'moved' && !after.entry.queued?.length) break;
      }
    }
    return report;
  }

  /** Starts the pending slots of `entry` and clears them from the cursor; the entry and revision after, or null when the clear lost a race. */
  private async startClaimed(s: Schedule, { entry, revision }: CursorAt, now: number, report: FireReport) {
    const { definition: def, trigger, index } = s;
    const key = scheduleKey(def.id, index);
    const left: PendingFiring[] = [];
    let last = entry.last;
    for (const p of entry.pending ?? []) {
      const schedule = {
        trigger: index,
        slot: p.slot,
        cron: trigger.cron,
        timezone: trigger.timezone,
        ...(p.missed ? { missed: p.missed, missedCount: p.missedCount ?? p.missed.length } : {}),
        ...(p.manual ? { manual: true as const } : {}),
      };
      const input = resolveTemplate(trigger.input, {
        input: {},
        workflow: { id: def.id, runId: p.runId, version: def.version },
        tasks: {},
      }) as Record<string, JsonValue>;
      try {
        const { duplicate } = await this.opts.start({
          definition: def,
          trigger,
          triggerIndex: index,
          runId: p.runId,
          slot: p.slot,
          input,
          schedule,
        });
        report.fired.push({
          workflowId: def.id,
          trigger: index,
          slot: p.slot,
          runId: p.runId,
          duplicate,
          ...(p.missedCount ? { missedCount: p.missedCount } : {}),
          ...(p.manual ? { manual: true as const } : {}),
        });
        this.log(
          `schedule ${key}: slot ${p.slot} ${duplicate ? 'had already started' : 'started'} run ${p.runId}${p.missedCount ? ` (for ${p.missedCount} missed slot${p.missedCount === 1 ? '' : 's'} too)` : ''}`,
        );
        // `last` is the cron's newest: a manual run is no slot of it, and a backfilled one may be older.
        if (!p.manual && (!last || Date.parse(p.slot) >= Date.parse(last.slot)))
          last = { slot: p.slot, runId: p.runId };
      } catch (err) {
        const permanent = isPermanent(err);
        report.failed.push({
          workflowId: def.id,
          trigger: index,
          slot: p.slot,
          runId: p.runId,
          error: errorMessage(err),
          permanent,
        });
        this.log(
          `schedule ${key}: slot ${p.slot} could not start run ${p.runId}: ${errorMessage(err)}${permanent ? ' (given up: it would fail again)' : ' (tried again later)'}`,
        );
        if (!permanent) left.push(p);
      }
    }
    const next: ScheduleCursorEntry = {
      ...unclaimed(entry),
      ...(last ? { last } : {}),
      ...(left.length > 0 ? { pending: left, claimedAt: iso(now) } : {}),
    };
    const rev = await this.opts.cursor.update(key, next, revision);
    if (rev === null || left.length > 0) return null;
    return { entry: next, revision: rev };
  }
}
