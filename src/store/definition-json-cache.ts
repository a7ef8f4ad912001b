/**
 * The JSON of a run's definition, made once per definition object. Every
 * run.started holds its whole definition (most of a start commit's bytes),
 * and every run of a definition holds the same definition object, so its JSON
 * is remembered (keyed by the object the append request carries, which zod's
 * copy mirrors key for key; definitions are never mutated, as definitionHash
 * also assumes). `JSON.stringify` is pure, so the bytes stored are the same
 * warm, cleared or off (test/caches.test.ts). A WeakMap: bounded by the
 * definitions still in use.
 */
let enabled = true;
let definitionJson = new WeakMap<object, string>();

/** `JSON.stringify(definition)`, remembered under `key` (the request's own definition object). */
export function rememberedDefinitionJson(key: object, definition: unknown): string {
  if (!enabled) return JSON.stringify(definition);
  let json = definitionJson.get(key);
  if (json === undefined) {
    json = JSON.stringify(definition);
    definitionJson.set(key, json);
  }
  return json;
}

export function clearDefinitionJsonCache(): void {
  definitionJson = new WeakMap();
}

/** Off: every call encodes afresh (for tests that check the cache changes no result). */
export function setDefinitionJsonCacheEnabled(on: boolean): void {
  enabled = on;
  clearDefinitionJsonCache();
}
