/**
 * Conditions: jsep parses, then the tree is checked against a whitelist and turned into a small JSON AST that
 * evaluate.ts walks. Nothing is ever run through eval or new Function, and jsep's global operator tables are left
 * untouched (other modules may use jsep too).
 */
import jsep from 'jsep';
import { ExpressionError } from '../errors/index.js';
import { FORBIDDEN_KEYS, findRefs, refFromSegments, type Ref } from './refs.js';

export const FUNCTIONS = ['len', 'contains', 'lower', 'upper', 'startsWith', 'endsWith'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];
const ARITY: Record<FunctionName, number> = { len: 1, contains: 2, lower: 1, upper: 1, startsWith: 2, endsWith: 2 };

export const BINARY_OPS = ['==', '!=', '===', '!==', '<', '<=', '>', '>=', '+', '-', '*', '/', '%'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

export type Node =
  | { t: 'lit'; v: string | number | boolean | null }
  | { t: 'ref'; ref: Ref }
  | { t: 'get'; obj: Node; key: string }
  | { t: 'arr'; items: Node[] }
  | { t: 'not' | 'neg'; arg: Node }
  | { t: 'bin'; op: BinaryOp; l: Node; r: Node }
  | { t: 'and' | 'or'; l: Node; r: Node }
  | { t: 'if'; test: Node; then: Node; else: Node }
  | { t: 'call'; fn: FunctionName; args: Node[] };

/** A parsed, checked condition: plain JSON, safe to cache or record. */
export interface CompiledCondition {
  text: string;
  ast: Node;
  refs: Ref[];
}

type J = jsep.Expression;
const PLACEHOLDER = /^\$(\d+)_*$/;

class Compiler {
  readonly refs: Ref[] = [];
  constructor(
    private readonly text: string,
    private readonly placeholders: Ref[],
  ) {}

  fail(problem: string, column: number): never {
    throw new ExpressionError(`${problem} at column ${column} in condition "${this.text}"`, {
      text: this.text,
      column,
      reason: problem,
    });
  }

  /** jsep nodes carry no positions: find the token in the text for the message (best effort). */
  columnOf(token: string): number {
    const esc = token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const m = new RegExp(/^\w/.test(token) ? `(?<![\\w$])${esc}(?![\\w$])` : esc).exec(this.text);
    return m ? m.index + 1 : 1;
  }

  node(e: J): Node {
    switch (e.type) {
      case 'Literal': {
        const v = (e as jsep.Literal).value;
        if (v instanceof RegExp) this.fail('regular expressions are not supported', 1);
        return { t: 'lit', v };
      }
      case 'Identifier':
      case 'MemberExpression':
        return this.chain(e);
      case 'ArrayExpression':
        return {
          t: 'arr',
          items: (e as jsep.ArrayExpression).elements.map((x) => (x ? this.node(x) : { t: 'lit', v: null })),
        };
      case 'UnaryExpression': {
        const u = e as jsep.UnaryExpression;
        if (u.operator === '!') return { t: 'not', arg: this.node(u.argument) };
        if (u.operator === '-') return { t: 'neg', arg: this.node(u.argument) };
        return this.fail(`operator "${u.operator}" is not supported (use ! or -)`, this.columnOf(u.operator));
      }
      case 'BinaryExpression': {
        const b = e as jsep.BinaryExpression;
        if (b.operator === '&&') return { t: 'and', l: this.node(b.left), r: this.node(b.right) };
        if (b.operator === '||') return { t: 'or', l: this.node(b.left), r: this.node(b.right) };
        if (!(BINARY_OPS as readonly string[]).includes(b.operator)) {
          const hint = b.operator === '|' ? '; use || for "or"' : b.operator === '&' ? '; use && for "and"' : '';
          return this.fail(`operator "${b.operator}" is not supported${hint}`, this.columnOf(b.operator));
        }
        return { t: 'bin', op: b.operator as BinaryOp, l: this.node(b.left), r: this.node(b.right) };
      }
      case 'ConditionalExpression': {
        const c = e as jsep.ConditionalExpression;
        // biome-ignore lint/suspicious/noThenProperty: an if-node's branches are then and else; nothing awaits it
        return { t: 'if', test: this.node(c.test), then: this.node(c.consequent), else: this.node(c.alternate) };
      }
      case 'CallExpression': {
        const c = e as jsep.CallExpression;
        const name = c.callee.type === 'Identifier' ? (c.callee as jsep.Identifier).name : '';
        if (!(FUNCTIONS as readonly string[]).includes(name)) {
          return this.fail(
            `only these functions can be called: ${FUNCTIONS.join(', ')}`,
            name ? this.columnOf(name) : 1,
          );
        }
        const fn = name as FunctionName;
        if (c.arguments.length !== ARITY[fn]) {
          this.fail(
            `${fn}() takes ${ARITY[fn]} argument${ARITY[fn] === 1 ? '' : 's'}, got ${c.arguments.length}`,
            this.columnOf(fn),
          );
        }
        return { t: 'call', fn, args: c.arguments.map((a) => this.node(a)) };
      }
      case 'ThisExpression':
        return this.fail('"this" is not available', this.columnOf('this'));
      default:
        return this.fail(`${e.type} is not supported in conditions`, 1);
    }
  }

  /** `a.b[0].c`: a reference when rooted at a bare name, else property reads on a value. */
  chain(e: J): Node {
    const keys: string[] = [];
    let root = e;
    while (root.type === 'MemberExpression') {
      const m = root as jsep.MemberExpression;
      keys.unshift(this.key(m));
      root = m.object;
    }
    for (const k of keys) if (FORBIDDEN_KEYS.has(k)) this.fail(`property "${k}" is not allowed`, this.columnOf(k));
    if (root.type === 'Identifier') {
      const name = (root as jsep.Identifier).name;
      const ph = PLACEHOLDER.exec(name);
      if (ph && Number(ph[1]) < this.placeholders.length) {
        const ref = this.placeholders[Number(ph[1])]!;
        this.refs.push(ref);
        return keys.reduce<Node>((obj, key) => ({ t: 'get', obj, key }), { t: 'ref', ref });
      }
      const ref = refFromSegments([name, ...keys]);
      if (typeof ref === 'string') return this.fail(ref, this.columnOf(name));
      this.refs.push(ref);
      return { t: 'ref', ref };
    }
    return keys.reduce<Node>((obj, key) => ({ t: 'get', obj, key }), this.node(root));
  }

  key(m: jsep.MemberExpression): string {
    const p = m.property;
    if (!m.computed && p.type === 'Identifier') return (p as jsep.Identifier).name;
    if (m.computed && p.type === 'Literal') {
      const v = (p as jsep.Literal).value;
      if (typeof v === 'string' || typeof v === 'number') return String(v);
    }
    return this.fail(
      'a computed property must be a literal, e.g. x.output.items[0] or x.output["a b"]',
      this.columnOf('['),
    );
  }
}

function jsepError(text: string, err: unknown): never {
  const e = err as { index?: number; description?: string; message?: string };
  const index = typeof e.index === 'number' ? e.index : 0;
  const desc = e.description ?? e.message ?? String(err);
  const problem = desc.charAt(0).toLowerCase() + desc.slice(1);
  let hint = '';
  if (text[index] === '=' && text[index + 1] !== '=') hint = '; use == to compare';
  const column = index + 1;
  throw new ExpressionError(`${problem} at column ${column} in condition "${text}"${hint}`, {
    text,
    column,
    reason: problem,
  });
}

/** jsep reads `a b` as two expressions (Compound): find where the second one starts. */
function compoundColumn(masked: string): number {
  if (masked.length > 500) return 1;
  for (let i = masked.length - 1; i > 0; i--) {
    try {
      if (jsep(masked.slice(0, i)).type !== 'Compound') {
        const rest = masked.slice(i).search(/\S/);
        return i + Math.max(rest, 0) + 1;
      }
    } catch {
      // not a complete expression yet: keep shortening
    }
  }
  return 1;
}

/** Parses and checks a condition once; evaluateCondition can then run it many times. */
export function parseCondition(text: string): CompiledCondition {
  const occurrences = findRefs(text, 'condition');
  // `${...}` becomes an identifier of the same length, so jsep's columns stay those of the text.
  let masked = '';
  let last = 0;
  occurrences.forEach((o, i) => {
    const id = `$${i}`;
    masked += text.slice(last, o.offset) + id + '_'.repeat(Math.max(0, o.text.length - id.length));
    last = o.offset + o.text.length;
  });
  masked += text.slice(last);
  let tree: J;
  try {
    tree = jsep(masked);
  } catch (err) {
    jsepError(text, err);
  }
  if (tree.type === 'Compound') {
    const body = (tree as jsep.Compound).body;
    if (body.length === 0) {
      throw new ExpressionError(`empty condition`, { text, column: 1, reason: 'empty condition' });
    }
    const column = compoundColumn(masked);
    const next = text.slice(column - 1).match(/^[\w$]+|^\S/)?.[0] ?? '';
    const hint =
      next === 'in' ? 'use contains(list, value) for membership' : 'expected an operator such as ==, && or ||';
    throw new ExpressionError(`unexpected "${next}" at column ${column} in condition "${text}"; ${hint}`, {
      text,
      column,
      reason: `unexpected "${next}"`,
    });
  }
  const compiler = new Compiler(
    text,
    occurrences.map((o) => o.ref),
  );
  const ast = compiler.node(tree);
  return { text, ast, refs: compiler.refs };
}

/** References a condition reads, for validation. */
export function conditionRefs(text: string): Ref[] {
  return parseCondition(text).refs;
}
