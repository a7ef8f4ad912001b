/**
 * A person's hand on a workflow's schedules (docs/operations.md#schedules): pause, resume, trigger (one run now, a
 * manual slot) and backfill (every slot of a range that has no run yet, once). All of it is written to the schedule
 * cursor (schedules.json, KV LF_SCHEDULES) by compare-and-set, so it holds across restarts and engine failovers, and
 * whichever firer ticks next (serve, an engine) claims and starts the slots asked for, as it does the cron's, under the
 * same run ids: a second backfill of a range starts nothing.
 */
import type { Definition, ScheduleTrigger } from '../definition/index.js';
import { LedgerflowError, UsageError } from '../errors/index.js';
import { MAX_FIRE_PER_TICK, runIdForSchedule, scheduleKey, schedulesOf, slotsBetween } from './schedule.js';
import type { PendingFiring, ScheduleCursor, ScheduleCursorEntry } from './schedule-cursor.js';

const iso = (ms: number) => new Date(ms).toISOString();
const MAX_CAS_TRIES = 20;

/** At most this many slots in one backfill (the cursor holds them until they start): a longer range is asked for in parts. */
const MAX_BACKFILL_SLOTS = MAX_FIRE_PER_TICK;

interface ScheduleTarget {
  definition: Definition;
  trigger: ScheduleTrigger;
  index: number;
}

/**
 * The schedule triggers of `workflowId` among `definitions` (its newest version: the one that fires), or the one at
 * `trigger`. An unknown workflow, one without schedules, or a trigger that is not a schedule is refused (exit 2, HTTP 404/400).
 */
function scheduleTargets(definitions: readonly Definition[], workflowId: string, trigger?: number): ScheduleTarget[] {
  const versions = definitions.filter((d) => d.id === workflowId);
  if (versions.length === 0)
    throw new LedgerflowError(
      'LF_DEFINITION_NOT_FOUND',
      `no workflow ${JSON.stringify(workflowId)} among the definitions whose schedules fire here`,
      { workflowId },
    );
  const newest = versions.reduce((a, b) => (b.version > a.version ? b : a));
  const all = schedulesOf([newest]);
  if (all.length === 0)
    throw new UsageError(
      `workflow ${JSON.stringify(workflowId)} has no schedule trigger (in version ${newest.version})`,
      { workflowId },
    );
  if (trigger === undefined) return all;
  const one = all.filter((s) => s.index === trigger);
  if (one.length === 0)
    throw new UsageError(
      `--trigger ${trigger}: triggers[${trigger}] of ${workflowId} is not a schedule (its schedules: ${all.map((s) => s.index).join(', ')})`,
      { workflowId, field: 'trigger' },
    );
  return one;
}

/** A run id for a person's run of a schedule, `<workflowId>-s<i>-m<yyyymmddThhmmssZ><ms>`: one per millisecond asked. */
export function runIdForManual(workflowId: string, triggerIndex: number, at: number): string {
  return runIdForSchedule(workflowId, triggerIndex, at, true); // the slot run id's shape and length rules
}

/** Read-modify-write of one cursor entry by compare-and-set; `change` gets the entry (a fresh one when none: from `now`). */
async function edit(
  cursor: ScheduleCursor,
  t: ScheduleTarget,
  now: number,
  change: (e: ScheduleCursorEntry) => ScheduleCursorEntry | null,
): Promise<ScheduleCursorEntry> {
  const key = scheduleKey(t.definition.id, t.index);
  for (let i = 0; i < MAX_CAS_TRIES; i++) {
    const cur = await cursor.get(key);
    // None yet, or another schedule at this index: it starts from now (as a firer would make it), keeping what people asked.
    const fresh = !cur || cur.entry.cron !== t.trigger.cron || cur.entry.timezone !== t.trigger.timezone;
    const base: ScheduleCursorEntry = fresh
      ? {
          cron: t.trigger.cron,
          timezone: t.trigger.timezone,
          through: iso(now),
          ...(cur?.entry.last ? { last: cur.entry.last } : {}),
          ...(cur?.entry.paused ? { paused: cur.entry.paused } : {}),
          ...(cur?.entry.queued ? { queued: cur.entry.queued } : {}),
        }
      : cur.entry;
    const next = change(base);
    if (next === null) return base;
    const rev = cur ? await cursor.update(key, next, cur.revision) : await cursor.create(key, next);
    if (rev !== null) return next;
  }
  throw new LedgerflowError(
    'LF_COMMIT_CONTENDED',
    `schedule ${key}: its cursor kept moving under ${MAX_CAS_TRIES} tries; try again`,
    { key },
  );
}

