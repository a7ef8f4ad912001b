// Writes schema/ledgerflow.schema.json, the JSON Schema of the definition language that the package ships
// (editors point a `# yaml-language-server: $schema=` modeline at it). Runs after tsc has written dist/:
// the schema comes from the zod schema there (src/definition/json-schema.ts), so file and code never drift;
// test/definition/json-schema.test.ts checks that the committed file is the generated one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { definitionJsonSchema, DEFINITION_SCHEMA_FILE } = await import('../dist/definition/json-schema.js');
const file = join(root, DEFINITION_SCHEMA_FILE);
const text = `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`;
let before = null;
try { before = readFileSync(file, 'utf8'); } catch { /* first build: no file yet */ }
if (before !== text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`${DEFINITION_SCHEMA_FILE}: written`);
}
