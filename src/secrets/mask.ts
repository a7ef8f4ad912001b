/**
 * Masking an attempt's outcome: every form in which a secret's value is likely to leave a handler, a program or an HTTP
 * request by accident becomes `[secret NAME]` (docs/operations.md#secrets, "Masked on the way out").
 *
 * A value travels encoded more often than as written: a query string carries it URL- or form-encoded (`+` → `%2B`,
 * space → `+`), a Basic header carries `base64(user:secret)`, a JSON text escapes it, a digest prints it in hex, a
 * handler upper-cases it. So each value's forms are worked out once, when the masker is made (once an attempt, for the
 * secrets it names), and every string is scanned against all of them in one pass per kind:
 *
 * - **as written, in any letter case**, URL-encoded (`encodeURIComponent`, `encodeURI`, the form encoding of
 *   `URLSearchParams` with `+` for a space, RFC 3986's strict set), JSON-escaped (as `JSON.stringify` writes it, with
 *   `\/`, with `\uXXXX` for anything not ASCII), hex of its UTF-8 bytes. Matched regardless of case, so a
 *   percent-escape's `%2b` and `%2B`, hex's `ab` and `AB` and an upper-cased value are all found.
 * - **base64 and base64url**, also where the value is a part of what was encoded (`user:secret`, a JSON blob): for each
 *   of the three byte offsets the value can start at, the characters that hold its bits and nothing else are searched,
 *   and the match is widened by the character on each side (which holds some of its bits) and the padding. Base64 is
 *   matched with its case as it is (its case is its content).
 * - **in a URL** (`scheme://…`): each userinfo part, path segment, query or fragment key and value is decoded
 *   (percent-escapes in either case, `+` as a space or not) and a part that is, or holds, a secret is cut whole, so
 *   `?token=prefix-<secret>` and a userinfo's own encoding (which leaves `+` as it is) show nothing of it.
 *
 * A value shorter than MIN_ENCODED_SECRET characters is masked only as written, in its case: its other forms are short
 * enough to turn up in unrelated text. Empty values are not masked (they would be everywhere).
 *
 * What it cannot find: a value split or wrapped across lines (MIME base64 at 76 columns), encoded twice, hashed,
 * encrypted, compressed, or sent one character at a time. Pure: no I/O, nothing kept between calls.
 */

/** Values at least this long are masked in every form above; shorter ones as written only. */
export const MIN_ENCODED_SECRET = 6;

export interface Masker {
  /** A JSON value with every secret's value replaced (new objects; the argument is not changed). */
  value<T>(v: T): T;
  text(s: string): string;
  /** How many values it masks (0: the attempt named no secret). */
  readonly size: number;
}

export const NO_MASK: Masker = { value: (v) => v, text: (s) => s, size: 0 };

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
/** A URL encoder's output, or none: a lone surrogate is URIError, and no encoder can send what it cannot encode. */
const uriForm = (encode: (s: string) => string, v: string): string | undefined => {
  try {
    return encode(v);
  } catch (err) {
    if (err instanceof URIError) return undefined;
    throw err;
  }
};

