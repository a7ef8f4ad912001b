/**
 * Schedule triggers, the pure core: which slots of a schedule are due at `now` given the last slot dealt with, what
 * `catch_up` does with the ones that were missed, and the run id of a slot. No clock is read here and nothing is
 * written: the Scheduler (scheduler.ts) is the edge.
 *
 * A slot is the UTC instant the cron names in the schedule's zone. DST (docs/library.md): a wall-clock job (no wildcard
 * or step in its seconds, minutes and hours, e.g. `30 2 * * *`) fires once a day whatever the clocks do: at the first
 * instant after a spring-forward gap, and at the first occurrence of a fall-back hour. An interval job (`0 * * * *`,
 * `*\/10 * * * *`) fires once per real interval: across spring forward the hour that does not exist is no slot (01:00
 * and 03:00 are one real hour apart), and across fall back the repeated hour is two slots, one real hour apart, with
 * two different UTC instants (and so two run ids). That is croner's `fixedTimeRule: 'no-wildcard'`, pinned by
 * test/triggers/schedule.test.ts.
 *
 * Missed slots: a due slot more than `graceMs` (default 30 s) before `now` was missed (the firer was down); a later one
 * is on time and always fires, unless a missed one proves the downtime: then only the newest due slot is on time, and
 * the others within the grace count as missed too. catch_up none: missed slots never fire (they are reported); latest:
 * the most recent missed slot fires once, unless an on-time slot fires anyway, and names the others; all: every missed
 * slot fires, in order, at most MAX_FIRE_PER_TICK per call (the rest on the next).
 */
import { createHash } from 'node:crypto';
import { cronFor, nextFire, type CatchUp, type Definition, type ScheduleTrigger } from '../definition/index.js';

/** At most this many slots of one schedule fire in one call (catch_up: all after a long downtime continues on the next). */
export const MAX_FIRE_PER_TICK = 1000;
/** A run names at most this many of the slots catch_up: latest skipped (missedCount counts them all). */
const MAX_MISSED_NAMED = 100;
/** Missed slots are counted one by one up to this many; past it missedCount is this bound (the log says "at least"). */
export const MAX_MISSED_COUNTED = 10_000;
/** How late a slot may be seen and still count as on time (a firer ticks every second or so). */
export const DEFAULT_GRACE_MS = 30_000;

/** The fields of a schedule the core needs (a Definition's ScheduleTrigger; `catchUp` may be absent in one deployed before it existed). */
export type ScheduleSpec = Pick<ScheduleTrigger, 'cron' | 'timezone'> & { catchUp?: CatchUp };

export const catchUpOf = (t: ScheduleSpec): CatchUp => t.catchUp ?? 'latest';

/** Every slot in (afterMs, upToMs], in order, at most `cap`; `more` when there are more. */
export function slotsBetween(
  trigger: ScheduleSpec,
  afterMs: number,
  upToMs: number,
  cap = MAX_FIRE_PER_TICK,
): { slots: number[]; more: boolean } {
  const slots: number[] = [];
  let at = afterMs;
  for (;;) {
    const next = nextFire(trigger.cron, trigger.timezone, at);
    if (next === null || next > upToMs) return { slots, more: false };
    if (slots.length >= cap) return { slots, more: true };
    slots.push(next);
    at = next;
  }
}

export function nextSlots(trigger: ScheduleSpec, afterMs: number, n: number): number[] {
  return slotsBetween(trigger, afterMs, Number.MAX_SAFE_INTEGER, n).slots;
}

/** The last slot strictly before `beforeMs` and after `afterMs`, or null. */
function lastSlotBefore(trigger: ScheduleSpec, afterMs: number, beforeMs: number): number | null {
  const prev = cronFor(trigger.cron, trigger.timezone)
    .previousRuns(2, new Date(beforeMs))
    .map((d) => d.getTime())
    .find((t) => t < beforeMs);
  return prev !== undefined && prev > afterMs ? prev : null;
}

interface Firing {
  /** The slot (ms since the epoch). */
  slot: number;
  /** catch_up latest: the slots it stands for that did not fire (at most MAX_MISSED_NAMED). */
  missed?: number[];
  /** How many did not fire (counted up to MAX_MISSED_COUNTED). */
  missedCount?: number;
}

interface Due {
  /** Slots to start a run for, in order. */
  fire: Firing[];
  /** Missed slots that do not fire (catch_up none, or latest's older ones), named up to MAX_MISSED_NAMED, for the log. */
  skipped: number[];
  skippedCount: number;
  /** The count stopped at MAX_MISSED_COUNTED: there were at least that many. */
  countCapped: boolean;
  /** The new cursor: the last slot dealt with (fired or skipped); `now` for a schedule seen the first time; unchanged when nothing was due. */
  through: number;
  /** catch_up all stopped at MAX_FIRE_PER_TICK: more are due. */
  more: boolean;
}

/**
 * What to do at `now` for a schedule whose last slot dealt with is `lastFired` (undefined: the schedule is seen for the
 * first time, so it starts from now and never fires the past).
 */
