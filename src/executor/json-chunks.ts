/**
 * JSON.stringify of a large value as a stream of text pieces, so that a handler's 100 MB output is stored as a blob
 * without its whole JSON ever being one string in memory (the engine's memory then grows with the chunk, not with the
 * output). The text is exactly JSON.stringify's: leaves are turned to text by JSON.stringify itself (its number form
 * and string escaping), a long string a slice at a time; only the walk over objects and arrays is ours, with
 * JSON.stringify's rules (toJSON, undefined, functions and symbols left out of objects and null in arrays, boxed
 * primitives unboxed, a cycle or a BigInt a TypeError).
 */

/** Characters of a string leaf turned to JSON at a time, and the size the pieces are gathered to. */
const PIECE = 1 << 20;

/** What JSON.stringify makes of a value before writing it: toJSON's result, a boxed primitive's value. */
function jsonValueOf(value: unknown, key: string): unknown {
  if (value !== null && typeof value === 'object') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJSON.call(value, key);
    if (value instanceof Number || value instanceof String || value instanceof Boolean) return value.valueOf();
  }
  return value;
}

/** Whether JSON.stringify leaves the value out of an object (and writes null for it in an array). */
const skipped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** A string's JSON, a slice at a time (a slice never ends between the two halves of a surrogate pair). */
function* stringPieces(s: string): Generator<string> {
  if (s.length <= PIECE) {
    yield JSON.stringify(s);
    return;
  }
  yield '"';
  for (let at = 0; at < s.length; ) {
    let end = Math.min(s.length, at + PIECE);
    const last = s.charCodeAt(end - 1);
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end--;
    yield JSON.stringify(s.slice(at, end)).slice(1, -1);
    at = end;
  }
  yield '"';
}

/**
 * The pieces of `JSON.stringify(value)` (nothing for a value it makes undefined). `onKey` sees every key written, so a
 * caller can refuse one as it passes.
 */
export function* jsonPieces(value: unknown, onKey?: (key: string) => void): Generator<string> {
  const open = new Set<object>();
  // `v`: a value already made what JSON.stringify writes (jsonValueOf: toJSON is called once, as it does).
  function* walk(v: unknown): Generator<string> {
    if (typeof v === 'string') {
      yield* stringPieces(v);
      return;
    }
    if (v === null || typeof v !== 'object') {
      // A number, boolean or null as JSON.stringify writes it; a BigInt throws its TypeError here.
      yield JSON.stringify(v) ?? 'null';
      return;
    }
    if (open.has(v)) throw new TypeError('Converting circular structure to JSON');
    open.add(v);
    if (Array.isArray(v)) {
      yield '[';
      for (let i = 0; i < v.length; i++) {
        if (i > 0) yield ',';
        const item = jsonValueOf(v[i], String(i));
        if (skipped(item)) yield 'null';
        else yield* walk(item);
      }
      yield ']';
    } else {
      yield '{';
      let first = true;
      for (const k of Object.keys(v)) {
        const item = jsonValueOf((v as Record<string, unknown>)[k], k);
        if (skipped(item)) continue;
        onKey?.(k);
        yield first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`;
        first = false;
        yield* walk(item);
      }
      yield '}';
    }
    open.delete(v);
  }
  const top = jsonValueOf(value, '');
  if (!skipped(top)) yield* walk(top);
}

/** The UTF-8 bytes of JSON.stringify(value), in pieces of about a MiB (see jsonPieces for onKey). */
export function* jsonBytes(value: unknown, onKey?: (key: string) => void): Generator<Uint8Array> {
  const encoder = new TextEncoder();
  let pending: string[] = [];
  let chars = 0;
  for (const piece of jsonPieces(value, onKey)) {
    pending.push(piece);
    chars += piece.length;
    if (chars >= PIECE) {
      yield encoder.encode(pending.join(''));
      pending = [];
      chars = 0;
    }
  }
  if (chars > 0) yield encoder.encode(pending.join(''));
}

/**
 * Whether the value's JSON is surely over `limit` bytes, found by summing the lengths of its strings and keys (each
 * UTF-16 unit is at least one byte of UTF-8), and stopping as soon as the sum passes it: cheap for the common small
 * output, and no false yes. A value made mostly of numbers may be over the limit and still get no.
 */
export function surelyOver(value: unknown, limit: number): boolean {
  let sum = 0;
  const stack: unknown[] = [value];
  let seen = 0;
  while (stack.length > 0) {
    const v = stack.pop();
    // Bounded: a value too wide to measure cheaply is left to JSON.stringify.
    if (++seen > 100_000) return false;
    if (typeof v === 'string') {
      sum += v.length;
      if (sum > limit) return true;
    } else if (v !== null && typeof v === 'object') {
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') continue;
      if (Array.isArray(v)) for (const item of v) stack.push(item);
      else
        for (const k of Object.keys(v)) {
          sum += k.length;
          stack.push((v as Record<string, unknown>)[k]);
        }
      if (sum > limit) return true;
    }
  }
  return false;
}
