/**
 * What a plain Conductor script says, written in ledgerflow's condition language (script.ts reads the statements; this
 * writes the one expression they give, from a whitelist of node types).
 */
import type jsep from 'jsep';
import { type DollarResolver, NotPlain, OBJECT, statements, statementsValue, type TemplateResolver } from './script.js';

/** `x.indexOf(y) >= 0` and kin: membership, as contains(x, y). */
function indexOfTest(e: jsep.BinaryExpression): { call: jsep.CallExpression; negate: boolean } | null {
  const isCall = (n: jsep.Expression) =>
    n.type === 'CallExpression' &&
    (n as jsep.CallExpression).callee.type === 'MemberExpression' &&
    ((n as jsep.CallExpression).callee as jsep.MemberExpression).property.type === 'Identifier' &&
    (((n as jsep.CallExpression).callee as jsep.MemberExpression).property as jsep.Identifier).name === 'indexOf';
  const num = (n: jsep.Expression) =>
    n.type === 'Literal'
      ? (n as jsep.Literal).value
      : n.type === 'UnaryExpression' &&
          (n as jsep.UnaryExpression).operator === '-' &&
          (n as jsep.UnaryExpression).argument.type === 'Literal'
        ? -Number(((n as jsep.UnaryExpression).argument as jsep.Literal).value)
        : null;
  if (!isCall(e.left)) return null;
  const v = num(e.right);
  const call = e.left as jsep.CallExpression;
  if (
    (e.operator === '>=' && v === 0) ||
    (e.operator === '>' && v === -1) ||
    ((e.operator === '!=' || e.operator === '!==') && v === -1)
  )
    return { call, negate: false };
  if ((e.operator === '<' && v === 0) || ((e.operator === '==' || e.operator === '===') && v === -1))
    return { call, negate: true };
  return null;
}

const OPS = new Set(['==', '!=', '===', '!==', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '&&', '||']);
const METHODS: Record<string, string> = {
  includes: 'contains',
  toLowerCase: 'lower',
  toUpperCase: 'upper',
  startsWith: 'startsWith',
  endsWith: 'endsWith',
};

class Writer {
  constructor(
    private readonly dollar: DollarResolver,
    private readonly template: TemplateResolver,
    private readonly locals: Map<string, jsep.Expression>,
  ) {}

