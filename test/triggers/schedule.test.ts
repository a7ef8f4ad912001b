import { describe, expect, it } from 'vitest';
import {
  dueSlots,
  localTime,
  MAX_FIRE_PER_TICK,
  nextSlots,
  runIdForSchedule,
  slotsBetween,
  type ScheduleSpec,
} from '../../src/triggers/schedule.js';

const t = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const isos = (ms: number[]) => ms.map(iso);
const spec = (cron: string, timezone = 'UTC', catchUp?: ScheduleSpec['catchUp']): ScheduleSpec => ({
  cron,
  timezone,
  ...(catchUp ? { catchUp } : {}),
});

describe("slots are UTC instants; DST neither skips nor doubles a slot of the schedule's zone", () => {
  it('a daily 02:30 in Europe/Berlin fires once on spring-forward day, at the first instant after the gap (03:00 CEST)', () => {
    const s = spec('30 2 * * *', 'Europe/Berlin');
    expect(isos(slotsBetween(s, t('2026-03-27T12:00:00Z'), t('2026-03-30T12:00:00Z')).slots)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('a daily 02:30 in Europe/Berlin fires once on fall-back day, at the first 02:30 (CEST), from any cursor inside the repeated hour', () => {
    const s = spec('30 2 * * *', 'Europe/Berlin');
    expect(isos(slotsBetween(s, t('2026-10-24T12:00:00Z'), t('2026-10-26T12:00:00Z')).slots)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first occurrence
      '2026-10-26T01:30:00.000Z', // next day 02:30 CET
    ]);
    // A cursor between the two occurrences (the first already fired) does not find the second.
    expect(isos(slotsBetween(s, t('2026-10-25T00:45:00Z'), t('2026-10-25T23:00:00Z')).slots)).toEqual([]);
  });

  it('a daily 02:30 in America/New_York: once at 03:00 EDT on spring forward, once on fall back (01:30 at its first occurrence)', () => {
    expect(
      isos(
        slotsBetween(spec('30 2 * * *', 'America/New_York'), t('2026-03-07T12:00:00Z'), t('2026-03-09T12:00:00Z'))
          .slots,
      ),
    ).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
    expect(
      isos(
        slotsBetween(spec('30 2 * * *', 'America/New_York'), t('2026-10-31T12:00:00Z'), t('2026-11-02T12:00:00Z'))
          .slots,
      ),
    ).toEqual(['2026-11-01T07:30:00.000Z', '2026-11-02T07:30:00.000Z']);
    expect(
      isos(
        slotsBetween(spec('30 1 * * *', 'America/New_York'), t('2026-10-31T12:00:00Z'), t('2026-11-01T12:00:00Z'))
          .slots,
      ),
    ).toEqual(['2026-11-01T05:30:00.000Z']); // 01:30 EDT; 01:30 EST an hour later is not a second slot
  });

  it('a wall-clock list (0 2,14) is a wall-clock job too: its 02:00 is not lost in the gap', () => {
    expect(
      isos(
        slotsBetween(spec('0 2,14 * * *', 'Europe/Berlin'), t('2026-03-28T20:00:00Z'), t('2026-03-29T20:00:00Z')).slots,
      ),
    ).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-29T12:00:00.000Z']);
  });

  it('an hourly job fires once per real hour across both changes (Europe/Berlin)', () => {
    const s = spec('0 * * * *', 'Europe/Berlin');
    // Spring: 01:00 CET, then 03:00 CEST one real hour later (02:00 does not exist).
    const spring = slotsBetween(s, t('2026-03-28T23:30:00Z'), t('2026-03-29T03:30:00Z')).slots;
    expect(isos(spring)).toEqual([
      '2026-03-29T00:00:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-29T02:00:00.000Z',
      '2026-03-29T03:00:00.000Z',
    ]);
    expect(spring.map((x) => localTime(x, 'Europe/Berlin').slice(11, 16))).toEqual([
      '01:00',
      '03:00',
      '04:00',
      '05:00',
    ]);
    // Fall: 02:00 CEST and 02:00 CET are two real hours, two slots (two instants, two run ids).
    const fall = slotsBetween(s, t('2026-10-24T23:30:00Z'), t('2026-10-25T02:30:00Z')).slots;
    expect(isos(fall)).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
    expect(fall.map((x) => localTime(x, 'Europe/Berlin'))).toEqual([
      '2026-10-25 02:00:00 Europe/Berlin (+02:00)',
      '2026-10-25 02:00:00 Europe/Berlin (+01:00)',
      '2026-10-25 03:00:00 Europe/Berlin (+01:00)',
    ]);
    expect(new Set(fall.map((x) => runIdForSchedule('w', 0, x))).size).toBe(3);
  });

  it('an hourly job fires once per real hour across both changes (America/New_York)', () => {
    const s = spec('0 * * * *', 'America/New_York');
    expect(isos(slotsBetween(s, t('2026-03-08T05:30:00Z'), t('2026-03-08T08:30:00Z')).slots)).toEqual([
      '2026-03-08T06:00:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-08T08:00:00.000Z',
    ]); // 01:00 EST, 03:00 EDT, 04:00 EDT
    expect(isos(slotsBetween(s, t('2026-11-01T04:30:00Z'), t('2026-11-01T07:30:00Z')).slots)).toEqual([
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]); // 01:00 EDT, 01:00 EST, 02:00 EST
  });

  it('reads 6 fields (seconds first) and nicknames; (after, upTo] excludes after and includes upTo', () => {
    expect(
      isos(slotsBetween(spec('*/20 * * * * *'), t('2026-01-01T00:00:00Z'), t('2026-01-01T00:01:00Z')).slots),
    ).toEqual(['2026-01-01T00:00:20.000Z', '2026-01-01T00:00:40.000Z', '2026-01-01T00:01:00.000Z']);
    expect(isos(nextSlots(spec('@daily', 'Europe/Berlin'), t('2026-06-01T12:00:00Z'), 2))).toEqual([
      '2026-06-01T22:00:00.000Z',
      '2026-06-02T22:00:00.000Z',
    ]);
    expect(slotsBetween(spec('* * * * * *'), 0, t('2026-01-01T00:00:00Z'), 5)).toMatchObject({
      more: true,
      slots: { length: 5 },
    });
  });
});

describe('dueSlots: first sight, on time, and catch_up after downtime', () => {
  const every10s = (c?: ScheduleSpec['catchUp']) => spec('*/10 * * * * *', 'UTC', c);
  const T0 = t('2026-01-01T09:00:00Z');

  it('a schedule seen the first time starts from now and never fires the past', () => {
    expect(dueSlots(every10s(), undefined, T0 + 5000)).toMatchObject({ fire: [], through: T0 + 5000 });
  });

  it('nothing due: nothing fires and the cursor stays', () => {
    expect(dueSlots(every10s(), T0, T0 + 9000)).toMatchObject({ fire: [], skipped: [], through: T0 });
  });

  it('slots within the grace are on time and fire whatever catch_up says', () => {
    for (const c of ['none', 'latest', 'all'] as const) {
      const d = dueSlots(every10s(c), T0, T0 + 21_000, { graceMs: 30_000 });
      expect(d.fire).toEqual([{ slot: T0 + 10_000 }, { slot: T0 + 20_000 }]);
      expect(d.through).toBe(T0 + 20_000);
    }
  });

  it('after downtime: none fires nothing and names the missed; latest fires the most recent once naming the others; all fires each', () => {
    const now = T0 + 60_500; // slots :10 … :60, all more than 0 s late
    const none = dueSlots(every10s('none'), T0, now, { graceMs: 0 });
    expect(none).toMatchObject({ fire: [], skippedCount: 6, through: T0 + 60_000 });
    expect(none.skipped).toHaveLength(6);
    const latest = dueSlots(every10s('latest'), T0, now, { graceMs: 0 });
    expect(latest.fire).toEqual([
      { slot: T0 + 60_000, missed: [1, 2, 3, 4, 5].map((i) => T0 + i * 10_000), missedCount: 5 },
    ]);
    expect(latest.through).toBe(T0 + 60_000);
    const all = dueSlots(every10s('all'), T0, now, { graceMs: 0 });
    expect(all.fire.map((f) => f.slot)).toEqual([1, 2, 3, 4, 5, 6].map((i) => T0 + i * 10_000));
  });

  it('latest with a slot on time: the on-time slot fires and carries the missed ones', () => {
    const d = dueSlots(every10s('latest'), T0, T0 + 60_500, { graceMs: 5000 });
    expect(d.fire).toEqual([
      { slot: T0 + 60_000, missed: [1, 2, 3, 4, 5].map((i) => T0 + i * 10_000), missedCount: 5 },
    ]);
  });

  it('after a downtime the slots still within the grace fell in it too: none and latest fire only the newest, all fires each', () => {
    const perSecond = (c: ScheduleSpec['catchUp']) => spec('* * * * * *', 'UTC', c);
    const now = T0 + 60_500; // down for a minute: slots :01 … :30 are past the grace, :31 … :60 within it
    const latest = dueSlots(perSecond('latest'), T0, now, { graceMs: 30_000 });
    expect(latest.fire).toEqual([
      { slot: T0 + 60_000, missed: Array.from({ length: 59 }, (_, i) => T0 + (i + 1) * 1000), missedCount: 59 },
    ]);
    expect(latest).toMatchObject({ skippedCount: 59, through: T0 + 60_000 });
    const none = dueSlots(perSecond('none'), T0, now, { graceMs: 30_000 });
    expect(none.fire).toEqual([{ slot: T0 + 60_000 }]);
    expect(none).toMatchObject({ skippedCount: 59, through: T0 + 60_000 });
    expect(none.skipped).toHaveLength(59);
    expect(dueSlots(perSecond('all'), T0, now, { graceMs: 30_000 }).fire).toHaveLength(60);
  });

  it('defaults to latest (a definition deployed before catch_up existed)', () => {
    expect(dueSlots(every10s(), T0, T0 + 60_500, { graceMs: 0 }).fire).toHaveLength(1);
  });

  it('caps: all fires at most 1,000 per call and continues; latest names 100 and counts the rest', () => {
    const perSecond = spec('* * * * * *', 'UTC', 'all');
    const first = dueSlots(perSecond, T0, T0 + 1500_000, { graceMs: 0 });
    expect(first.fire).toHaveLength(MAX_FIRE_PER_TICK);
    expect(first).toMatchObject({ more: true, through: T0 + 1000_000 });
    const rest = dueSlots(perSecond, first.through, T0 + 1500_000, { graceMs: 0 });
    expect(rest.fire).toHaveLength(500);
    const latest = dueSlots({ ...perSecond, catchUp: 'latest' }, T0, T0 + 1500_000, { graceMs: 0 });
    expect(latest.fire).toHaveLength(1);
    expect(latest.fire[0]).toMatchObject({ slot: T0 + 1500_000, missedCount: 1499 });
    expect(latest.fire[0]!.missed).toHaveLength(100);
  });
});

describe('runIdForSchedule', () => {
  it('is <workflowId>-s<i>-<yyyymmddThhmmssZ>, the same for every firer', () => {
    expect(runIdForSchedule('daily_operations', 0, t('2026-11-23T08:00:00Z'))).toBe(
      'daily_operations-s0-20261123T080000Z',
    );
  });
  it('stays a valid run id for a very long workflow id, distinct per id', () => {
    const a = runIdForSchedule('a'.repeat(200), 1, T(0));
    const b = runIdForSchedule(`${'a'.repeat(199)}b`, 1, T(0));
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    expect(a).not.toBe(b);
  });
});
function T(s: number): number {
  return Date.UTC(2026, 0, 1) + s * 1000;
}
