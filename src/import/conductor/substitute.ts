/**
 * Conductor resolves the `${...}` references in a script's text (an INLINE's expression, a JSON_JQ_TRANSFORM's
 * queryExpression) before it evaluates it: it pastes each value into the program. The import cannot change a program at
 * run time, so it passes each value as an input instead and rewrites the reference where it stands to read that input,
 * keeping what pasting would have meant: in code, the value itself; inside a string literal, the value's text joined
 * into the string.
 */

/** One reference taken out of a script: the input name it became and the `${...}` it was. */
export interface Substituted {
  name: string;
  ref: string;
}

const REF_AT = /^\$\{([^{}]*)\}/;

/**
 * JavaScript (QuickJS): `"${x}"` alone in its quotes → `$._lf_refN`; `${x}` in code → `($._lf_refN)`; `${x}` inside a
 * longer '…' or "…" string → the string closed, `+ $._lf_refN +`, reopened; inside a `…` template → `${$._lf_refN}`.
 */
export function substituteJs(src: string, first = 1): { text: string; refs: Substituted[] } {
  const refs: Substituted[] = [];
  let out = '';
  let quote = '';
  let i = 0;
  const take = (ref: string): string => {
    const name = `_lf_ref${first + refs.length}`;
    refs.push({ name, ref });
    return name;
  };
  while (i < src.length) {
    const c = src[i]!;
    const m = c === '$' ? REF_AT.exec(src.slice(i)) : null;
    if (m) {
      const ref = m[0];
      i += ref.length;
      if (quote === '') out += `($.${take(ref)})`;
      else if (quote === '`') out += `\${$.${take(ref)}}`;
      else if (out.endsWith(quote) && src[i] === quote && !out.endsWith(`\\${quote}`)) {
        // The whole literal is the reference: its value (Conductor pastes its text between the quotes).
        out = `${out.slice(0, -1)}$.${take(ref)}`;
        i++;
        quote = '';
      } else out += `${quote} + $.${take(ref)} + ${quote}`;
      continue;
    }
    if (quote !== '') {
      if (c === '\\') {
        out += src.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const stop = end === -1 ? src.length : end;
      out += src.slice(i, stop).replace(/\$\{/g, '$ {');
      i = stop;
      continue;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/\$\{/g, '$ {');
      i = stop;
      continue;
    }
    out += c;
    i++;
  }
  return { text: out, refs };
}

/**
 * jq: each reference becomes the variable `$_lf_refN`, bound from the input field `_lf_refN` before the program runs
 * (and that field removed, so `.` is what Conductor gave jq): `${x}` in code → `$_lf_refN` (`.${x}`, a key pasted
 * after a dot, → `.[$_lf_refN]`); inside a "…" string → `\($_lf_refN)`, the value's text.
 */
export function substituteJq(src: string): { text: string; refs: Substituted[] } {
  const refs: Substituted[] = [];
  let body = '';
  let inString = false;
  let i = 0;
  const take = (ref: string): string => {
    const name = `_lf_ref${refs.length + 1}`;
    refs.push({ name, ref });
    return name;
  };
  while (i < src.length) {
    const c = src[i]!;
    const m = c === '$' ? REF_AT.exec(src.slice(i)) : null;
    if (m) {
      i += m[0].length;
      const name = take(m[0]);
      if (inString) body += `\\($${name})`;
      else if (body.endsWith('.') && !body.endsWith('..')) body += `[$${name}]`;
      else body += `$${name}`;
      continue;
    }
    if (inString && c === '\\') {
      body += src.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') inString = !inString;
    else if (!inString && c === '#') {
      const end = src.indexOf('\n', i);
      const stop = end === -1 ? src.length : end;
      body += src.slice(i, stop).replace(/\$\{/g, '$ {');
      i = stop;
      continue;
    }
    body += c;
    i++;
  }
  if (refs.length === 0) return { text: src, refs };
  const bind = refs.map((r) => `.${r.name} as $${r.name} | `).join('');
  const drop = `del(${refs.map((r) => `.${r.name}`).join(', ')}) | `;
  return { text: `${bind}${drop}${body}`, refs };
}