  write(e: jsep.Expression, depth = 0): string {
    if (depth > 50) throw new NotPlain('an expression nested too deep');
    const w = (n: jsep.Expression) => this.write(n, depth + 1);
    switch (e.type) {
      case 'Literal': {
        const v = (e as jsep.Literal).value;
        if (typeof v === 'string') {
          if (/\$\{/.test(v)) {
            const t = /^\$\{[^}]*\}$/.test(v) ? this.template(v) : null;
            if (t === null) throw new NotPlain(`the string ${JSON.stringify(v)} mixes text with a \${...} reference`);
            return t;
          }
          return JSON.stringify(v);
        }
        if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
        throw new NotPlain('a literal that is not a string, number or boolean');
      }
      case 'Identifier': {
        const name = (e as jsep.Identifier).name;
        if (name === 'true' || name === 'false' || name === 'null') return name;
        if (name === 'undefined') return 'null';
        const local = this.locals.get(name);
        if (local !== undefined) {
          this.locals.delete(name);
          try {
            return paren(w(local));
          } finally {
            this.locals.set(name, local);
          }
        }
        throw new NotPlain(`the name "${name}" (only $.<name> inputs are read)`);
      }
      case 'MemberExpression': {
        const path: string[] = [];
        let root: jsep.Expression = e;
        while (root.type === 'MemberExpression') {
          const m = root as jsep.MemberExpression;
          const p = m.property;
          if (!m.computed && p.type === 'Identifier') path.unshift((p as jsep.Identifier).name);
          else if (
            m.computed &&
            p.type === 'Literal' &&
            (typeof (p as jsep.Literal).value === 'string' || typeof (p as jsep.Literal).value === 'number')
          )
            path.unshift(String((p as jsep.Literal).value));
          else throw new NotPlain('a computed property that is not a literal');
          root = m.object;
        }
        const length = path.at(-1) === 'length';
        if (length) path.pop();
        let text: string;
        if (root.type === 'Identifier' && (root as jsep.Identifier).name === '$') {
          const r = this.dollar(path);
          if (r === null) throw new NotPlain(`$.${path.join('.')} names no input of the task`);
          text = r;
        } else {
          const base = w(root);
          text = path.length === 0 ? base : `${base}.${path.join('.')}`;
          if (path.length > 0 && !/^\(?\$\{[^}]*\}\)?$/.test(base))
            throw new NotPlain('a property of something that is not an input');
          if (path.length > 0) text = `\${${base.replace(/^\(?\$\{|\}\)?$/g, '')}.${path.join('.')}}`;
        }
        return length ? `len(${text})` : text;
      }
      case 'UnaryExpression': {
        const u = e as jsep.UnaryExpression;
        if (u.operator === '!' || u.operator === '-') return `${u.operator}(${w(u.argument)})`;
        throw new NotPlain(`the operator "${u.operator}"`);
      }
      case 'BinaryExpression': {
        const b = e as jsep.BinaryExpression;
        const idx = indexOfTest(b);
        if (idx) {
          const callee = idx.call.callee as jsep.MemberExpression;
          if (idx.call.arguments.length !== 1) throw new NotPlain('indexOf with more than one argument');
          const text = `contains(${w(callee.object)}, ${w(idx.call.arguments[0]!)})`;
          return idx.negate ? `!${text}` : text;
        }
        if (!OPS.has(b.operator)) throw new NotPlain(`the operator "${b.operator}"`);
        return `(${w(b.left)} ${b.operator} ${w(b.right)})`;
      }
      case 'ConditionalExpression': {
        const c = e as jsep.ConditionalExpression;
        const bool = (n: jsep.Expression) =>
          n.type === 'Literal' && typeof (n as jsep.Literal).value === 'boolean' ? (n as jsep.Literal).value : null;
        // `c ? true : false` (how `if (c) { true; } else { false; }` reads) is c.
        if (bool(c.consequent) === true && bool(c.alternate) === false) return w(c.test);
        if (bool(c.consequent) === false && bool(c.alternate) === true) return `!(${w(c.test)})`;
        return `(${w(c.test)} ? ${w(c.consequent)} : ${w(c.alternate)})`;
      }
      case 'CallExpression': {
        const c = e as jsep.CallExpression;
        if (c.callee.type === 'MemberExpression') {
          const m = c.callee as jsep.MemberExpression;
          const name = m.property.type === 'Identifier' && !m.computed ? (m.property as jsep.Identifier).name : '';
          const fn = METHODS[name];
          if (fn !== undefined) return `${fn}(${[m.object, ...c.arguments].map(w).join(', ')})`;
          throw new NotPlain(`a call of .${name || '[...]'}()`);
        }
        throw new NotPlain('a function call');
      }
      case 'Compound':
        throw new NotPlain('several expressions in one');
      case OBJECT:
        throw new NotPlain('an object where a condition was expected');
      default:
        throw new NotPlain(`a ${e.type}`);
    }
  }
}

/** The value a script gives, and the writer of its parts (with the script's locals), or NotPlain saying what stops it. */
function scriptOf(
  src: string,
  dollar: DollarResolver,
  template: TemplateResolver,
): { value: jsep.Expression; writer: Writer } {
  if (src.length > 10_000) throw new NotPlain('a script longer than 10,000 characters');
  const locals = new Map<string, jsep.Expression>();
  const value = statementsValue(statements(src), locals);
  if (value === null) throw new NotPlain('a script that gives no value');
  return { value, writer: new Writer(dollar, template, locals) };
}

/** The script as a ledgerflow condition expression, or NotPlain saying what stops it. */
export function translateScript(src: string, dollar: DollarResolver, template: TemplateResolver): string {
  const { value, writer } = scriptOf(src, dollar, template);
  return unwrap(writer.write(value));
}

/** `(a == b)` → `a == b`: the outer parentheses only when they enclose the whole text. */
function unwrap(text: string): string {
  if (!text.startsWith('(') || !text.endsWith(')')) return text;
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0 && i < text.length - 1) return text;
  }
  return text.slice(1, -1);
}

/**
 * A SWITCH's script as a condition per case: `c ? 'a' : d ? 'b' : 'c'` gives a: c, b: !(c) && d, c: !(c) && !(d); a
 * comparison gives "true": c and "false": !(c); anything else `(<script>) == "<case>"`.
 */
