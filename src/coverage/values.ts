/** Reading and writing a value at a path inside outputs and inputs (plain JSON objects). */

export function getIn(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** A copy of `target` with `value` at `path` (objects created on the way; never mutates). */
export function setIn(target: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [k, ...rest] = path;
  const base =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? (target as Record<string, unknown>) : {};
  return { ...base, [k!]: setIn(base[k!], rest, value) };
}
