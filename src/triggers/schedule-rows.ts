/**
 * Every schedule trigger with its next fire times (UTC and its own zone) and the last slot fired with
 * its run's status: what `ledgerflow schedules` prints and the dashboard's /api/schedules serves.
 */
import type { Definition } from '../definition/index.js';
import type { EventStore } from '../store/index.js';
import { localTime, nextSlots, scheduleKey, schedulesOf } from './schedule.js';
import type { ScheduleCursorEntry } from './schedule-cursor.js';

export interface ScheduleRow {
  workflowId: string;
  trigger: number;
  cron: string;
  timezone: string;
  catchUp: string;
  next: { utc: string; local: string }[];
  /** The last slot fired and its run (null: none fired yet). */
  last: { slot: string; runId: string; status: string | null } | null;
  /** Where the schedule stands (the last slot dealt with); null: no firer has seen it yet. */
  through: string | null;
  /** Paused by a person (`schedules pause`): when, by whom, why; null: firing. */
  paused: { at: string; by?: string; reason?: string } | null;
  /** Runs people asked for (`schedules trigger|backfill`) that no firer has started yet. */
  queued: number;
}

async function runStatus(store: EventStore, runId: string): Promise<string | null> {
  const events = await store.read(runId).catch(() => []);
  return events.at(-1)?.state.status ?? null;
}

export async function scheduleRows(
  definitions: readonly Definition[],
  cursors: Map<string, ScheduleCursorEntry>,
  store: EventStore,
  now: number,
  count: number,
): Promise<ScheduleRow[]> {
  const rows: ScheduleRow[] = [];
  for (const { definition, trigger, index } of schedulesOf(definitions)) {
    const entry = cursors.get(scheduleKey(definition.id, index));
    const current = entry && entry.cron === trigger.cron && entry.timezone === trigger.timezone ? entry : undefined;
    const last = entry?.last ? { ...entry.last, status: await runStatus(store, entry.last.runId) } : null;
    rows.push({
      workflowId: definition.id,
      trigger: index,
      cron: trigger.cron,
      timezone: trigger.timezone,
      catchUp: trigger.catchUp ?? 'latest',
      next: nextSlots(trigger, now, count).map((s) => ({
        utc: new Date(s).toISOString(),
        local: localTime(s, trigger.timezone),
      })),
      last,
      through: current?.through ?? null,
      paused: entry?.paused ?? null,
      queued: (entry?.queued?.length ?? 0) + (entry?.pending?.length ?? 0),
    });
  }
  return rows;
}