export function dueSlots(
  trigger: ScheduleSpec,
  lastFired: number | undefined,
  now: number,
  opts: { graceMs?: number } = {},
): Due {
  const none: Due = {
    fire: [],
    skipped: [],
    skippedCount: 0,
    countCapped: false,
    through: lastFired ?? now,
    more: false,
  };
  if (lastFired === undefined || now <= lastFired) return none;
  const mode = catchUpOf(trigger);
  if (mode === 'all') {
    const { slots, more } = slotsBetween(trigger, lastFired, now, MAX_FIRE_PER_TICK);
    return slots.length === 0 ? none : { ...none, fire: slots.map((slot) => ({ slot })), through: slots.at(-1)!, more };
  }
  const cutoff = now - (opts.graceMs ?? DEFAULT_GRACE_MS);
  // Missed: slots in (lastFired, cutoff), counted up to the bound; past it, jump to the last one before the cutoff.
  const named: number[] = [];
  let count = 0;
  let lastMissed: number | null = null;
  let countCapped = false;
  for (let at = lastFired; ; ) {
    const next = nextFire(trigger.cron, trigger.timezone, at);
    if (next === null || next >= cutoff) break;
    if (count >= MAX_MISSED_COUNTED) {
      countCapped = true;
      lastMissed = lastSlotBefore(trigger, lastMissed ?? lastFired, cutoff) ?? lastMissed;
      break;
    }
    count++;
    lastMissed = next;
    if (named.length < MAX_MISSED_NAMED + 1) named.push(next);
    at = next;
  }
  const onTime = slotsBetween(trigger, lastMissed ?? lastFired, now, MAX_FIRE_PER_TICK).slots;
  if (count === 0 && onTime.length === 0) return none;
  const through = onTime.at(-1) ?? lastMissed!;
  if (mode === 'none' || onTime.length > 0) {
    // A slot past the grace proves the firer was down, and the slots within the grace fell in that
    // downtime too: only the newest is on time (else a per-second schedule back after an hour would fire
    // 30 runs under none or latest). With nothing past the grace, every due slot is on time (a slow tick).
    const late = count > 0 ? onTime.slice(0, -1) : [];
    const skipped = [...named.slice(0, MAX_MISSED_NAMED), ...late].slice(0, MAX_MISSED_NAMED);
    const skippedCount = count + late.length;
    const fire: Firing[] = onTime.slice(late.length).map((slot) => ({ slot }));
    if (mode === 'latest' && skippedCount > 0)
      fire[fire.length - 1] = { ...fire.at(-1)!, missed: skipped, missedCount: skippedCount };
    return { fire, skipped, skippedCount, countCapped, through, more: false };
  }
  // latest, nothing on time: the most recent missed slot fires for all of them.
  const others = named.filter((s) => s !== lastMissed).slice(0, MAX_MISSED_NAMED);
  const firing: Firing = { slot: lastMissed!, ...(count > 1 ? { missed: others, missedCount: count - 1 } : {}) };
  return { fire: [firing], skipped: others, skippedCount: count - 1, countCapped, through, more: false };
}

/** `2026-11-23T08:00:00.000Z` → `20261123T080000Z`. */
export function slotStamp(slot: number): string {
  return new Date(slot)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** The longest run id (RUN_ID_PATTERN). */
const MAX_RUN_ID = 128;

/**
 * The run id of a schedule's slot: `<workflowId>-s<i>-<yyyymmddThhmmssZ>`, the same for every firer, so a second start
 * of a slot is a duplicate on every store. A workflow id too long to fit is cut and given a hash of the whole, so two
 * long ids never share run ids.
 */
export function runIdForSchedule(workflowId: string, triggerIndex: number, slot: number, manual = false): string {
  // A person's run (`schedules trigger`): `m` and the milliseconds, one id per millisecond asked.
  const tail = manual
    ? `-s${triggerIndex}-m${slotStamp(slot)}${String(slot % 1000).padStart(3, '0')}`
    : `-s${triggerIndex}-${slotStamp(slot)}`;
  if (workflowId.length + tail.length <= MAX_RUN_ID) return `${workflowId}${tail}`;
  const hash = createHash('sha256').update(workflowId).digest('hex').slice(0, 12);
  return `${workflowId.slice(0, MAX_RUN_ID - tail.length - 13)}-${hash}${tail}`;
}

/** The cursor key of a schedule: `<workflowId>.<triggerIndex>` (a NATS KV key too). */
export function scheduleKey(workflowId: string, triggerIndex: number): string {
  return `${workflowId}.${triggerIndex}`;
}

/** Every schedule trigger of the definitions, with its index in `triggers`. */
export function schedulesOf(
  definitions: readonly Definition[],
): { definition: Definition; trigger: ScheduleTrigger; index: number }[] {
  return definitions.flatMap((definition) =>
    definition.triggers.flatMap((trigger, index) =>
      trigger.kind === 'schedule' ? [{ definition, trigger, index }] : [],
    ),
  );
}

/** A time in the schedule's zone, for people: `2026-11-23 09:00:00 Europe/Berlin (+01:00)`. */
export function localTime(slot: number, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'longOffset',
  }).formatToParts(new Date(slot));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const offset = get('timeZoneName').replace(/^GMT/, '') || '+00:00';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${timezone} (${offset})`;
}
