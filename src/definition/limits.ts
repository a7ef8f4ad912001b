/**
 * How big a definition may be. Every run copies its definition into run.started and every engine holds it in memory, so
 * a definition is refused, before the work its size would cost, when it is over:
 *
 * - MAX_DEFINITION_BYTES of source (UTF-8), checked before the YAML is parsed;
 * - MAX_TASKS tasks (a loop's or MAP's body, a fork's branches and failure steps are tasks of the same list, so the
 *   list's length counts them all);
 * - MAX_DEFINITION_JSON_BYTES as stored (aliases expanded, defaults filled in): a small file whose aliases repeat a
 *   long anchor would otherwise become gigabytes of run.started.
 *
 * Pure: callers that read files check the size first (files/source.ts).
 */
export const MAX_DEFINITION_BYTES = 1024 * 1024;
const MAX_DEFINITION_TEXT = '1 MiB';
export const MAX_TASKS = 5000;
/**
 * As stored: a file of 5,000 tasks near 1 MiB normalises to under 2 MiB (each task's defaults spelled out), so only
 * aliases repeating large values reach this. Below the 8 MB max_payload of nats.conf, which the run.started commit
 * (definition and input) must fit.
 */
export const MAX_DEFINITION_JSON_BYTES = 4 * 1024 * 1024;
const MAX_DEFINITION_JSON_TEXT = '4 MiB';

const SPLIT = 'split it into workflows that call each other (SUB_WORKFLOW, or a MAP with `workflow:`)';

/** `atLeast`: the size was not counted to the end (it did not need to be). */
export function tooLargeMessage(bytes: number, atLeast = false): string {
  return `definition is ${atLeast ? 'at least ' : ''}${bytes.toLocaleString('en-US')} bytes, over the limit of ${MAX_DEFINITION_TEXT} (${MAX_DEFINITION_BYTES.toLocaleString('en-US')} bytes); ${SPLIT}, or keep large data out of it (pass it as run input or read it from a file at run time)`;
}

export function tooManyTasksMessage(tasks: number): string {
  return `workflow has ${tasks.toLocaleString('en-US')} tasks, over the limit of ${MAX_TASKS.toLocaleString('en-US')}; ${SPLIT}, or run one task per item with a MAP`;
}

export function tooLargeStoredMessage(): string {
  return `definition expands to more than ${MAX_DEFINITION_JSON_TEXT} as stored (aliases written out, defaults filled in), the limit of what a run records; use fewer or smaller aliased values, or ${SPLIT}`;
}

/**
 * Null when `text` is at most `limit` bytes of UTF-8; else how many it has (`atLeast` when not counted: each UTF-16
 * unit is one byte or more, so a string longer than the limit is over it without a count).
 */
export function utf8LengthOver(text: string, limit: number): { bytes: number; atLeast: boolean } | null {
  if (text.length > limit) return { bytes: text.length, atLeast: true };
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair (two units) is four bytes: two per unit.
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3;
  }
  return bytes > limit ? { bytes, atLeast: false } : null;
}

/** Printable ASCII but `"` and `\`: one byte each in JSON, so a string of only these is its length and its quotes. */
const ONE_BYTE_EACH = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/;

/** At least the UTF-8 bytes of `s` as a JSON string (quotes and escapes counted at their longest). */
function jsonStringBytes(s: string): number {
  // Nearly every string of a definition (ids, names, keys): one native test instead of a loop over its characters.
  if (ONE_BYTE_EACH.test(s)) return s.length + 2;
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c === 0x22 || c === 0x5c ? 2 : c < 0x20 ? 6 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n;
}

/**
 * Whether `value` written as JSON (JSON.stringify, no spaces) would be over `limit` bytes, found without writing it:
 * JSON.stringify of an expanded alias bomb would itself run out of memory. Counts at least what JSON.stringify writes
 * (so what passes here fits when stored) and stops once over the limit.
 */
export function jsonLongerThan(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') size += jsonStringBytes(v);
    else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      size += 2;
      for (const [k, item] of Object.entries(v)) {
        if (item === undefined) continue;
        size += jsonStringBytes(k) + 2;
        stack.push(item);
      }
    } else size += String(v).length;
    if (size > limit) return true;
  }
  return false;
}

/** What keeps a definition object (deployed, or read back from where it was deployed) from being run: its task count or its stored size. */
export function definitionLimitProblem(def: {
  tasks: readonly unknown[];
}): { code: 'LF_TOO_MANY_TASKS' | 'LF_DEFINITION_TOO_LARGE'; message: string } | null {
  if (def.tasks.length > MAX_TASKS)
    return { code: 'LF_TOO_MANY_TASKS', message: tooManyTasksMessage(def.tasks.length) };
  if (jsonLongerThan(def, MAX_DEFINITION_JSON_BYTES))
    return { code: 'LF_DEFINITION_TOO_LARGE', message: tooLargeStoredMessage() };
  return null;
}
