// Writes schema/ledgerflow.schema.json, the JSON Schema of the definition language that the package ships
// (editors point a `# yaml-language-server: $schema=` modeline at it). Runs after tsc has written dist/:
// the schema comes from the zod schema there (src/definition/json-schema.ts), so file and code never drift;
// test/definition/json-schema.test.ts checks that the committed file is the generated one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// LEDGERFLOW_DIST: the folder the build writes (scripts/build.mjs builds beside dist/ and swaps it in).
const dist = process.env.LEDGERFLOW_DIST ? resolve(process.env.LEDGERFLOW_DIST) : join(root, 'dist');
const { definitionJsonSchema, DEFINITION_SCHEMA_FILE } = await import(
  pathToFileURL(join(dist, 'definition', 'json-schema.js')).href
);
const file = join(root, DEFINITION_SCHEMA_FILE);
const text = `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`;
let before = null;
try {
  before = readFileSync(file, 'utf8');
} catch {
  /* first build: no file yet */
}
if (before !== text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`${DEFINITION_SCHEMA_FILE}: written`);
}
