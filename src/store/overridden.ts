/**
 * A store (or any object) with some of its members replaced and the rest its own: the decorators of the event store
 * (encryption at rest, the observed store, the emitter's watch of its starts) each replace a few methods and must keep
 * every other, the optional ones included (a view made of the required methods alone lost the file store's run lease
 * and blobs). A Proxy, each method of the target bound to it once (its private fields are its own; a bind per call was
 * garbage per call on the engine's path).
 */
export function overridden<T extends object>(target: T, overrides: ReadonlyMap<PropertyKey, unknown>): T {
  const bound = new Map<PropertyKey, unknown>(overrides);
  return new Proxy(target, {
    get(t, key) {
      const known = bound.get(key);
      if (known !== undefined || bound.has(key)) return known;
      const v = Reflect.get(t, key, t) as unknown;
      if (typeof v !== 'function') return v;
      const fn = (v as (...a: unknown[]) => unknown).bind(t);
      bound.set(key, fn);
      return fn;
    },
  });
}
