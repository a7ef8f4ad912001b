/**
 * The node flags bin/ledgerflow.js starts itself with when a shell runs it (its second line: `y=64; for a; do case $a
 * in serve|ui) y=16; …; exec node <flags with $y> "$0"`). Whatever starts the CLI with `node` directly (the tests'
 * commands, the bench's engines, serve and ui) gives these, so the process runs as a user's does; read from the bin, so
 * none of them can drift from it (the bench's engines ran for a week without the young generation's new starting size,
 * 2026-12-04). test/library/node-flags.test.ts runs the bin as a program and holds its flags to what this reads.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/ledgerflow.js', import.meta.url));

const SH_LINE =
  /^\/\/ 2>\/dev\/null; y=(\d+); for a; do case \$a in ([\w|]+)\) y=(\d+); break;; esac; done; exec node ((?:--[\w-]+=?[\w.$-]* )*)"\$0" "\$@"$/;

const parsed = (() => {
  const line = readFileSync(BIN, 'utf8').split('\n')[1] ?? '';
  const m = SH_LINE.exec(line);
  if (!m) throw new Error(`${BIN}: its second line no longer reads as bench/bin-flags.ts expects: ${line}`);
  return { big: m[1]!, commands: m[2]!.split('|'), small: m[3]!, flags: m[4]!.trim().split(' ').filter(Boolean) };
})();

/** The flags the bin gives node for `ledgerflow <args>`: any argument that is one of its small commands picks their young generation. */
export function binNodeFlags(args: readonly string[]): string[] {
  const y = args.some((a) => parsed.commands.includes(a)) ? parsed.small : parsed.big;
  return parsed.flags.map((f) => f.replace('$y', y));
}

/** The flags of every command but serve and ui. */
export const BIN_NODE_FLAGS: readonly string[] = binNodeFlags([]);
