/** Where a path is in a definition's text (for checks made outside parseDefinition, e.g. against other files). */
import { LineCounter, parseDocument } from 'yaml';
import { Locator, stripBanner, type Position } from './positions.js';

export function positionIn(text: string, path: readonly (string | number)[], opts: { onKey?: boolean } = {}): Position {
  const source = stripBanner(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (source === null) return { line: 1, col: 1 };
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, merge: true });
  return new Locator(doc, lineCounter, source).locate(path, opts);
}
