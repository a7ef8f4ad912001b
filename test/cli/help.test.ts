/** `ledgerflow --help` as a newcomer reads it: every command says what it does, and a mistake points at that command's help. */
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

describe('ledgerflow --help', () => {
  it('gives every command a description', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    const commands = r.stdout
      .split('Commands:')[1]!
      .split('\n')
      .filter((l) => /^ {2}\S/.test(l));
    expect(commands.length).toBeGreaterThan(20);
    const bare = commands.filter((l) => !/\S {2,}\S/.test(l.trim())).map((l) => l.trim());
    expect(bare).toEqual([]);
  });

  it('a command missing its argument points at its own --help', async () => {
    for (const command of ['status', 'history', 'approve']) {
      const r = await cli([command]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`ledgerflow ${command} --help`);
    }
  });
});
