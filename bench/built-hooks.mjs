/**
 * The resolve hook bench/built.mjs registers: a module of src/ (as tsx resolves it, `…/src/x/y.ts`)
 * becomes its build, `…/dist/x/y.js`. Anything else resolves as before.
 */
let src = '';
let dist = '';

export function initialize(data) {
  src = data.src;
  dist = data.dist;
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith(src)) return resolved;
  const url = `${dist}${resolved.url.slice(src.length).replace(/\.tsx?$/, '.js')}`;
  return { ...resolved, url, format: 'module' };
}
