/** Where a path is in a definition's text (for checks made outside parseDefinition, e.g. against other files). */
import { LineCounter, parseDocument } from 'yaml';
import { MAX_ALIAS_COUNT } from './aliases.js';
import { Locator, stripBanner, type Position } from './positions.js';

/** A document parsed once, for many questions: its plain tree (null when it has none) and where a path of it is. */
export interface SourceDocument {
  readonly raw: unknown;
  locate(path: readonly (string | number)[], opts?: { onKey?: boolean; inString?: number }): Position;
}

/** The text parsed once (positionIn parses it at each call); null when there is no `workflow:` line to read. */
export function sourceDocument(text: string): SourceDocument | null {
  const source = stripBanner(text.startsWith('\uFEFF') ? text.slice(1) : text);
  if (source === null) return null;
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, prettyErrors: false, merge: true });
  const locator = new Locator(doc, lineCounter, source);
  let raw: unknown;
  let made = false;
  return {
    // Made on first use: positionIn asks only for positions. A document that does not parse has no tree to walk (its
    // positions still answer: the nearest node found); its aliases were bounded when it was validated (parseDefinition
    // refuses more), so the same bound holds here.
    get raw() {
      if (!made) raw = doc.errors.length > 0 ? null : doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      made = true;
      return raw;
    },
    locate: (path, opts = {}) => locator.locate(path, opts),
  };
}

export function positionIn(text: string, path: readonly (string | number)[], opts: { onKey?: boolean } = {}): Position {
  return sourceDocument(text)?.locate(path, opts) ?? { line: 1, col: 1 };
}
