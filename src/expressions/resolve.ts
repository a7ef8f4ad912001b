/**
 * Resolving references and templates against a run's scope. Pure: reads only own properties of plain objects and
 * arrays, so a template can never reach a prototype, a getter's side effect or anything outside the scope.
 */
import { readPayload } from './payloads.js';
import { FORBIDDEN_KEYS, refText, scan, type Ref } from './refs.js';

/** A trigger event as templates see it (the shape triggers/ validates). */
export interface ScopeEvent {
  id: string;
  type: string;
  time: string;
  source?: string;
  data: Record<string, unknown>;
}

export interface Scope {
  input: Record<string, unknown>;
  /** `variables`: what SET tasks set so far (absent before any ran). */
  workflow: { id: string; runId: string; version: number; variables?: Record<string, unknown> };
  tasks: Record<string, { status?: string; output?: unknown; error?: unknown; attempts?: number }>;
  /** Present only while a trigger's filter and input mapping are evaluated. */
  event?: ScopeEvent;
  /** Present only while the input of a MAP item's attempt is resolved: the item and its position. */
  item?: unknown;
  index?: number;
}

/**
 * One step of a lookup; undefined when the key is not an own property of a plain container. A payload reference is
 * walked into as the value it stands for (expressions/payloads.ts).
 */
export function getOwn(container: unknown, key: string | number): unknown {
  const k = String(key);
  const value = readPayload(container);
  if (FORBIDDEN_KEYS.has(k)) return undefined;
  if (Array.isArray(value)) {
    return /^\d+$/.test(k) && Object.hasOwn(value, k) ? value[Number(k)] : undefined;
  }
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, k)) {
    return (value as Record<string, unknown>)[k];
  }
  return undefined;
}

function getPath(value: unknown, path: readonly (string | number)[]): unknown {
  let v = value;
  for (const seg of path) {
    if (v === undefined) return undefined;
    v = getOwn(v, seg);
  }
  return v;
}

/** The value a reference names in the scope; undefined when it is missing (not an error). */
export function resolveRef(ref: Ref, scope: Scope): unknown {
  switch (ref.kind) {
    case 'input':
      return ref.name === null ? scope.input : getPath(scope.input, [ref.name, ...ref.path]);
    case 'workflow':
      return getOwn(scope.workflow, ref.field);
    case 'variable':
      return ref.name === null
        ? (scope.workflow.variables ?? {})
        : getPath(scope.workflow.variables, [ref.name, ...ref.path]);
    case 'task': {
      const task = getOwn(scope.tasks, ref.task);
      return getPath(getOwn(task, ref.field), ref.path);
    }
    case 'event':
      return getPath(scope.event, ref.path);
    case 'item':
      return getPath(scope.item, ref.path);
    case 'index':
      return scope.index;
    case 'secret':
      // Never a value: the reference itself, which the executor's edge replaces (resolveTemplate's `sites`).
      return refText(ref);
  }
}

/** How a value reads inside a longer string: objects as JSON (a payload reference as its value), nothing as ''. */
export function toText(value: unknown): string {
  const v = readPayload(value);
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One piece of a string that holds secrets: literal text (resolved templates included), or a secret to put in. */
export type SecretPart = string | { readonly secret: string };

/**
 * Where a resolved tree holds `${secrets.NAME}`: the path of the string in it and the string as pieces. The edge
 * rebuilds exactly these strings with the values; the text of the tree there is the references (`${secrets.NAME}`),
 * which is what logs and events show. Data a template brings in (an input, an output) that happens to read
 * `${secrets.X}` is a literal piece, never a secret: only the definition names secrets.
 */
export interface SecretSite {
  readonly path: readonly (string | number)[];
  readonly parts: readonly SecretPart[];
}

/**
 * Resolves every string of a JSON tree. A string that is exactly one `${ref}` yields the raw value (so
 * `${scan_files.output}` passes an object on); text around references interpolates. Non-strings are returned as is.
 */
export function resolveTemplate(
  value: unknown,
  scope: Scope,
  sites?: SecretSite[],
  path: readonly (string | number)[] = [],
): unknown {
  if (typeof value === 'string') {
    const parts = scan(value);
    if (sites && parts.some((p) => typeof p !== 'string' && p.ref.kind === 'secret')) {
      const pieces: SecretPart[] = parts.map((p) =>
        typeof p === 'string' ? p : p.ref.kind === 'secret' ? { secret: p.ref.name } : toText(resolveRef(p.ref, scope)),
      );
      sites.push({ path, parts: pieces });
      return pieces.map((p) => (typeof p === 'string' ? p : `\${secrets.${p.secret}}`)).join('');
    }
    if (parts.length === 1 && typeof parts[0] !== 'string' && parts[0]!.text === value) {
      return resolveRef(parts[0]!.ref, scope);
    }
    return parts.map((p) => (typeof p === 'string' ? p : toText(resolveRef(p.ref, scope)))).join('');
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveTemplate(v, scope, sites, sites ? [...path, i] : path));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a key named __proto__ stays data.
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveTemplate(v, scope, sites, sites ? [...path, k] : path)]),
    );
  }
  return value;
}
