/** docs/security.md's workflow and handlers, read from the page (the tests follow the docs), and the values the tests look for. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const PAGE = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
export const PAYROLL_YAML = /```yaml\n(workflow:[\s\S]*?)```/.exec(PAGE)![1]!;
export const HANDLERS = /```js\n\/\/ handlers\.mjs\n([\s\S]*?)```/.exec(PAGE)![1]!;
export const ROTATE_LINE = /\$ (ledgerflow keys rotate [^\n]*)/.exec(PAGE)![1]!;

/** Distinctive values: the input (and so the output and the handler's error), a signal's data, an approval's comment. */
export const NAME = 'Zephyrine-Quillfeather-7731';
export const SIGNED = 'Signed-By-Obadiah-Thistlewood';
export const COMMENT = 'Comment-Marmaduke-Pennyworth';
export const VALUES = [NAME, SIGNED, COMMENT];

/** Each value as written, and the plain encodings of it an accidental leak would take (hex, base64 at every alignment). */
export function forms(value: string): string[] {
  const out = [value, Buffer.from(value).toString('hex')];
  for (const pad of ['', 'x', 'xy']) {
    const b64 = Buffer.from(pad + value).toString('base64');
    // Drop the characters that hold bits of the padding or of the end: the middle is in any base64 of it.
    out.push(b64.slice(pad.length === 0 ? 0 : 4, b64.length - 4));
  }
  return out;
}

/** Every file under `dir`, as bytes (latin1 text, so any byte sequence is searchable). */
export function everyByte(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ file: p, text: readFileSync(p).toString('latin1') });
    }
  };
  walk(dir);
  return out;
}

/** Which value (and form) `text` holds, or null. */
export function leaked(text: string): string | null {
  for (const v of VALUES) for (const f of forms(v)) if (text.includes(f)) return `${v} (${f})`;
  return null;
}
