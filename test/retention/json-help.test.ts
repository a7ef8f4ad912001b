/**
 * The `--json` line of `archive`, `archive list` and `restore --help` (and so docs/cli.md) names the keys the command
 * prints: a script written from the help finds every key there. `archive --help` once named `{ archived, runs }` while
 * the command printed `left` too (the runs due that stayed live, docs/retention.md), which a script checking for them
 * never learnt of from the help.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli, tempDir, type CliResult } from '../helpers/cli.js';
import { INVOICE_YAML } from './docs-scenario.js';

/** The top-level keys of the `{ … }` the help's `--json` option says it prints, nested braces and brackets dropped. */
function helpedKeys(help: string): string[] {
  const text = help.replace(/\s+/g, ' ');
  const start = text.indexOf('--json print {');
  if (start < 0) throw new Error(`no "--json print { … }" in:\n${help}`);
  // The braces balance where the printed object ends; what follows it is prose.
  let end = start + '--json print '.length;
  for (let depth = 0; ; end++) {
    if (text[end] === '{') depth++;
    else if (text[end] === '}' && --depth === 0) break;
  }
  let flat = text.slice(start + '--json print {'.length, end);
  for (let prev = ''; prev !== flat; ) {
    prev = flat;
    flat = flat.replace(/\[[^[\]]*\]|\{[^{}]*\}/g, '');
  }
  return flat
    .split(',')
    .map((k) => k.replace(/:.*$/, '').trim())
    .filter(Boolean)
    .sort();
}

describe('the --json help of archive, archive list and restore names what they print', () => {
  it('names every top-level key of the output', async () => {
    const dir = tempDir('lf-retention-help-');
    const lf = (...args: string[]): Promise<CliResult> => cli(['--store', join(dir, 'store'), ...args], { cwd: dir });
    writeFileSync(join(dir, 'invoice.yaml'), INVOICE_YAML);
    const run = await lf('run', 'invoice.yaml', '--amount', '5', '--json');
    expect(run.code, run.stderr).toBe(0);
    const runId = (JSON.parse(run.stdout) as { runId: string }).runId;

    const commands: { name: string[]; args: string[] }[] = [
      { name: ['archive'], args: ['--older-than', '0s'] },
      { name: ['archive', 'list'], args: [] },
      { name: ['restore'], args: [runId] },
    ];
    for (const { name, args } of commands) {
      const help = await lf(...name, '--help');
      expect(help.code, help.stderr).toBe(0);
      const out = await lf(...name, ...args, '--json');
      expect(out.code, out.stderr).toBe(0);
      expect(helpedKeys(help.stdout), name.join(' ')).toEqual(Object.keys(JSON.parse(out.stdout)).sort());
    }
  });
});
