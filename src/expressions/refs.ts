/**
 * `${...}` references: finding them in strings and parsing the reference grammar. Shared by templates (interpolation)
 * and conditions (placeholders).
 */
import { ExpressionError } from '../errors/index.js';

export type Ref =
  | { kind: 'input'; name: string | null; path: string[] }
  | { kind: 'workflow'; field: string }
  /** `${workflow.variables}` (name null) or `${workflow.variables.<name>[.path]}`: values SET tasks set. */
  | { kind: 'variable'; name: string | null; path: string[] }
  | { kind: 'task'; task: string; field: 'output' | 'status' | 'error' | 'attempts'; path: string[] }
  /** The event that fires a trigger: only meaningful in triggers[].filter and triggers[].input (the definition checks say so). */
  | { kind: 'event'; path: string[] }
  /** The current item of a MAP (and a path into it), and its 0-based position: only in the input of a MAP's body. */
  | { kind: 'item'; path: string[] }
  | { kind: 'index' }
  /**
   * `${secrets.NAME}`: a secret, never resolved here (the core has no values): templates keep the reference as text and
   * report where it is, and the executor's edge puts the value in when the attempt starts (src/secrets/).
   */
  | { kind: 'secret'; name: string };

interface RefOccurrence {
  ref: Ref;
  /** The whole occurrence as written, `${...}` included. */
  text: string;
  /** 0-based offset of `${` in the string. */
  offset: number;
}

/** A secret's name: what `${secrets.NAME}`, LEDGERFLOW_SECRET_<NAME> and the providers' keys use. */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const TASK_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const WORKFLOW_FIELDS = ['id', 'runId', 'version'] as const;
export const TASK_FIELDS = ['output', 'status', 'error', 'attempts'] as const;
/** Fields of a trigger event (see triggers/): `data` has a path, the others are plain values. */
const EVENT_FIELDS = ['id', 'type', 'time', 'source', 'data'] as const;
/** Never walked into: reading them could reach Object.prototype and friends. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const ACCEPTED_FORMS =
  'expected ${workflow.input}, ${workflow.input.<name>[.path]}, ${workflow.<id|runId|version>}, ${workflow.variables.<name>[.path]} ' +
  'or ${<task_id>.<output|status|error|attempts>[.path]} (path: dot names and [0] indexes); ' +
  'in triggers also ${event.<id|type|time|source>} and ${event.data[.path]}; ' +
  "in the input of a MAP's body also ${item[.path]} and ${index}; " +
  "in a task's input, a COMMAND's command and env, an HTTP task's url, headers, query and body, and notification targets also ${secrets.<NAME>}";

/**
 * Splits `a.b[0].c` into ['a', 'b', '0', 'c']; returns the 0-based index of the first bad character instead when the
 * text is not a plain path.
 */
function splitPath(body: string): string[] | number {
  const segs: string[] = [];
  const name = /[A-Za-z0-9_$-]+/y;
  const index = /\[(\d+)\]/y;
  let i = 0;
  let expectName = true;
  while (i < body.length) {
    if (expectName) {
      name.lastIndex = i;
      const m = name.exec(body);
      if (!m) return i;
      segs.push(m[0]);
      i = name.lastIndex;
      expectName = false;
      continue;
    }
    if (body[i] === '.') {
      i++;
      expectName = true;
      continue;
    }
    index.lastIndex = i;
    const m = index.exec(body);
    if (!m) return i;
    segs.push(m[1]!);
    i = index.lastIndex;
  }
  return expectName ? body.length : segs;
}

/** Turns path segments into a Ref, or explains which forms are accepted. Throws a plain message; callers add the place. */
export function refFromSegments(segs: string[]): Ref | string {
  const bad = segs.find((s) => FORBIDDEN_KEYS.has(s));
  if (bad !== undefined) return `property "${bad}" is not allowed`;
  const [root, second, ...rest] = segs;
  if (root === undefined) return `empty reference; ${ACCEPTED_FORMS}`;
  if (root === 'workflow') {
    if (second === 'input') {
      const [name, ...path] = rest;
      return { kind: 'input', name: name ?? null, path };
    }
    if (second === 'variables') {
      const [name, ...path] = rest;
      return { kind: 'variable', name: name ?? null, path };
    }
    if (second !== undefined && (WORKFLOW_FIELDS as readonly string[]).includes(second) && rest.length === 0) {
      return { kind: 'workflow', field: second };
    }
    return `"${segs.join('.')}" is not a workflow field; ${ACCEPTED_FORMS}`;
  }
  if (root === 'event') {
    if (second === undefined) return { kind: 'event', path: [] };
    if (!(EVENT_FIELDS as readonly string[]).includes(second)) {
      return `"event.${second}" is not an event field; the event has ${EVENT_FIELDS.join(', ')} (payload fields are under event.data)`;
    }
    if (second !== 'data' && rest.length > 0)
      return `"event.${second}" is a plain value and has no path "${rest.join('.')}"`;
    return { kind: 'event', path: [second, ...rest] };
  }
  // `item` is always the MAP item (a task named item is warned about); `index` alone is its position, `index.<field>` a task's.
  if (root === 'item') return { kind: 'item', path: second === undefined ? [] : [second, ...rest] };
  if (root === 'index' && second === undefined) return { kind: 'index' };
  if (root === 'secrets') {
    if (second === undefined || rest.length > 0 || !SECRET_NAME_PATTERN.test(second)) {
      return `"${segs.join('.')}" is not a secret; write \${secrets.<NAME>} (letters, digits and _, not starting with a digit)`;
    }
    return { kind: 'secret', name: second };
  }
  if (!TASK_ID_PATTERN.test(root)) return `"${root}" is not a task id; ${ACCEPTED_FORMS}`;
  if (second === undefined || !(TASK_FIELDS as readonly string[]).includes(second)) {
    const got = second === undefined ? `"${root}" alone` : `"${root}.${second}"`;
    return `${got} is not a reference; ${ACCEPTED_FORMS}`;
  }
  const field = second as (typeof TASK_FIELDS)[number];
  if ((field === 'status' || field === 'attempts') && rest.length > 0) {
    return `"${root}.${field}" is a plain value and has no path "${rest.join('.')}"`;
  }
  return { kind: 'task', task: root, field, path: rest };
}

