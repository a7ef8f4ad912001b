/**
 * The node flags bin/ledgerflow.js starts itself with when a shell runs it (its second line: `exec node <flags> "$0"`).
 * Whatever starts the CLI with `node` directly (the tests' commands, the bench's engines) gives these, so the process
 * runs as a user's does; read from the bin, so none of them can drift from it (the bench's engines ran for a week
 * without the young generation's new starting size, 2026-12-04).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/ledgerflow.js', import.meta.url));

export const BIN_NODE_FLAGS: readonly string[] = (() => {
  const m = /exec node ((?:--[\w-]+=?[\w.-]* )*)"\$0"/.exec(readFileSync(BIN, 'utf8').split('\n')[1] ?? '');
  if (!m) throw new Error(`${BIN}: its second line no longer reads \`// … exec node <flags> "$0" "$@"\``);
  return m[1]!.trim().split(' ').filter(Boolean);
})();
