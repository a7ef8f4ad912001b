// The dashboard's browser app (src/server/web/) under dist/web/: index.html, app.js, app.css, and chunks/ (the editor's code, loaded on demand).
// Everything (Preact, dagre, uPlot and its stylesheet) is bundled: the page loads nothing from a CDN.
// Runs after tsc in `npm run build`; `--watch` rebuilds on change while working on the page.
import { build, context } from 'esbuild';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failOnWarnings } from './esbuild-common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src', 'server', 'web');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const out = join(process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist'), 'web');
mkdirSync(out, { recursive: true });
copyFileSync(join(src, 'index.html'), join(out, 'index.html'));

const options = {
  absWorkingDir: root,
  entryPoints: { app: join(src, 'main.tsx') },
  outdir: out,
  bundle: true,
  format: 'esm',
  // The editor (CodeMirror) is imported on demand: its own chunk under chunks/, fetched when an editor page opens.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'browser',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'silent',
};

if (process.argv.includes('--watch')) {
  const ctx = await context({ ...options, logLevel: 'info' });
  await ctx.watch();
} else {
  const result = await build(options);
  // A warning here (an unresolved import, a duplicate key) is a broken page: fail the build.
  failOnWarnings(result, 'build-web');
  if (process.argv.includes('--sizes')) {
    for (const f of ['app.js', 'app.css']) console.log(`${f}: ${(statSync(join(out, f)).size / 1024).toFixed(1)} KiB`);
  }
}
