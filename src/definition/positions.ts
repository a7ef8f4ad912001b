/** Source positions: a path into the raw document → line:col, and blanking the banner some put above `workflow:`. */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type LineCounter,
  type Node,
} from 'yaml';

export interface Position {
  line: number;
  col: number;
}

/**
 * Blanks every non-comment line above the first `workflow:` line (the real example starts with box-drawing art that is
 * not YAML). Lines above it that are YAML (keys holding anchors the workflow's aliases use, a `---`) are kept: blanking
 * them made `*name` an unknown alias with its `&name` in plain sight. Lines are kept, so positions stay those of the
 * file. Returns null when there is no such line.
 */
export function stripBanner(text: string): string | null {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^workflow:\s*(#.*)?$/.test(l));
  if (start < 0) return null;
  if (start > 0 && isYamlMap(lines.slice(0, start).join('\n'))) return lines.join('\n');
  for (let i = 0; i < start; i++) {
    if (!/^\s*(#.*)?$/.test(lines[i]!)) lines[i] = '';
  }
  return lines.join('\n');
}

/** Whether text parses as YAML with nothing in it but a map (or nothing at all): what may stand above `workflow:`. */
function isYamlMap(text: string): boolean {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return false;
  const top = doc.contents;
  return top === null || isMap(top) || (isScalar(top) && top.value === null);
}

/** The lines stripBanner blanked, as they were (to say where an anchor went). */
export function blankedBanner(text: string, source: string): string {
  const before = text.split(/\r?\n/);
  return source
    .split('\n')
    .flatMap((l, i) => (l === '' && before[i] ? [before[i]] : []))
    .join('\n');
}

interface Found {
  node: Node | null;
  /** The key node of the last map entry walked into, for diagnostics about the key itself. */
  key: Node | null;
  /** True when the whole path was found. */
  exact: boolean;
}

function find(doc: Document, path: readonly (string | number)[]): Found {
  let node = doc.contents as Node | null;
  let key: Node | null = null;
  for (const seg of path) {
    if (node && isAlias(node)) node = (node.resolve(doc) as Node | undefined) ?? node;
    let next: Node | null | undefined;
    if (node && isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg),
      );
      if (pair) {
        key = (pair.key as Node | null) ?? null;
        // `key:` with nothing after it has a null value node: fall back to the key.
        next = (pair.value as Node | null) ?? key;
      }
    } else if (node && isSeq(node) && typeof seg === 'number') {
      next = node.items[seg] as Node | undefined;
      key = null;
    }
    if (!next) return { node, key, exact: false };
    node = next;
  }
  return { node, key, exact: true };
}

export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    private readonly text: string,
  ) {}

  private at(offset: number): Position {
    const p = this.lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  }

  /**
   * Where a path is in the source: its node, or the nearest existing ancestor when the path is missing (e.g. a required
   * key that is not there). With `onKey`, the key of the last map entry (for unknown or duplicate keys). With
   * `inString`, the offset of a character inside a one-line scalar.
   */
  locate(path: readonly (string | number)[], opts: { onKey?: boolean; inString?: number } = {}): Position {
    const found = find(this.doc, path);
    if (opts.onKey && found.exact && found.key?.range) return this.at(found.key.range[0]);
    const node = found.node;
    if (!node?.range) return { line: 1, col: 1 };
    const [start, valueEnd] = node.range;
    if (opts.inString !== undefined && found.exact && isScalar(node)) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      const source = this.text.slice(start, valueEnd);
      // Escapes or folded lines would shift columns: only point inside strings we can map exactly.
      const exact = node.type === 'PLAIN' ? !source.includes('\n') : quoted && !/[\\\n]|''/.test(source);
      if (exact) {
        return this.at(start + (quoted ? 1 : 0) + opts.inString);
      }
    }
    return this.at(start);
  }
}
