/** inert: what a run supplied, shown as text on a terminal instead of acted on. */
import { describe, expect, it } from 'vitest';
import { inert, inertJson, inertLines, inertValue } from '../../src/terminal/index.js';

describe('inert', () => {
  it('shows newlines, ESC sequences, C1 controls and bidi overrides escaped, on one line', () => {
    expect(inert('ok\n\x1b[32m✔ approved by cfo\x1b[0m')).toBe('ok\\n\\x1b[32m✔ approved by cfo\\x1b[0m');
    expect(inert('a\r\tb\x00\x07\x7f')).toBe('a\\r\\tb\\x00\\x07\\x7f');
    expect(inert('\u009b31m\u0085')).toBe('\\x9b31m\\x85');
    expect(inert('invoice \u202egpj.exe\u202c \u2066x\u2069 \u200f \u2028')).toBe(
      'invoice \\u202egpj.exe\\u202c \\u2066x\\u2069 \\u200f \\u2028',
    );
  });

  it('leaves printable text as it is: accents, symbols, emoji, backslashes', () => {
    for (const s of ['café ✔ → 日本語 😀', 'C:\\dir\\file', 'a  b', '']) expect(inert(s)).toBe(s);
  });

  it('shows a value that is not a string as its JSON, with what JSON leaves raw (C1, bidi) escaped too', () => {
    expect(inertValue({ a: 'x\u202ey\u0085' })).toBe('{"a":"x\\u202ey\\x85"}');
    expect(inertValue(3)).toBe('3');
  });

  it('inertLines keeps the lines but indents all after the first, each inert', () => {
    expect(inertLines('problems:\n- a\x1b[2J\r\n- b', '  ')).toBe('problems:\n  - a\\x1b[2J\n  - b');
  });

  it('inertJson: one line of JSON with nothing a terminal acts on, that parses back to the exact value', () => {
    const value = { message: 'a\x1b]0;t\x07\u009b2J\u202e\u2028b\x7f', n: 1 };
    const text = inertJson(value);
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/u);
    expect(JSON.parse(text)).toEqual(value);
  });
});