function fail(text: string, offset: number, problem: string, what: string): never {
  const column = offset + 1;
  throw new ExpressionError(`${problem} at column ${column} in ${what} "${text}"`, { text, column, reason: problem });
}

/** Parses the inside of `${...}`; `offset` is where `${` starts, for messages. */
function parseRefBody(text: string, offset: number, body: string, what: string): Ref {
  const trimmed = body.trim();
  const lead = body.length - body.trimStart().length;
  const segs = splitPath(trimmed);
  if (typeof segs === 'number') {
    const at = offset + 2 + lead + segs;
    const ch = trimmed[segs];
    fail(
      text,
      at,
      `malformed reference \${${body}}: ${ch === undefined ? 'it ends too early' : `unexpected "${ch}"`}; ${ACCEPTED_FORMS}`,
      what,
    );
  }
  const ref = refFromSegments(segs);
  if (typeof ref === 'string') fail(text, offset, `malformed reference \${${body}}: ${ref}`, what);
  return ref;
}

/**
 * Every `${...}` in a string, in order. `$${` is an escape for a literal `${` (so shell snippets like `$${HOME}`
 * survive). Throws ExpressionError for an unterminated `${` or a reference outside the grammar.
 */
export function findRefs(text: string, what = 'template'): RefOccurrence[] {
  return scan(text, what).filter((p): p is RefOccurrence => typeof p !== 'string');
}

/** The string as literal pieces and references, in order; used by interpolation. */
export function scan(text: string, what = 'template'): (string | RefOccurrence)[] {
  const parts: (string | RefOccurrence)[] = [];
  let lit = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('${', i);
    if (at < 0) break;
    if (at > 0 && text[at - 1] === '$') {
      // `$${` → literal `${`: keep everything up to it minus the escaping `$`.
      lit += text.slice(i, at - 1) + '${';
      i = at + 2;
      continue;
    }
    const end = text.indexOf('}', at + 2);
    if (end < 0) fail(text, at, 'unterminated "${" (missing "}")', what);
    lit += text.slice(i, at);
    if (lit) parts.push(lit);
    lit = '';
    parts.push({
      ref: parseRefBody(text, at, text.slice(at + 2, end), what),
      text: text.slice(at, end + 1),
      offset: at,
    });
    i = end + 1;
  }
  lit += text.slice(i);
  if (lit) parts.push(lit);
  return parts;
}

/** Every reference in a JSON tree, with its path inside the tree. */
export function collectRefs(value: unknown): { ref: Ref; path: (string | number)[]; text: string; offset: number }[] {
  const out: { ref: Ref; path: (string | number)[]; text: string; offset: number }[] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (typeof v === 'string') {
      for (const r of findRefs(v)) out.push({ ref: r.ref, path, text: r.text, offset: r.offset });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i]));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) walk(item, [...path, k]);
    }
  };
  walk(value, []);
  return out;
}

/** The canonical text of a reference, e.g. `${scan_files.output.file_list}`. */
export function refText(ref: Ref): string {
  const path = (p: string[]) => p.map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('');
  switch (ref.kind) {
    case 'input':
      return `\${workflow.input${ref.name === null ? '' : `.${ref.name}`}${path(ref.path)}}`;
    case 'workflow':
      return `\${workflow.${ref.field}}`;
    case 'variable':
      return `\${workflow.variables${ref.name === null ? '' : `.${ref.name}`}${path(ref.path)}}`;
    case 'task':
      return `\${${ref.task}.${ref.field}${path(ref.path)}}`;
    case 'event':
      return `\${event${path(ref.path)}}`;
    case 'item':
      return `\${item${path(ref.path)}}`;
    case 'index':
      return '${index}';
    case 'secret':
      return `\${secrets.${ref.name}}`;
  }
}