export interface ScheduleState {
  workflowId: string;
  trigger: number;
  paused: { at: string; by?: string; reason?: string } | null;
  changed: boolean;
}

/** Pauses every schedule of the workflow (or one): no slot of its cron fires until a resume. A pause already there is kept as it was. */
async function pauseSchedules(
  cursor: ScheduleCursor,
  targets: ScheduleTarget[],
  opts: { now: number; reason?: string; by?: string },
): Promise<ScheduleState[]> {
  const out: ScheduleState[] = [];
  for (const t of targets) {
    let changed = false;
    const e = await edit(cursor, t, opts.now, (e) => {
      if (e.paused) return null;
      changed = true;
      return {
        ...e,
        paused: {
          at: iso(opts.now),
          ...(opts.by ? { by: opts.by } : {}),
          ...(opts.reason ? { reason: opts.reason } : {}),
        },
      };
    });
    out.push({ workflowId: t.definition.id, trigger: t.index, paused: e.paused ?? null, changed });
  }
  return out;
}

/** Resumes: the next tick fires what is due, the slots of the pause being missed slots that catch_up decides. */
async function resumeSchedules(
  cursor: ScheduleCursor,
  targets: ScheduleTarget[],
  opts: { now: number },
): Promise<ScheduleState[]> {
  const out: ScheduleState[] = [];
  for (const t of targets) {
    let changed = false;
    await edit(cursor, t, opts.now, (e) => {
      if (!e.paused) return null;
      changed = true;
      const { paused: _p, ...rest } = e;
      return { ...rest, resumedAt: iso(opts.now) };
    });
    out.push({ workflowId: t.definition.id, trigger: t.index, paused: null, changed });
  }
  return out;
}

export interface QueuedSlot {
  workflowId: string;
  trigger: number;
  slot: string;
  runId: string;
  manual?: true;
}

/** Queues one run now of the schedule (the first of the workflow's, or `target`), recorded as a manual slot; it starts even while paused. */
async function triggerSchedule(
  cursor: ScheduleCursor,
  target: ScheduleTarget,
  opts: { now: number },
): Promise<QueuedSlot> {
  const firing: PendingFiring = {
    slot: iso(opts.now),
    runId: runIdForManual(target.definition.id, target.index, opts.now),
    manual: true,
  };
  await edit(cursor, target, opts.now, (e) => ({ ...e, queued: [...(e.queued ?? []), firing] }));
  return {
    workflowId: target.definition.id,
    trigger: target.index,
    slot: firing.slot,
    runId: firing.runId,
    manual: true,
  };
}

interface BackfillResult {
  /** Slots queued now, for the next firer to start. */
  queued: QueuedSlot[];
  /** Slots of the range that have a run already (or are queued or claimed): not queued again. */
  existing: number;
  /** Slots of the range after where the schedule stands (`through`): the firer's own, decided by catch_up, not backfilled. */
  ahead: number;
}

/**
 * Queues every slot of [from, to) of each target that has no run yet (`hasRun` asks the store) and is not queued or
 * claimed, under the slot's own run id, so that running it twice starts nothing new. Slots after the schedule's
 * `through` are left to the firer and its catch_up. More than MAX_BACKFILL_SLOTS slots is refused.
 */
