// `node scripts/test-durations.mjs <probe file>`: writes test/durations.json, each test file's wall time in seconds
// from a CPU-probe run (`LEDGERFLOW_TEST_CPU=<probe file> npm test`, test/cpu-probe.ts). test/sequencer.ts starts the
// longest files first from it, so that a clean clone (CI: no vitest cache) does not end on one long file alone.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const probe = process.argv[2];
if (!probe) {
  console.error('usage: node scripts/test-durations.mjs <file written by LEDGERFLOW_TEST_CPU=<file> npm test>');
  process.exit(2);
}
const durations = {};
for (const line of readFileSync(probe, 'utf8').split('\n')) {
  // <total> self <s> children <c> wall <w> <file>
  const m = /^\S+ self \S+ children \S+ wall (\S+) (test\/\S+)$/.exec(line.trim());
  if (m) durations[m[2]] = Math.max(durations[m[2]] ?? 0, Number(m[1]));
}
const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => (a < b ? -1 : 1)));
const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'durations.json');
writeFileSync(out, `${JSON.stringify(sorted, null, 1)}\n`);
console.log(`wrote ${out}: ${Object.keys(sorted).length} files`);
