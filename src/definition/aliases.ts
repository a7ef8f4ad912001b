/**
 * YAML aliases that cannot become a JSON tree: an alias with no anchor before it, and an alias inside the node its
 * anchor names (a recursive structure, which would send every later walk of the tree into endless recursion). Found in
 * one pass over the document, in order, with each alias's offset.
 */
import { isAlias, isCollection, isMap, isPair, isScalar, visit, type Document, type Node } from 'yaml';

/**
 * How many copies of anchored nodes toJS may make: the yaml package's own guard against "billion laughs" (each alias
 * counts the aliases inside its anchor). Its default, 100, would refuse 101 tasks sharing `<<: *defaults`; 10,000
 * allows a few thousand while nested expansion still stops within a few levels.
 */
export const MAX_ALIAS_COUNT = 10_000;

interface AliasProblem {
  offset: number;
  message: string;
  /** The alias's name, when no anchor of that name comes before it. */
  unknown?: string;
}

export function aliasProblems(doc: Document): AliasProblem[] {
  const anchors = new Map<string, Node>();
  const problems: AliasProblem[] = [];
  visit(doc, {
    Node(_key, node) {
      const offset = node.range?.[0] ?? 0;
      if (isAlias(node)) {
        const target = anchors.get(node.source);
        if (!target) {
          problems.push({
            offset,
            message: `YAML: unknown alias *${node.source}: no anchor &${node.source} comes before it`,
            unknown: node.source,
          });
        } else if (target.range && offset >= target.range[0] && offset < target.range[2]) {
          problems.push({
            offset,
            message: `YAML: alias *${node.source} is inside the node anchored &${node.source}, so it would contain itself; a definition must be a tree`,
          });
        }
      } else if (node.anchor) {
        // A collection is visited before its items, so an alias inside it finds its anchor here.
        anchors.set(node.anchor, node);
      }
    },
  });
  return problems;
}

/**
 * How deep maps and lists may nest. A workflow needs a handful of levels; the yaml package reads (and every later walk
 * of the tree recurses) one stack frame per level, so a deeper document would end in a stack overflow whose depth
 * depends on the caller's stack, not on the document.
 */
export const MAX_NESTING = 100;

/** The offset of the first node nested deeper than MAX_NESTING, or null. Iterative: the document may be deep. */
export function tooDeep(doc: Document): number | null {
  const stack: { node: unknown; depth: number }[] = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > MAX_NESTING) return node.range?.[0] ?? 0;
    for (const item of node.items) {
      if (isPair(item)) stack.push({ node: item.key, depth: depth + 1 }, { node: item.value, depth: depth + 1 });
      else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return null;
}

/** The yaml package's own reading ran out of stack: the document nests far beyond MAX_NESTING. */
export function isStackOverflow(message: string): boolean {
  return /maximum call stack size exceeded/i.test(message);
}

export const TOO_DEEP_MESSAGE = `YAML: maps and lists nest more than ${MAX_NESTING} levels deep here; a workflow definition needs a few levels: flatten it`;

/** Where the first alias is, to point at when the aliases together expand too far. */
export function firstAliasOffset(doc: Document): number {
  let offset = 0;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** The message for an unknown alias whose anchor is in the banner stripBanner blanked (lines above `workflow:` that are not YAML). */
export function anchorInBannerMessage(name: string): string {
  return `YAML: unknown alias *${name}: its anchor &${name} is above \`workflow:\` among lines that are not YAML, which are ignored as a banner; move the anchor under \`workflow:\`, or make the lines above it YAML (comments, keys)`;
}

/** Top-level keys whose value carries an anchor (`defaults: &d …` above or beside `workflow:`): places for what aliases share. */
export function anchoredTopKeys(doc: Document): Set<string> {
  const keys = new Set<string>();
  if (!isMap(doc.contents)) return keys;
  for (const pair of doc.contents.items) {
    if (isScalar(pair.key) && (pair.value as Node | null)?.anchor) keys.add(String(pair.key.value));
  }
  return keys;
}
