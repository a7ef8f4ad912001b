// The bundled workflows' TypeScript handlers (definitions/handlers/*.ts) compiled to JavaScript beside the build,
// dist/definitions/handlers/*.js, with the digest of the sources they were compiled from (handlers.json). Runs in
// scripts/build.mjs. A run of a bundled workflow from the build loads these (src/handlers/prebuilt.ts) instead of
// starting tsx for them: tsx's module hooks run in a thread of their own and its transform in an esbuild service,
// about half a second of CPU for every command that runs a bundled workflow (the tour, `emit`, the templates).
// Each file is transformed alone (no bundling): `import … from 'ledgerflow'` stays the package's, so a handler
// shares the CLI's classes (instanceof holds), and `./inventory.js` names the sibling compiled here.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { failOnWarnings } from './esbuild-common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const { engines } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const from = join(root, 'definitions', 'handlers');
const out = join(dist, 'definitions', 'handlers');

const sources = readdirSync(from)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const result = await build({
  absWorkingDir: root,
  entryPoints: sources.map((f) => join(from, f)),
  outdir: out,
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: `node${engines.node.replace(/^>=\s*/, '')}`,
  logLevel: 'silent',
});
failOnWarnings(result, 'build-handlers');
// One digest over every source (a handler imports its siblings): src/handlers/prebuilt.ts uses the build only while it holds.
const digest = createHash('sha256');
for (const f of sources) digest.update(`${f}\n`).update(readFileSync(join(from, f)));
writeFileSync(join(out, 'handlers.json'), `${JSON.stringify({ sources, sha256: digest.digest('hex') }, null, 2)}\n`);
