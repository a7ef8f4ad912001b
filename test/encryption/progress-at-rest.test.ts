/**
 * docs/security.md with docs/handlers.md "Progress" on the embedded store, as a user runs them: the page's handler
 * reporting under `ledgerflow run` with LF_DATA_KEY in the environment. Its live message is a value (it may quote
 * what the task works on), so the store's progress file holds it sealed, `status` with the key shows it, and `status`
 * without the key shows `[encrypted]`, as it does for the same message kept on task.completed. `run` once wrote
 * these files in clear (the CLI's engine took an unsealed progress channel), and a reader without the key saw the
 * message.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { spawnIn, stopSpawned } from '../helpers/file-agent.js';
import { waitFor } from '../helpers/wait.js';
import { heldHandlers, SCAN_YAML, scanFolder } from '../progress/docs.js';

afterEach(stopSpawned);

const MESSAGE = 'scanned 4 of 10 files';

describe('live progress sealed at rest on the embedded store (docs/security.md, docs/handlers.md#progress)', () => {
  it('`run` with LF_DATA_KEY writes the message sealed; status shows it with the key, [encrypted] without', async () => {
    const dir = tempDir('lf-progress-sealed-');
    const folder = scanFolder(dir);
    const release = join(dir, 'release');
    writeFileSync(join(dir, 'archive-scan.yaml'), SCAN_YAML);
    writeFileSync(join(dir, 'scan-handlers.mjs'), heldHandlers(release));
    const key = { LEDGERFLOW_SECRET_LF_DATA_KEY: randomBytes(32).toString('base64') };
    const none = { LEDGERFLOW_SECRET_LF_DATA_KEY: '', LEDGERFLOW_SECRETS_FILE: '' };
    const store = join(dir, 'store');
    const run = spawnIn(dir, ['run', 'archive-scan.yaml', '--folder', folder, '--id', 'scan-1', '--store', store], key);
    const progressDir = join(store, 'progress', 'scan-1');
    const file = await waitFor(
      'the attempt at 40% in its progress file',
      () => {
        const name = existsSync(progressDir) ? readdirSync(progressDir)[0] : undefined;
        const text = name ? readFileSync(join(progressDir, name), 'utf8') : '';
        return text.includes('"fraction":0.4') ? text : null;
      },
      { timeout: 30_000, detail: run.output },
    );
    expect(file).not.toContain(MESSAGE);
    expect(file).toContain('"message":"lf:enc:1:');

    const withKey = await cli(['status', 'scan-1', '--json', '--store', store], { cwd: dir, env: key });
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(JSON.parse(withKey.stdout).tasks.scan.progress).toMatchObject({ message: MESSAGE, live: true });
    const blind = await cli(['status', 'scan-1', '--json', '--store', store], { cwd: dir, env: none });
    expect(blind.code, blind.stderr).toBe(0);
    expect(blind.stdout).not.toContain(MESSAGE);
    expect(JSON.parse(blind.stdout).tasks.scan.progress).toMatchObject({ message: '[encrypted]', live: true });

    writeFileSync(release, '');
    expect(await run.exited, run.output()).toBe(0);
  });
});
