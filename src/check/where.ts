/**
 * Where a finding points: a path into a definition's YAML as a file:line:col. A definition known without its text (a
 * deployed version read from the registry) has no positions: its findings point at the file's first line.
 */
import { sourceDocument, type SourceDocument } from '../definition/index.js';
import type { CheckedDefinition } from './checked.js';
import type { FindingLocation } from './findings.js';

export type RawPath = readonly (string | number)[];

/** One place to look for, in the order asked: the first one the document has is where the finding points. */
export interface Spot {
  path: RawPath;
  /** Point at the key of the last map entry (`tasks:`) rather than its value. */
  onKey?: boolean;
  /** Offset of a `${...}` inside the string at `path`. */
  inString?: number;
}

export interface Source {
  readonly file: string;
  readonly doc: SourceDocument | null;
}

export function sourceOf(c: Pick<CheckedDefinition, 'file' | 'text'>): Source {
  return { file: c.file, doc: c.text === undefined ? null : sourceDocument(c.text) };
}

/** The task list's own key: where something of the task list that has no place of its own in this file is shown. */
export const TASKS_KEY: Spot = { path: ['workflow', 'tasks'], onKey: true };

/** Whether the document's tree has this path (a key or a list index walked all the way). */
export function has(source: Source, path: RawPath): boolean {
  let node: unknown = source.doc?.raw;
  for (const seg of path) {
    if (Array.isArray(node) && typeof seg === 'number') node = node[seg];
    else if (node !== null && typeof node === 'object' && !Array.isArray(node))
      node = Object.hasOwn(node, String(seg)) ? (node as Record<string, unknown>)[String(seg)] : undefined;
    else return false;
    if (node === undefined) return false;
  }
  return true;
}

/** The first spot the document has (the last one's nearest existing part when it has none of them). */
export function locate(source: Source, ...spots: Spot[]): FindingLocation {
  const doc = source.doc;
  if (!doc || spots.length === 0) return { file: source.file, line: 1, col: 1 };
  const spot = spots.find((s) => has(source, s.path)) ?? spots[spots.length - 1]!;
  const pos = doc.locate(spot.path, { onKey: spot.onKey, inString: spot.inString });
  return { file: source.file, line: pos.line, col: pos.col };
}

/** A task's place in the raw document: its entry of the task list. */
export const taskPath = (index: number): RawPath => ['workflow', 'tasks', index];
