/**
 * Epoch ms → ISO string. Every action folding one event stamps the same time, and toISOString was a fifth of the cost
 * of a fold step: the last conversion is kept. A cache of a pure function, so the result is the same either way
 * (test/caches.test.ts).
 */
let enabled = true;
let lastMs = Number.NaN;
let lastIso = '';

export function iso(ms: number): string {
  if (ms !== lastMs || !enabled) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number of `len` ASCII digits at `at`, or -1 if one is not a digit. */
function digits(text: string, at: number, len: number): number {
  let n = 0;
  for (let i = at; i < at + len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * `Date.parse(text)`, and the inverse of `iso`: every event's time is parsed when it is folded, then written back as
 * text by each action that stamps it, which cost as much again as the parse. A time written as `toISOString` writes it
 * (what every engine records) is read field by field, exactly as Date.parse reads it, and remembered as the text of its
 * instant, so the actions' `iso` of it costs nothing. Any other text goes to Date.parse and is not remembered.
 */
export function isoMs(text: string): number {
  // The events of one commit share their time.
  if (text === lastIso && enabled) return lastMs;
  if (
    text.length !== 24 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58 ||
    text.charCodeAt(19) !== 46 ||
    text.charCodeAt(23) !== 90
  )
    return Date.parse(text);
  const y = digits(text, 0, 4),
    mo = digits(text, 5, 2),
    d = digits(text, 8, 2);
  const h = digits(text, 11, 2),
    mi = digits(text, 14, 2),
    s = digits(text, 17, 2),
    ms = digits(text, 20, 3);
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  // Only fields toISOString could have written (its canonical text of one instant); anything else as Date.parse has it.
  if (
    y < 1970 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > (mo === 2 && leap ? 29 : DAYS[mo - 1]!) ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 59 ||
    ms < 0
  ) {
    return Date.parse(text);
  }
  const at = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  if (enabled) {
    lastMs = at;
    lastIso = text;
  }
  return at;
}

export function clearIsoCache(): void {
  lastMs = Number.NaN;
  lastIso = '';
}

/** Off: every call converts afresh (for tests that check the cache changes no result). */
export function setIsoCacheEnabled(on: boolean): void {
  enabled = on;
  clearIsoCache();
}
