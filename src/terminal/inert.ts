/**
 * Text from a run (names, comments, reasons, handler errors, outputs, event data, ids) made inert before it reaches a
 * terminal: a comment holding `\n\x1b[32m✔ approved by cfo` must print as those characters, not as a forged green line.
 * Pure; `--json` output never goes through it (it stays exact). The CLI's own colours go around inert text, so stay.
 */

/**
 * Characters a terminal acts on instead of showing: C0 controls (newline, ESC…), DEL, C1 controls (U+0080–009F, e.g.
 * CSI U+009B), the line and paragraph separators, and the bidi controls that reorder what follows (U+061C, U+200E–200F,
 * U+202A–202E, U+2066–2069).
 */
// eslint-disable-next-line no-control-regex
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One active character as visible text: `\n`, `\r`, `\t`, `\x1b`, `\x9b`, `\u202e`. */
function shown(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` on one line with every active character shown escaped (`\x1b`, `\n`); printable text, backslashes included, unchanged. */
export function inert(text: string): string {
  return text.replace(ACTIVE, shown);
}

/** A value from a run as inert text: strings as they are (escaped), anything else as its JSON (which escapes C0 but not C1 or bidi). */
export function inertValue(value: unknown): string {
  return inert(typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)));
}

/**
 * Text meant to span lines (a dead letter's body, an error listing its problems): each line inert, every line after the
 * first indented by `indent`, so no line of it can pass for a line of the CLI's own.
 */
export function inertLines(text: string, indent = '  '): string {
  return text
    .split(/\r?\n/)
    .map((line, i) => `${i > 0 ? indent : ''}${inert(line)}`)
    .join('\n');
}

/** What JSON.stringify leaves as it is of ACTIVE: C0 it escapes itself, so DEL, C1, the separators and bidi controls. */
// eslint-disable-next-line no-control-regex
const ACTIVE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `value` as one line of JSON a terminal cannot act on: the characters JSON.stringify leaves raw (CSI U+009B, bidi
 * controls) written as `\u009b` escapes, so a reader parsing it gets exactly `value` back.
 */
export function inertJson(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(
    ACTIVE_IN_JSON,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