async function backfillSchedules(
  cursor: ScheduleCursor,
  targets: ScheduleTarget[],
  opts: { from: number; to: number; now: number; hasRun: (runId: string) => Promise<boolean> },
): Promise<BackfillResult> {
  if (!(opts.from < opts.to))
    throw new UsageError(`--from ${iso(opts.from)} must be before --to ${iso(opts.to)}`, { field: 'from' });
  const result: BackfillResult = { queued: [], existing: 0, ahead: 0 };
  const plans: { t: ScheduleTarget; slots: number[] }[] = [];
  let total = 0;
  for (const t of targets) {
    const { slots, more } = slotsBetween(t.trigger, opts.from - 1, opts.to - 1, MAX_BACKFILL_SLOTS);
    total += slots.length;
    if (more || total > MAX_BACKFILL_SLOTS) {
      throw new UsageError(
        `${iso(opts.from)} to ${iso(opts.to)} holds more than ${MAX_BACKFILL_SLOTS} slots of ${t.definition.id}'s schedules: backfill it in shorter ranges`,
        { field: 'to' },
      );
    }
    plans.push({ t, slots });
  }
  for (const { t, slots } of plans) {
    const ids = new Map(slots.map((s) => [s, runIdForSchedule(t.definition.id, t.index, s)]));
    const started = new Set<string>();
    for (const id of ids.values()) if (await opts.hasRun(id)) started.add(id);
    let queuedHere: QueuedSlot[] = [];
    let existing = 0;
    let ahead = 0;
    await edit(cursor, t, opts.now, (e) => {
      queuedHere = [];
      existing = 0;
      ahead = 0;
      const through = Date.parse(e.through);
      const known = new Set([...(e.queued ?? []), ...(e.pending ?? [])].map((p) => p.runId));
      const add: PendingFiring[] = [];
      for (const [slot, runId] of ids) {
        if (slot > through) ahead++;
        else if (started.has(runId) || known.has(runId)) existing++;
        else {
          add.push({ slot: iso(slot), runId });
          queuedHere.push({ workflowId: t.definition.id, trigger: t.index, slot: iso(slot), runId });
        }
      }
      return add.length === 0 ? null : { ...e, queued: [...(e.queued ?? []), ...add] };
    });
    result.queued.push(...queuedHere);
    result.existing += existing;
    result.ahead += ahead;
  }
  return result;
}

/** A person's schedule action, as the CLI, the library and the HTTP API take it. */
export type ScheduleAction =
  | { action: 'pause'; workflowId: string; trigger?: number; reason?: string; by?: string }
  | { action: 'resume'; workflowId: string; trigger?: number }
  | { action: 'trigger'; workflowId: string; trigger?: number }
  | { action: 'backfill'; workflowId: string; trigger?: number; from: number; to: number };

/** What an action did: one shape on both stores (`--json`, the HTTP API). */
export interface ScheduleActionResult {
  action: ScheduleAction['action'];
  workflowId: string;
  /** pause, resume: each schedule's state after. */
  schedules?: ScheduleState[];
  /** trigger, backfill: the runs asked for, each under its run id. */
  queued?: QueuedSlot[];
  /** backfill: slots of the range with a run already; slots past where the schedule stands (catch_up's). */
  existing?: number;
  ahead?: number;
  /** trigger, backfill: how many of `queued` had started when the answer was given (the rest start on a firer's next tick). */
  started?: number;
}

interface ScheduleControlOptions {
  cursor: ScheduleCursor;
  /** The definitions whose schedules fire (the folder's, or the deployed ones). */
  definitions: readonly Definition[];
  /** Whether a run exists under this id (the store). */
  hasRun: (runId: string) => Promise<boolean>;
  /** Starts the queued slots right away (the embedded store); without it a firer's next tick does. */
  startQueued?: (workflowId: string, now: number) => Promise<unknown>;
  now?: () => number;
}

/** Takes a person's action on a workflow's schedules (who may is the caller's to judge: L1, `schedules`). */
export async function controlSchedules(o: ScheduleControlOptions, a: ScheduleAction): Promise<ScheduleActionResult> {
  const now = (o.now ?? Date.now)();
  const targets = scheduleTargets(o.definitions, a.workflowId, a.trigger);
  const base = { action: a.action, workflowId: a.workflowId };
  if (a.action === 'pause')
    return {
      ...base,
      schedules: await pauseSchedules(o.cursor, targets, {
        now,
        ...(a.reason ? { reason: a.reason } : {}),
        ...(a.by ? { by: a.by } : {}),
      }),
    };
  if (a.action === 'resume') return { ...base, schedules: await resumeSchedules(o.cursor, targets, { now }) };
  const started = async (queued: QueuedSlot[]) => {
    if (queued.length > 0 && o.startQueued) await o.startQueued(a.workflowId, now);
    let n = 0;
    for (const q of queued) if (await o.hasRun(q.runId)) n++;
    return n;
  };
  if (a.action === 'trigger') {
    const queued = [await triggerSchedule(o.cursor, targets[0]!, { now })];
    return { ...base, queued, started: await started(queued) };
  }
  const r = await backfillSchedules(o.cursor, targets, { from: a.from, to: a.to, now, hasRun: o.hasRun });
  return { ...base, queued: r.queued, existing: r.existing, ahead: r.ahead, started: await started(r.queued) };
}
