/**
 * `npm run bench` measures the build (dist/, what `ledgerflow` and `import 'ledgerflow'` run), not the
 * sources through tsx: tsx compiles with keepNames, a `__name` call for every closure made, which the
 * shipped build does not pay (about a tenth of the engine's CPU per run), and its loader hooks cost the
 * processes the cluster section starts a second of CPU each. The bench's own modules stay TypeScript
 * (tsx runs them); every module of src/ they reach resolves to its counterpart in dist/ instead.
 *
 *   node --import tsx --import ./bench/built.mjs bench/run.ts     (the npm script; registered after tsx, so asked first)
 *   LF_BENCH_SOURCES=1 npm run bench -- …                         the sources as they are, no build needed (figures a tenth slower)
 *
 * dist/ older than any file of src/ is refused with what to do: a figure of stale code is worse than none.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

if (!process.env.LF_BENCH_SOURCES) {
  const root = new URL('../', import.meta.url);
  const src = fileURLToPath(new URL('src/', root));
  const marker = fileURLToPath(new URL('dist/index.js', root));
  if (!existsSync(marker)) {
    console.error(
      'bench: dist/ is missing: run `npm run build` first (or LF_BENCH_SOURCES=1 to measure the sources through tsx)',
    );
    process.exit(2);
  }
  const built = statSync(marker).mtimeMs;
  const stale = readdirSync(src, { recursive: true })
    .map(String)
    .find((f) => statSync(`${src}${f}`).mtimeMs > built);
  if (stale) {
    console.error(
      `bench: dist/ is older than src/${stale}: run \`npm run build\` first (or LF_BENCH_SOURCES=1 to measure the sources through tsx)`,
    );
    process.exit(2);
  }
  register('./built-hooks.mjs', import.meta.url, {
    data: { src: new URL('src/', root).href, dist: new URL('dist/', root).href },
  });
}
