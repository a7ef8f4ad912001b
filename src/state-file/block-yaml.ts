/**
 * The state file's YAML for plain data, without the `yaml` package.
 *
 * Why: rendering 66 entries and their worksets with `yaml`'s `stringify` cost ~25–35 ms per write (about 10×
 * JSON.stringify), a large part of what keeping the state file costs the engine (issue 37: ≥ 0.9 of its throughput).
 * The entries are plain data — maps, lists, ids, ISO times, words, numbers — whose YAML is simple to write directly.
 *
 * Contract: for a value in the fast domain, `blockYaml(v)` is EXACTLY
 * `stringify(v, { aliasDuplicateObjects: false, lineWidth: 0 })` of `yaml` 2.9.x (test/state-file/block-yaml.test.ts
 * checks it over random values); for anything else it returns null and the caller uses `stringify`, so the files are
 * byte for byte what they were. The domain: plain objects and arrays to any depth (empty ones as `{}` / `[]`), null,
 * booleans, finite numbers, and strings `yaml` writes plain (see `isPlain`); an object's undefined values are left out
 * and an array's are null, as `yaml` does.
 */

/** Returns the value's YAML, or null when it is outside the fast domain. */
export function blockYaml(value: unknown): string | null {
  if (value === undefined) return null; // yaml returns undefined for it
  const text = node(value, '');
  return text === null ? null : `${text}\n`;
}

/** A value's text at `indent`: its first line without it (the caller writes what precedes it), later lines with it. */
function node(value: unknown, indent: string): string | null {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // yaml writes a finite number as JSON.stringify does, and -0 as `-0`.
      if (!Number.isFinite(value)) return null;
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return isPlain(value) ? value : null;
    case 'object':
      return Array.isArray(value) ? list(value, indent) : isPlainObject(value) ? map(value, indent) : null;
    default:
      return null;
  }
}

function list(items: readonly unknown[], indent: string): string | null {
  if (items.length === 0) return '[]';
  const inner = `${indent}  `;
  let out = '';
  for (let i = 0; i < items.length; i++) {
    // A hole is undefined, which yaml writes as null, like node() does.
    const text = node(items[i], inner);
    if (text === null) return null;
    out += i === 0 ? `- ${text}` : `\n${indent}- ${text}`;
  }
  return out;
}

function map(obj: Record<string, unknown>, indent: string): string | null {
  const inner = `${indent}  `;
  let out = '';
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (value === undefined) continue; // yaml leaves the pair out
    // Longer keys are written as explicit `? key` pairs.
    if (key.length > 1024 || !isPlain(key)) return null;
    const text = node(value, inner);
    if (text === null) return null;
    const nested = typeof value === 'object' && value !== null && text !== '[]' && text !== '{}';
    const pair = nested ? `${key}:\n${inner}${text}` : `${key}: ${text}`;
    out += out === '' ? pair : `\n${indent}${pair}`;
  }
  return out === '' ? '{}' : out;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Strings yaml writes as plain scalars, conservatively: a first character that is no indicator, sign or dot (so no
 * `- `, `? `, `---`, `.5`, `-1`); no tab, newline, control character, lone surrogate or astral character; no
 * U+2028/U+2029 (yaml looks for a `%`, `---` or `...` starting a line with a JavaScript /m regex, whose lines end at
 * them too: `a\u2028%` is quoted); no `: ` or ` #`; no trailing space or colon; and not read back as anything but a
 * string by the core schema (null, booleans, ints, floats: yaml quotes those).
 */
const PLAIN = /^[A-Za-z0-9_/(][ -~\u00a1-\u2027\u202a-\ud7ff\ue000-\ufffd]*$/;
const UNSAFE_INSIDE = /: | #|[ :]$/;
const CORE_NON_STRING =
  /^(?:~|[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE|0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;

function isPlain(s: string): boolean {
  return PLAIN.test(s) && !UNSAFE_INSIDE.test(s) && !CORE_NON_STRING.test(s);
}
