/**
 * Durations as users write them: '500ms', '30s', '1h30m', '1 h 30 m', ISO 8601 'PT1H30M' / 'P1D' / 'P1W', or a number
 * of milliseconds. Months and years are refused: their length depends on the calendar, and timers must be exact.
 *
 * A module of its own, not a file of definition/: the command line's duration flags take it without loading the
 * definition parser (yaml, zod) for every command, `--version` and `--help` among them.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * The longest duration a definition may hold (timeouts, retry delays, approval deadlines, waits): 365 days. Nothing a
 * workflow waits for sensibly lasts longer, and it keeps every due time (now + duration) far inside the range of a
 * Date, which ends at 8.64e15 ms; `99999999999999999999d` is a typo.
 */
export const MAX_DURATION_MS = 365 * UNIT_MS.d!;
export const MAX_DURATION_TEXT = '365d';

const COMPACT = /^\s*(?:\d+(?:\.\d+)?\s*(?:ms|sec|min|s|m|h|d|w)\s*)+$/i;
const COMPACT_PART = /(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d|w)/gi;
const ISO =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string | number): number | null {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.round(text) : null;
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return Math.round(Number(t));
  if (COMPACT.test(t)) {
    let total = 0;
    for (const m of t.matchAll(COMPACT_PART)) total += Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
    return Math.round(total);
  }
  const iso = ISO.exec(t);
  // 'P' and 'PT' alone match the pattern but say nothing.
  if (iso && !/^PT?$/i.test(t) && !/T$/i.test(t)) {
    const [, w, d, h, m, s] = iso;
    const n = (x: string | undefined) => (x === undefined ? 0 : Number(x));
    return Math.round(n(w) * UNIT_MS.w! + n(d) * UNIT_MS.d! + n(h) * UNIT_MS.h! + n(m) * UNIT_MS.m! + n(s) * 1000);
  }
  return null;
}
