/**
 * Plain objects in V8's dictionary mode, for records whose keys are unique to a task, an attempt or a definition
 * (`task.started.<task>`, `<task>/backoff/<attempt>`). A fast-mode object built from `{}` with such a key adds a
 * transition to the map every such object starts from, and V8 keeps at most 1,536 of them: compiling a 3,000-task chain
 * wrote 9,000 (its regions' `on` records), after which every object built from `{}` with a key the full list lacked got
 * a map of its own, in the whole process. Task outputs, task states and definitions then all had a map each, and each
 * property read of them missed V8's caches (a 3,000-task chain's fold took twice as long, some runs three times). In a
 * retried task's fold the same search and growth of the tree was 12% of the time (timers).
 *
 * A dictionary-mode object keeps its keys in a hash table instead; deleting a property that is not the last one added
 * is what switches an object to it. Keys keep their insertion order and the prototype is Object.prototype: it reads,
 * iterates, spreads and serializes as any other plain object.
 */
export function dictionaryRecord<T>(): Record<string, T> {
  const o: Record<string, unknown> = { a: 0, b: 0 };
  delete o.a;
  delete o.b;
  return o as Record<string, T>;
}

/** `Object.fromEntries(entries)`, in dictionary mode. */
export function dictionaryOf<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const o = dictionaryRecord<T>();
  for (const [k, v] of entries) o[k] = v;
  return o;
}