export function translateCases(
  src: string,
  cases: readonly string[],
  dollar: DollarResolver,
  template: TemplateResolver,
): { conditions: Record<string, string>; expression: string } {
  const { value, writer } = scriptOf(src, dollar, template);
  const expression = unwrap(writer.write(value));
  const found = new Map<string, string[]>();
  const lit = (n: jsep.Expression): string | null =>
    n.type === 'Literal' && (n as jsep.Literal).value !== null && typeof (n as jsep.Literal).value !== 'object'
      ? String((n as jsep.Literal).value)
      : null;
  const negs: string[] = [];
  let e: jsep.Expression = value;
  let chain = true;
  while (e.type === 'ConditionalExpression') {
    const c = e as jsep.ConditionalExpression;
    const test = unwrap(writer.write(c.test));
    const name = lit(c.consequent);
    if (name === null) {
      chain = false;
      break;
    }
    found.set(name, [...(found.get(name) ?? []), negs.length === 0 ? test : [...negs, test].map(paren).join(' && ')]);
    negs.push(`!${paren(test)}`);
    e = c.alternate;
  }
  const last = lit(e);
  if (chain && last !== null && negs.length > 0)
    found.set(last, [...(found.get(last) ?? []), negs.length === 1 ? negs[0]! : negs.join(' && ')]);
  else if (negs.length > 0 || !['BinaryExpression', 'UnaryExpression', 'LogicalExpression'].includes(value.type))
    found.clear();
  else {
    found.set('true', [expression]);
    found.set('false', [`!${paren(expression)}`]);
  }
  const conditions: Record<string, string> = {};
  for (const name of cases) {
    const options = found.get(name);
    conditions[name] =
      options === undefined || found.size === 0
        ? `${paren(expression)} == ${JSON.stringify(name)}`
        : options.length === 1
          ? options[0]!
          : options.map(paren).join(' || ');
  }
  return { conditions, expression };
}

/** The text as an operand: as it is when it is one reference, name, literal or parenthesised whole, else in parentheses. */
const paren = (text: string): string => {
  const bare = text.replace(/^!/, '');
  return /^(\$\{[^{}]*\}|[\w.]+|"[^"]*")$/.test(bare) || (bare.startsWith('(') && unwrap(bare) !== bare)
    ? text
    : `(${text})`;
};

/**
 * The value an INLINE script gives, when it is plain: a reference, a literal, or an object or list of those (a SET can
 * hold it). NotPlain otherwise.
 */
export function translateValue(src: string, dollar: DollarResolver, template: TemplateResolver): unknown {
  const { value, writer } = scriptOf(src, dollar, template);
  const plain = (e: jsep.Expression, depth: number): unknown => {
    if (depth > 20) throw new NotPlain('a value nested too deep');
    if ((e.type as string) === OBJECT) {
      const props = (e as unknown as { properties: { key: string; value: jsep.Expression }[] }).properties;
      return Object.fromEntries(props.map((p) => [p.key, plain(p.value, depth + 1)]));
    }
    if (e.type === 'ArrayExpression')
      return (e as jsep.ArrayExpression).elements.map((x) => (x === null ? null : plain(x, depth + 1)));
    const text = writer.write(e);
    const one = singleValue(text.replace(/^\((.*)\)$/, '$1'));
    if (one === null)
      throw new NotPlain(`the computed value ${text} (a SET holds values and references, not expressions)`);
    return 'ref' in one ? one.ref : one.literal;
  };
  return plain(value, 0);
}

/** True when the text is a plain value: one reference or a literal (what an INLINE may become as a SET). */
function singleValue(expr: string): { ref: string } | { literal: string | number | boolean | null } | null {
  const ref = /^\$\{[^}]*\}$/.exec(expr);
  if (ref) return { ref: expr };
  if (/^".*"$/.test(expr)) {
    try {
      return { literal: JSON.parse(expr) as string };
    } catch {
      return null;
    }
  }
  if (/^-?\d+(\.\d+)?$/.test(expr)) return { literal: Number(expr) };
  if (expr === 'true' || expr === 'false') return { literal: expr === 'true' };
  if (expr === 'null') return { literal: null };
  return null;
}
