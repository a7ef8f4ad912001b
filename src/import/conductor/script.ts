/**
 * Conductor's JavaScript (SWITCH/DECISION expressions, DO_WHILE conditions, INLINE scripts) translated into
 * ledgerflow's condition language when it is a plain comparison: never run. A small tokenizer reads the statement forms
 * Conductor workflows wrap an expression in (`if (c) { true; } else { false; }`, `(function () { return c; })()`,
 * `function f() { return c; } f();`), jsep parses each expression, and only whitelisted nodes are written out. Anything
 * else is refused with the reason.
 */
import jsep from 'jsep';

/** Why a script is not a plain comparison: the importer names it per task. */
export class NotPlain extends Error {}

/** Turns `$.a.b` (the path after `$`) into ledgerflow text (`${a.output.b}`), or null when it names nothing known. */
export type DollarResolver = (path: string[]) => string | null;
/** Turns a string literal that is exactly one `${...}` (Conductor substitutes those before it runs the script) into ledgerflow text. */
export type TemplateResolver = (template: string) => string | null;

interface Tok {
  kind: 'id' | 'num' | 'str' | 'punct';
  text: string;
  start: number;
  end: number;
}

const PUNCT = [
  '===',
  '!==',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '=>',
  '!',
  '(',
  ')',
  '{',
  '}',
  '[',
  ']',
  ';',
  ',',
  '.',
  '?',
  ':',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '=',
];

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (src.startsWith('//', i)) {
      const n = src.indexOf('\n', i);
      i = n < 0 ? src.length : n;
      continue;
    }
    if (src.startsWith('/*', i)) {
      const n = src.indexOf('*/', i + 2);
      if (n < 0) throw new NotPlain('an unclosed comment');
      i = n + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') j++;
        j++;
      }
      if (j >= src.length) throw new NotPlain('an unclosed string');
      toks.push({ kind: 'str', text: src.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    if (c === '`') throw new NotPlain('a template literal (`...`)');
    const id = /^[A-Za-z_$][\w$]*/.exec(src.slice(i));
    if (id) {
      toks.push({ kind: 'id', text: id[0], start: i, end: i + id[0].length });
      i += id[0].length;
      continue;
    }
    const num = /^\d+(\.\d+)?/.exec(src.slice(i));
    if (num) {
      toks.push({ kind: 'num', text: num[0], start: i, end: i + num[0].length });
      i += num[0].length;
      continue;
    }
    const p = PUNCT.find((q) => src.startsWith(q, i));
    if (!p) throw new NotPlain(`the character "${c}"`);
    toks.push({ kind: 'punct', text: p, start: i, end: i + p.length });
    i += p.length;
  }
  return toks;
}

/** A statement of the subset: what its value is, as a jsep tree. */
type Stmt =
  | { s: 'expr'; e: jsep.Expression }
  | { s: 'return'; e: jsep.Expression }
  | { s: 'if'; test: jsep.Expression; then: Stmt[]; else: Stmt[] | null }
  | { s: 'var'; name: string; e: jsep.Expression };

