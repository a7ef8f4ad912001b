/**
 * The condition evaluator: a walk over the checked AST of condition.ts. Total and pure: missing data reads as null,
 * type mismatches give null or false rather than throwing, so a condition over a half-finished run is still an answer.
 *
 * Comparison rules (documented in one place because `==` is loose on purpose):
 * - undefined (missing) is treated as null;
 * - `==` / `!=`: if both sides are numbers or numeric strings they compare as numbers ("80" == 80, "1.0" == "1"); a
 *   boolean and the string "true" / "false" compare as booleans; arrays and objects compare by their JSON (keys
 *   sorted); anything else with ===;
 * - `===` / `!==`: same type required, arrays and objects by their JSON;
 * - `<` `<=` `>` `>=`: numbers / numeric strings as numbers, two strings by code units, anything else is false;
 * - `+` adds numbers (numeric strings count when the other side is a number), otherwise concatenates when a side is a
 *   string; `- * / %` need numbers; a result that is not a finite number is null;
 * - truthiness is JavaScript's (0, '', null, false, NaN are false; [] and {} are true).
 */
import { readPayload } from './payloads.js';
import { getOwn, resolveRef, toText, type Scope } from './resolve.js';
import { parseCondition, type BinaryOp, type CompiledCondition, type FunctionName, type Node } from './condition.js';

function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * JSON with sorted keys, so {a,b} and {b,a} compare equal (keys whose value is undefined left out). It is what a
 * definition's hash is taken of (recorded in every run.started), so its text may never change.
 */
export function canonicalJson(v: unknown): string {
  return canonical(v, new Map());
}

/** Printable ASCII but `"` and `\`: what JSON.stringify writes as it is, between quotes. */
const AS_IS = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** `JSON.stringify(v) ?? 'null'` of a value that is not an object: most of a definition's are short plain strings and small numbers, written without the call. */
function canonicalLeaf(v: unknown): string {
  if (typeof v === 'string') return AS_IS.test(v) ? `"${v}"` : JSON.stringify(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return JSON.stringify(v) ?? 'null';
}

/**
 * `quotedKeys`: each key's `"key":`, quoted once per call. A definition's objects share a few dozen keys: quoting each
 * again, and writing each entry through a template, made a 3,000-task definition's hash cost 11 ms (about 7 now), paid
 * at the start of every run of a definition object not seen before.
 */
function canonical(v: unknown, quotedKeys: Map<string, string>): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v !== 'object') return canonicalLeaf(v);
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, quotedKeys)).join(',')}]`;
  const record = v as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const entries: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const x = record[k];
    if (x === undefined) continue;
    let quoted = quotedKeys.get(k);
    if (quoted === undefined) {
      quoted = `${JSON.stringify(k)}:`;
      quotedKeys.set(k, quoted);
    }
    entries.push(quoted + canonical(x, quotedKeys));
  }
  return `{${entries.join(',')}}`;
}

function looseEquals(a: unknown, b: unknown): boolean {
  const x = a === undefined ? null : a;
  const y = b === undefined ? null : b;
  const nx = asNumber(x);
  const ny = asNumber(y);
  if (nx !== null && ny !== null) return nx === ny;
  if (typeof x === 'boolean' && (y === 'true' || y === 'false')) return x === (y === 'true');
  if (typeof y === 'boolean' && (x === 'true' || x === 'false')) return y === (x === 'true');
  return strictEquals(x, y);
}

function strictEquals(a: unknown, b: unknown): boolean {
  const x = a === undefined ? null : a;
  const y = b === undefined ? null : b;
  if (typeof x === 'object' && typeof y === 'object' && x !== null && y !== null) {
    return Array.isArray(x) === Array.isArray(y) && canonicalJson(x) === canonicalJson(y);
  }
  return x === y;
}

function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

function binary(op: BinaryOp, l: unknown, r: unknown): unknown {
  switch (op) {
    case '==':
      return looseEquals(l, r);
    case '!=':
      return !looseEquals(l, r);
    case '===':
      return strictEquals(l, r);
    case '!==':
      return !strictEquals(l, r);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const nl = asNumber(l);
      const nr = asNumber(r);
      const [a, b] =
        nl !== null && nr !== null ? [nl, nr] : typeof l === 'string' && typeof r === 'string' ? [l, r] : [null, null];
      if (a === null || b === null) return false;
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    case '+': {
      const nl = asNumber(l);
      const nr = asNumber(r);
      if (nl !== null && nr !== null && (typeof l === 'number' || typeof r === 'number')) return finite(nl + nr);
      if (typeof l === 'string' || typeof r === 'string') return toText(l) + toText(r);
      return null;
    }
    default: {
      const nl = asNumber(l);
      const nr = asNumber(r);
      if (nl === null || nr === null) return null;
      return finite(op === '-' ? nl - nr : op === '*' ? nl * nr : op === '/' ? nl / nr : nl % nr);
    }
  }
}

function call(fn: FunctionName, args: unknown[]): unknown {
  const [a, b] = args;
  switch (fn) {
    case 'len':
      if (typeof a === 'string' || Array.isArray(a)) return a.length;
      if (a !== null && typeof a === 'object') return Object.keys(a).length;
      return 0;
    case 'contains':
      if (Array.isArray(a)) return a.some((item) => looseEquals(item, b));
      if (typeof a === 'string') return a.includes(toText(b));
      if (a !== null && typeof a === 'object') return Object.hasOwn(a, toText(b));
      return false;
    case 'lower':
      return toText(a).toLowerCase();
    case 'upper':
      return toText(a).toUpperCase();
    case 'startsWith':
      return toText(a).startsWith(toText(b));
    case 'endsWith':
      return toText(a).endsWith(toText(b));
  }
}

function truthy(v: unknown): boolean {
  return Boolean(v) && !(typeof v === 'number' && Number.isNaN(v));
}

function evalNode(n: Node, scope: Scope): unknown {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'ref':
      return readPayload(resolveRef(n.ref, scope));
    case 'get':
      return readPayload(getOwn(evalNode(n.obj, scope), n.key));
    case 'arr':
      return n.items.map((i) => evalNode(i, scope));
    case 'not':
      return !truthy(evalNode(n.arg, scope));
    case 'neg': {
      const v = asNumber(evalNode(n.arg, scope));
      return v === null ? null : -v;
    }
    case 'and': {
      const l = evalNode(n.l, scope);
      return truthy(l) ? evalNode(n.r, scope) : l;
    }
    case 'or': {
      const l = evalNode(n.l, scope);
      return truthy(l) ? l : evalNode(n.r, scope);
    }
    case 'if':
      return truthy(evalNode(n.test, scope)) ? evalNode(n.then, scope) : evalNode(n.else, scope);
    case 'bin':
      return binary(n.op, evalNode(n.l, scope), evalNode(n.r, scope));
    case 'call':
      return call(
        n.fn,
        n.args.map((a) => evalNode(a, scope)),
      );
  }
}

/** The value of an expression; missing references read as undefined. */
export function evaluateExpression(text: string, scope: Scope): unknown {
  return evalNode(parseCondition(text).ast, scope);
}

/** Truthiness of a condition, parsed from text or compiled once with parseCondition. */
export function evaluateCondition(cond: CompiledCondition | string, scope: Scope): boolean {
  const compiled = typeof cond === 'string' ? parseCondition(cond) : cond;
  return truthy(evalNode(compiled.ast, scope));
}
