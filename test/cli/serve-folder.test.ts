/**
 * `ledgerflow serve` and `ledgerflow ui` run in a user's own folder (no
 * definitions/ there): the bundled daily-operations schedule, whose default
 * input exists only in the clone, does not fire every morning; they say why.
 */
import { describe, expect, it } from 'vitest';
import { spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

describe('serve and ui in a folder without definitions/', () => {
  for (const command of [
    ['serve', '--json'],
    ['ui', '--port', '0', '--json'],
  ]) {
    it(`${command[0]}: no schedule of the bundled definitions is armed, and it says so`, async () => {
      const cwd = tempDir('lf-user-folder-');
      const child = spawnCli(command, { cwd });
      let err = '';
      let out = '';
      child.stderr!.on('data', (d) => {
        err += d;
      });
      child.stdout!.on('data', (d) => {
        out += d;
      });
      try {
        await waitFor(
          'the no-schedules note',
          () => (err + out).includes('no ./definitions folder here and no --definitions, so no schedule fires'),
          { timeout: 20_000, detail: () => err + out },
        );
        expect(err + out).not.toMatch(/schedule daily-operations/);
      } finally {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('close', r));
      }
    });
  }
});
