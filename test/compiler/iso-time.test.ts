import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { iso, isoMs } from '../../src/compiler/index.js';
import { clearIsoCache, setIsoCacheEnabled } from '../../src/compiler/iso-cache.js';

const same = (a: number, b: number) => (Number.isNaN(a) ? Number.isNaN(b) : a === b);

/** Texts close to `YYYY-MM-DDTHH:mm:ss.sssZ`: in range, out of range (day 30 of February, hour 24, second 60), early years, other shapes. */
const timeText = fc.oneof(
  fc.integer({ min: -62_000_000_000_000, max: 253_402_300_799_999 }).map((ms) => new Date(ms).toISOString()),
  fc
    .tuple(
      fc.integer({ min: 0, max: 9999 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 0, max: 32 }),
      fc.integer({ min: 0, max: 25 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 61 }),
      fc.integer({ min: 0, max: 999 }),
    )
    .map(
      ([y, mo, d, h, mi, s, ms]) =>
        `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(s).padStart(2, '0')}.${String(ms).padStart(3, '0')}Z`,
    ),
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '2026-11-23T10:00:00Z',
    '2026-11-23T10:00:00.000+01:00',
    '2026-11-23T10:00:00.0000',
    '2026-11-23 10:00:00.000Z',
    '',
  ),
);

describe('event times read by the fold', () => {
  afterEach(() => setIsoCacheEnabled(true));

  it('reads every time as Date.parse does, and writes back the very text of a time toISOString wrote', () => {
    fc.assert(
      fc.property(
        fc.array(timeText, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: -5_000_000, max: 5_000_000 }),
        (texts, delay) => {
          for (const text of texts) {
            const ms = isoMs(text);
            expect(same(ms, Date.parse(text)), text).toBe(true);
            if (Number.isNaN(ms)) continue;
            // What an action stamps after reading the event's time: the time itself, or the time plus a delay.
            expect(iso(ms)).toBe(new Date(ms).toISOString());
            expect(iso(ms + delay)).toBe(new Date(ms + delay).toISOString());
            expect(isoMs(text)).toBe(ms);
          }
        },
      ),
      { seed: 23, numRuns: 2_000 },
    );
  });

  it('gives the same results with the cache cleared or off', () => {
    const texts = [
      '2026-11-23T10:00:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-11-23T10:00:00Z',
      '2024-02-29T23:59:59.999Z',
    ];
    const warm = texts.map((t) => [isoMs(t), iso(isoMs(t) + 1)]);
    clearIsoCache();
    expect(texts.map((t) => [isoMs(t), iso(isoMs(t) + 1)])).toEqual(warm);
    setIsoCacheEnabled(false);
    expect(texts.map((t) => [isoMs(t), iso(isoMs(t) + 1)])).toEqual(warm);
  });
});