/** The forms of a value matched regardless of case: as written, URL- and form-encoded, JSON-escaped, hex. */
export function textForms(v: string): string[] {
  const forms = new Set<string>([v]);
  const component = uriForm(encodeURIComponent, v);
  if (component !== undefined) {
    forms.add(component);
    forms.add(component.replace(/%20/g, '+'));
    // RFC 3986's unreserved set (Python's quote, Go's QueryEscape less the space): !'()* escaped too.
    const strict = component.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    forms.add(strict);
    forms.add(strict.replace(/%20/g, '+'));
    forms.add(new URLSearchParams({ v }).toString().slice(2));
  }
  const uri = uriForm(encodeURI, v);
  if (uri !== undefined) forms.add(uri);
  const json = JSON.stringify(v).slice(1, -1);
  forms.add(json);
  forms.add(json.replace(/\//g, '\\/'));
  forms.add(json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  forms.add(hexOf(v));
  return [...forms];
}

/**
 * The base64 (and base64url) runs that hold a value's bits and nothing else, for each byte offset (0, 1, 2) it can
 * start at in what was encoded. Offset 0 with the value alone is its whole encoding less the last character.
 */
export function base64Cores(v: string): string[] {
  const bytes = Buffer.from(v, 'utf8');
  const out = new Set<string>();
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Characters [start, end) of the encoding take all their 6 bits from the value's bytes.
    const core = encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    out.add(core);
    out.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...out];
}

interface Compiled {
  /** One alternative group per secret, longest value first: group i + 1 is names[i]. */
  re: RegExp;
  names: string[];
}

function compile(entries: readonly (readonly [string, readonly string[]])[], flags: string): Compiled | undefined {
  const used = entries.filter(([, forms]) => forms.some((f) => f.length > 0));
  if (used.length === 0) return undefined;
  // Within a secret, longer forms first: an alternation takes the first that matches, not the longest.
  const groups = used.map(
    ([, forms]) =>
      `(${[...forms]
        .filter((f) => f.length > 0)
        .sort((a, b) => b.length - a.length)
        .map(escapeRe)
        .join('|')})`,
  );
  return { re: new RegExp(groups.join('|'), flags), names: used.map(([name]) => name) };
}

/** The name of the group that matched (the replace callback's arguments after the match). */
const groupName = (c: Compiled, groups: readonly unknown[]): string =>
  c.names[groups.findIndex((g) => typeof g === 'string')] ?? c.names[0]!;

const BASE64_CHAR = /[A-Za-z0-9+/_-]/;

/** A masker for these name → value pairs. */
export function masker(values: ReadonlyMap<string, string>): Masker {
  // Longest first: a value that contains another is masked whole.
  const pairs = [...values].filter(([, v]) => v.length > 0).sort((a, b) => b[1].length - a[1].length);
  if (pairs.length === 0) return NO_MASK;
  const long = pairs.filter(([, v]) => v.length >= MIN_ENCODED_SECRET);
  const caseless = compile(
    long.map(([name, v]) => [name, textForms(v)] as const),
    'gi',
  );
  const base64 = compile(
    long.map(([name, v]) => [name, base64Cores(v)] as const),
    'g',
  );
  const exact = compile(
    pairs.filter(([, v]) => v.length < MIN_ENCODED_SECRET).map(([name, v]) => [name, [v]] as const),
    'g',
  );
  const mark = (name: string) => `[secret ${name}]`;

  const replaceAll = (c: Compiled | undefined, s: string): string =>
    c ? s.replace(c.re, (...args) => mark(groupName(c, args.slice(1, c.names.length + 1)))) : s;
  // A base64 match widened by the character each side that carries some of the value's bits, and the padding.
  const replaceBase64 = (s: string): string => {
    if (!base64) return s;
    const re = base64.re;
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    for (let m = re.exec(s); m !== null; m = re.exec(s)) {
      let start = m.index;
      let end = start + m[0].length;
      if (start > last && BASE64_CHAR.test(s[start - 1]!)) start--;
      if (end < s.length && BASE64_CHAR.test(s[end]!)) end++;
      for (let pad = 0; pad < 2 && s[end] === '='; pad++) end++;
      out += s.slice(last, start) + mark(groupName(base64, m.slice(1)));
      last = end;
      re.lastIndex = end;
    }
    return last === 0 ? s : out + s.slice(last);
  };
  // The same patterns without `g`: exec from the start each time, no lastIndex carried between calls.
  const finders = [caseless, base64, exact]
    .filter((c) => c !== undefined)
    .map((c) => ({ ...c, re: new RegExp(c.re.source, c.re.flags.replace('g', '')) }));
  /** The secret a (decoded) piece of text holds in any form, or undefined. */
  const held = (s: string): string | undefined => {
    for (const c of finders) {
      const m = c.re.exec(s);
      if (m) return groupName(c, m.slice(1));
    }
    return undefined;
  };
  const inUrls = (s: string): string =>
    s.includes('://') ? s.replace(URL_IN_TEXT, (url) => maskUrl(url, held, mark)) : s;

  const text = (s: string): string => replaceAll(exact, replaceBase64(replaceAll(caseless, inUrls(s))));
  const value = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(value);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), value(x)]));
    return v;
  };
  return { text, value: value as <T>(v: T) => T, size: pairs.length };
}

/**
 * A URL as it sits in text: a scheme, `://`, and what follows up to a space, a quote or an angle bracket. The scheme
 * starts where no scheme character precedes it: with `\b` a run like `a.a.a.…` was scanned again from each of its
 * characters (100 KB of it took 6 s; a response body is masked too).
 */
const URL_IN_TEXT = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`\\]+/gi;

/** Percent-escapes decoded as UTF-8 (a malformed one kept as it is), `+` as a space when `plus`. */
function decode(s: string, plus: boolean): string {
  const t = plus ? s.replace(/\+/g, ' ') : s;
  return t.replace(/(?:%[0-9a-fA-F]{2})+/g, (m) => Buffer.from(m.replace(/%/g, ''), 'hex').toString('utf8'));
}

/** The URL with each userinfo part, path segment and query or fragment key and value that holds a secret cut whole. */
function maskUrl(url: string, held: (s: string) => string | undefined, mark: (name: string) => string): string {
  // Most URLs hold no secret: one look at the whole (decoded both ways) before any part is.
  if (held(url) === undefined && held(decode(url, false)) === undefined && held(decode(url, true)) === undefined)
    return url;
  const part = (p: string, plus: boolean): string => {
    if (p === '') return p;
    const name = held(p) ?? held(decode(p, false)) ?? (plus ? held(decode(p, true)) : undefined);
    return name === undefined ? p : mark(name);
  };
  // Split at the first `=` (a value may hold more) and at the first `:` of a userinfo (a password may hold more).
  const halves = (s: string, sep: string): [string, string] | [string] =>
    s.includes(sep) ? [s.slice(0, s.indexOf(sep)), s.slice(s.indexOf(sep) + 1)] : [s];
  const pairs = (q: string): string =>
    q
      .split(/([&;])/)
      .map((kv, i) =>
        i % 2 === 1
          ? kv
          : halves(kv, '=')
              .map((x) => part(x, true))
              .join('='),
      )
      .join('');
  const m = /^([^:]+:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(url);
  if (!m) return url;
  const [, scheme, authority = '', path = '', query, fragment] = m;
  const at = authority.lastIndexOf('@');
  const host =
    at < 0
      ? authority
      : `${halves(authority.slice(0, at), ':')
          .map((x) => part(x, false))
          .join(':')}@${authority.slice(at + 1)}`;
  return `${scheme}${host}${path
    .split('/')
    .map((x) => part(x, false))
    .join('/')}${query ? `?${pairs(query.slice(1))}` : ''}${fragment ? `#${pairs(fragment.slice(1))}` : ''}`;
}