class Reader {
  i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}
  peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  is(text: string, o = 0): boolean {
    return this.peek(o)?.text === text;
  }
  /** Each of `texts` in turn, or NotPlain naming the first that is not there. */
  eat(...texts: string[]): void {
    for (const text of texts) {
      if (!this.is(text)) throw new NotPlain(`"${this.peek()?.text ?? 'the end'}" where "${text}" was expected`);
      this.i++;
    }
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }

  /** Tokens up to a `;`, `}` (or `)` / `,` when asked) at depth 0, parsed with jsep; an object literal read here. */
  expr(stopAtParen = false, stopAtComma = false): jsep.Expression {
    if (this.is('{') || (this.is('(') && this.is('{', 1))) {
      const paren = this.is('(');
      if (paren) this.i++;
      const obj = this.object();
      if (paren) this.eat(')');
      return obj;
    }
    const from = this.i;
    let depth = 0;
    while (!this.done()) {
      const t = this.peek()!.text;
      if (depth === 0 && (t === ';' || t === '}' || (stopAtParen && t === ')') || (stopAtComma && t === ','))) break;
      if (t === '(' || t === '[' || t === '{') depth++;
      if (t === ')' || t === ']' || t === '}') depth--;
      if (t === '=' || t === '=>') throw new NotPlain(t === '=' ? 'an assignment' : 'an arrow function');
      if (t === 'function') throw new NotPlain('a function inside an expression');
      if (t === 'new') throw new NotPlain('a "new" expression (new Date() and the like)');
      if (t === '{') throw new NotPlain('an object inside an expression');
      this.i++;
    }
    if (this.i === from) throw new NotPlain('an empty expression');
    const text = this.src.slice(this.toks[from]!.start, this.toks[this.i - 1]!.end);
    try {
      return jsep(text);
    } catch (err) {
      throw new NotPlain(`an expression jsep cannot read (${(err as Error).message})`);
    }
  }

  /** `{ key: value, ... }` whose values are expressions or objects. */
  object(): jsep.Expression {
    this.eat('{');
    const properties: { key: string; value: jsep.Expression }[] = [];
    while (!this.is('}')) {
      const k = this.peek();
      if (k === undefined || (k.kind !== 'id' && k.kind !== 'str'))
        throw new NotPlain('an object whose keys are not plain names');
      this.i++;
      this.eat(':');
      const key =
        k.kind === 'str'
          ? (JSON.parse(k.text.startsWith("'") ? `"${k.text.slice(1, -1).replace(/"/g, '\\"')}"` : k.text) as string)
          : k.text;
      properties.push({ key, value: this.expr(false, true) });
      if (this.is(',')) this.i++;
      else if (!this.is('}')) throw new NotPlain(`"${this.peek()?.text ?? 'the end'}" in an object`);
    }
    this.eat('}');
    return { type: OBJECT, properties } as unknown as jsep.Expression;
  }

  block(): Stmt[] {
    if (!this.is('{')) return [this.stmt()];
    this.eat('{');
    const out: Stmt[] = [];
    while (!this.is('}')) {
      if (this.done()) throw new NotPlain('an unclosed block');
      out.push(this.stmt());
    }
    this.eat('}');
    return out;
  }

  stmt(): Stmt {
    const t = this.peek()!;
    if (t.text === ';') {
      this.i++;
      return this.stmt();
    }
    if (t.text === 'if') {
      this.i++;
      this.eat('(');
      const test = this.expr(true);
      this.eat(')');
      const then = this.block();
      let other: Stmt[] | null = null;
      if (this.is('else')) {
        this.i++;
        other = this.block();
      }
      return { s: 'if', test, then, else: other };
    }
    if (t.text === 'return') {
      this.i++;
      const e = this.expr();
      this.semi();
      return { s: 'return', e };
    }
    if (t.text === 'var' || t.text === 'let' || t.text === 'const') {
      this.i++;
      const name = this.peek();
      if (name?.kind !== 'id') throw new NotPlain('a declaration that is not `var name = value`');
      this.i++;
      this.eat('=');
      const e = this.expr();
      this.semi();
      return { s: 'var', name: name.text, e };
    }
    if (['for', 'while', 'do', 'switch', 'try', 'throw', 'function', 'class', 'new'].includes(t.text))
      throw new NotPlain(`a "${t.text}" statement`);
    const e = this.expr();
    this.semi();
    return { s: 'expr', e };
  }

  semi(): void {
    while (this.is(';')) this.i++;
  }
}

/** The statements of a script, unwrapped from a function it calls at once. */
export function statements(src: string): Stmt[] {
  const toks = tokenize(src);
  const r = new Reader(src, toks);
  const fnBody = (): Stmt[] => {
    r.eat('function');
    if (r.peek()?.kind === 'id') r.i++;
    r.eat('(', ')');
    return r.block();
  };
  // (function [name]() { ... })()  and  (function [name]() { ... }())
  if (r.is('(') && r.is('function', 1)) {
    r.eat('(');
    const body = fnBody();
    if (r.is('(')) r.eat('(', ')', ')');
    else r.eat(')', '(', ')');
    r.semi();
    if (!r.done()) throw new NotPlain('statements after the function call');
    return body;
  }
  // function name() { ... } name();
  if (r.is('function')) {
    const name = r.peek(1)?.text;
    const body = fnBody();
    if (name === undefined || !r.is(name)) throw new NotPlain('a function that is not called at once');
    r.i++;
    r.eat('(', ')');
    r.semi();
    if (!r.done()) throw new NotPlain('statements after the function call');
    return body;
  }
  const out: Stmt[] = [];
  while (!r.done()) out.push(r.stmt());
  return out;
}

const COND: jsep.Expression['type'] = 'ConditionalExpression';
export const OBJECT = 'ObjectLiteral';

/** The value a list of statements gives (its `return`, or its last expression as Nashorn/GraalJS report it). */
export function statementsValue(stmts: Stmt[], locals: Map<string, jsep.Expression>): jsep.Expression | null {
  for (let k = 0; k < stmts.length; k++) {
    const st = stmts[k]!;
    const last = k === stmts.length - 1;
    if (st.s === 'var') {
      locals.set(st.name, st.e);
      continue;
    }
    if (st.s === 'return') return st.e;
    if (st.s === 'expr') {
      if (last) return st.e;
      throw new NotPlain('an expression statement that is not the last');
    }
    const then = statementsValue(st.then, new Map(locals));
    const rest =
      st.else !== null ? statementsValue(st.else, new Map(locals)) : statementsValue(stmts.slice(k + 1), locals);
    if (then === null || rest === null) throw new NotPlain('an if whose branches give no value');
    return { type: COND, test: st.test, consequent: then, alternate: rest } as jsep.ConditionalExpression;
  }
  return null;
}
