/**
 * A value someone gave, said in an error message at a bounded length. A message quotes what was wrong so the person
 * can find it, but the value may come from anyone (an `--input-file`, a start on NATS, a library call) and be
 * megabytes long, hold half a million names or nest thousands deep: quoted whole, the refusal would be larger than
 * what it refuses (and a reply on NATS larger than a message may be), and JSON.stringify of a deep value throws.
 */

/** Characters of a string quoted before it is cut. */
const QUOTED_CHARS = 60;
/** Names listed before "and N more". */
const LISTED_NAMES = 10;

/**
 * `"abc"`, `"abcdef…" (70,000 characters)`, `42`, `null`, `{"a":1}`; an object or array whose JSON is longer than
 * `max`: `an array of 3 items`, `an object of 2 keys`.
 */
export function quoteValue(value: unknown, max = QUOTED_CHARS): string {
  if (typeof value === 'string') {
    if (value.length <= max) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, max))}… (${value.length.toLocaleString('en-US')} characters)`;
  }
  const short = shortJson(value, max);
  if (short !== null) return short;
  if (Array.isArray(value)) return `an array of ${plural(value.length, 'item')}`;
  if (value !== null && typeof value === 'object') {
    let keys = 0;
    for (const k in value) if (Object.hasOwn(value, k)) keys++;
    return `an object of ${plural(keys, 'key')}`;
  }
  return String(value);
}

/** `"a", "b"` or, past ten, the first ten and `and 499,990 more`; each name quoted as quoteValue does. */
export function quoteNames(names: readonly string[], max = LISTED_NAMES): string {
  const shown = names.slice(0, max).map((n) => quoteValue(n));
  const more = names.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more.toLocaleString('en-US')} more` : shown.join(', ');
}

/** A value as an error's meta keeps it: a string as it is up to 60 characters (cut with `…` past them), else quoteValue. */
export const clippedValue = (value: unknown): string =>
  typeof value !== 'string'
    ? quoteValue(value)
    : value.length > QUOTED_CHARS
      ? `${value.slice(0, QUOTED_CHARS)}…`
      : value;

/** The names an error's meta keeps: at most `max`, each as clippedValue (the count beside them says how many there were). */
export const someNames = (names: readonly string[], max = LISTED_NAMES): string[] =>
  names.slice(0, max).map(clippedValue);

/**
 * The value's JSON when it is at most `max` characters, else null; what it walks first is bounded by `max` (values,
 * keys, a string's length), so a value of a million keys or nested thousands deep is never written out to find that.
 */
function shortJson(value: unknown, max: number): string | null {
  let seen = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (++seen > max) return null;
    if (typeof v === 'string' && v.length > max) return null;
    if (Array.isArray(v)) {
      if (v.length > max) return null;
      stack.push(...v);
    } else if (v !== null && typeof v === 'object') {
      for (const k in v) {
        if (!Object.hasOwn(v, k)) continue;
        if (++seen > max) return null;
        stack.push((v as Record<string, unknown>)[k]);
      }
    }
  }
  const text = JSON.stringify(value);
  return text !== undefined && text.length <= max ? text : null;
}

const plural = (n: number, what: string) => `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
