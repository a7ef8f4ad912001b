/**
 * Completion from the definition language's JSON Schema (`ledgerflow schema`, GET /api/schema) for the YAML being
 * typed: the keys above the cursor (by indentation, `- ` items as array steps) name the schema node the cursor is in;
 * it offers that node's property names, and for a value, its enum (a task's `type:` also from its pattern's
 * alternatives). Plain code, no editor in it: the tests give it lines and a schema.
 */

/** The part of a JSON Schema node this reads. */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode | boolean;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  allOf?: SchemaNode[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  description?: string;
}

export interface SchemaOption {
  label: string;
  detail?: string;
  kind: 'key' | 'value';
}

/** What the cursor is on: a key to write (`prefix` typed so far) or the value of `key`. */
export type CursorPlace =
  | { at: 'key'; path: string[]; prefix: string }
  | { at: 'value'; path: string[]; key: string; prefix: string };

const ITEM = '[]';

/**
 * The keys leading to the cursor. `lines` are the document's lines up to and including the cursor's line, `column` the
 * cursor's offset in the last one.
 */
export function cursorPlace(lines: string[], column: number): CursorPlace | null {
  const current = lines.at(-1)!.slice(0, column);
  const m = /^(\s*)(- +)?(.*)$/.exec(current)!;
  let indent = m[1]!.length + (m[2]?.length ?? 0);
  const rest = m[3]!;
  const path: string[] = [];
  // The current line's own `- `: the cursor is in a new item of the list above.
  if (m[2]) path.unshift(ITEM);
  for (let i = lines.length - 2; i >= 0 && indent > 0; i--) {
    const l = /^(\s*)(- +)?([A-Za-z0-9_$-]+)\s*:(.*)$/.exec(lines[i]!);
    if (!l) continue;
    const own = l[1]!.length;
    const keyIndent = own + (l[2]?.length ?? 0);
    const opens = /^\s*(#.*)?$/.test(l[4]!); // `key:` with its value on the lines below
    if (keyIndent < indent && opens) {
      path.unshift(l[3]!);
      if (l[2]) path.unshift(ITEM);
      indent = own;
    } else if (l[2] && keyIndent <= indent && own < indent) {
      // A sibling key of the same list item (`- id: x` above `  type:`): the item is the parent.
      path.unshift(ITEM);
      indent = own;
    }
  }
  const value = /^([A-Za-z0-9_$-]+)\s*:\s*(.*)$/.exec(rest);
  if (value) return { at: 'value', path, key: value[1]!, prefix: value[2]! };
  if (/^[A-Za-z0-9_$-]*$/.test(rest)) return { at: 'key', path, prefix: rest };
  return null;
}

/** Every alternative a node stands for (anyOf, oneOf, allOf flattened). */
function alternatives(node: SchemaNode | undefined): SchemaNode[] {
  if (!node) return [];
  const subs = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
  return [node, ...subs.flatMap(alternatives)];
}

/** The schema nodes a path leads to (several: an anyOf may fork). */
export function nodesAt(schema: SchemaNode, path: string[]): SchemaNode[] {
  let nodes = alternatives(schema);
  for (const step of path) {
    nodes = nodes.flatMap((n) => {
      if (step === ITEM) return alternatives(n.items);
      const p =
        n.properties?.[step] ?? (typeof n.additionalProperties === 'object' ? n.additionalProperties : undefined);
      return alternatives(p);
    });
  }
  return nodes;
}

/** The words a pattern like `^(?:[Ss][Ii][Mm][Pp][Ll][Ee]|[Hh][Uu]…)$` spells (a task's type). */
function patternWords(pattern: string | undefined): string[] {
  const m = pattern ? /^\^\(\?:(.*)\)\$$/.exec(pattern) : null;
  if (!m) return [];
  const words = m[1]!.split('|').map((w) => w.replace(/\[([A-Za-z])[A-Za-z]\]/g, '$1'));
  return words.every((w) => /^[A-Za-z_]+$/.test(w)) ? words.map((w) => w.toUpperCase()) : [];
}

/** What to offer at the cursor. */
export function schemaOptions(schema: SchemaNode, place: CursorPlace): SchemaOption[] {
  const seen = new Set<string>();
  const out: SchemaOption[] = [];
  const add = (o: SchemaOption) => {
    if (seen.has(o.label) || !o.label.toLowerCase().startsWith(place.prefix.toLowerCase())) return;
    seen.add(o.label);
    out.push(o);
  };
  if (place.at === 'key') {
    for (const n of nodesAt(schema, place.path)) {
      for (const [name, p] of Object.entries(n.properties ?? {}))
        add({ label: name, kind: 'key', ...(p.description ? { detail: p.description.split('\n')[0] } : {}) });
    }
    return out;
  }
  for (const n of nodesAt(schema, [...place.path, place.key])) {
    for (const v of n.enum ?? [])
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        add({ label: String(v), kind: 'value' });
    if (typeof n.const === 'string') add({ label: n.const, kind: 'value' });
    for (const w of patternWords(n.pattern)) add({ label: w, kind: 'value' });
    if (n.type === 'boolean') for (const b of ['true', 'false']) add({ label: b, kind: 'value' });
  }
  return out;
}
