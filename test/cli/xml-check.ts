/**
 * Well-formed XML, checked without a parser package: one declaration at the start, one root element, every tag closed
 * in order, attributes quoted and unique, character data and attribute values free of a bare `<` or `&` (only the five
 * predefined entities and character references), and no character XML 1.0 forbids.
 */
import { expect } from 'vitest';

const NAME = '[A-Za-z_:][-A-Za-z0-9_.:]*';
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;

function checkText(text: string, where: string): void {
  const bare = text.replace(ENTITY, '');
  if (/[<&]/.test(bare)) throw new Error(`${where}: a bare < or & in ${JSON.stringify(text.slice(0, 80))}`);
}

export function expectWellFormedXml(xml: string): void {
  expect(xml, 'a character XML 1.0 forbids').not.toMatch(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u);
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>\n?/, '');
  expect(body.length, 'the XML declaration first').toBeLessThan(xml.length);
  const stack: string[] = [];
  let roots = 0;
  let at = 0;
  const tag = new RegExp(`<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"]*")*)\\s*(/?)>`, 'y');
  while (at < body.length) {
    const next = body.indexOf('<', at);
    const text = body.slice(at, next < 0 ? body.length : next);
    if (stack.length === 0 && text.trim() !== '')
      throw new Error(`text outside the root element: ${text.slice(0, 40)}`);
    checkText(text, `text at ${at}`);
    if (next < 0) break;
    tag.lastIndex = next;
    const m = tag.exec(body);
    if (!m) throw new Error(`not a tag at ${next}: ${JSON.stringify(body.slice(next, next + 60))}`);
    const [, closing, name, attrs, selfClosing] = m;
    const names = [...attrs!.matchAll(new RegExp(`(${NAME})\\s*=\\s*"([^"]*)"`, 'g'))].map((a) => {
      checkText(a[2]!, `attribute ${a[1]} of <${name}>`);
      return a[1];
    });
    if (new Set(names).size !== names.length) throw new Error(`<${name}> repeats an attribute`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name!);
    }
    at = tag.lastIndex;
  }
  expect(stack, 'elements left open').toEqual([]);
  expect(roots, 'one root element').toBe(1);
}
