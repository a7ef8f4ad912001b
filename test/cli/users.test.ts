/**
 * `ledgerflow users` as docs/users.md tells a user to run it: add with a
 * password piped in, add an L2 with domains, list, set-level, rm; the file
 * holds hashes only, is its owner's, and a bad file or a name twice changes
 * nothing.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadUsers, verifySecret } from '../../src/users/index.js';
import { cli, tempDir } from '../helpers/cli.js';

describe('ledgerflow users', () => {
  it('adds, lists, changes and removes users as the docs show, keeping the password as a scrypt hash', async () => {
    const dir = tempDir('lf-users-');
    const add = await cli(['users', 'add', 'alice', '--level', 'L0', '--password-stdin'], {
      cwd: dir,
      stdin: 'correct horse\n',
    });
    expect(add.stderr).toBe('');
    expect(add.stdout).toContain('added alice: L0 (Commander), with a password (kept as a hash)');
    expect(
      (await cli(['users', 'add', 'ops-east', '--level', 'L2', '--domains', 'inventory'], { cwd: dir })).code,
    ).toBe(0);
    expect((await cli(['users', 'add', 'scanner', '--level', 'L3'], { cwd: dir })).code).toBe(0);

    const file = join(dir, 'users.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('correct horse');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const users = (await loadUsers(file))!;
    expect(await verifySecret('correct horse', users.users.get('alice')!.password!)).toBe(true);
    expect(await verifySecret('wrong horse', users.users.get('alice')!.password!)).toBe(false);

    expect((await cli(['users', 'rm', 'scanner'], { cwd: dir })).code).toBe(0);
    const list = await cli(['users', 'list'], { cwd: dir });
    expect(list.stdout.split('\n').slice(0, 3)).toEqual([
      'NAME      LEVEL             DOMAINS    PASSWORD  TOKEN',
      'alice     L0 (Commander)    -          yes       no',
      'ops-east  L2 (Station OPS)  inventory  no        no',
    ]);
    expect((await cli(['users', 'set-level', 'ops-east', 'L1'], { cwd: dir })).stdout).toContain(
      'ops-east: L2 (Station OPS) → L1 (CMD.BRIDGE)',
    );
    expect((await cli(['users', 'passwd', 'ops-east', '--password-stdin'], { cwd: dir, stdin: 'n3w\n' })).code).toBe(0);
    expect(await verifySecret('n3w', (await loadUsers(file))!.users.get('ops-east')!.password!)).toBe(true);
    const json = JSON.parse((await cli(['users', 'list', '--json'], { cwd: dir })).stdout);
    expect(json.users).toEqual([
      { name: 'alice', level: 'L0', domains: [], password: true, token: false },
      { name: 'ops-east', level: 'L1', domains: ['inventory'], password: true, token: false },
    ]);
  });

  it('refuses a name twice, an unknown name, a bad level and a bad file with exit 2, the file unchanged', async () => {
    const dir = tempDir('lf-users-');
    const env = { LEDGERFLOW_USERS: join(dir, 'team.yaml') };
    expect((await cli(['users', 'add', 'bob', '--level', 'l1'], { cwd: dir, env })).code).toBe(0);
    const before = readFileSync(join(dir, 'team.yaml'), 'utf8');
    const twice = await cli(['users', 'add', 'bob', '--level', 'L0'], { cwd: dir, env });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('bob is in');
    const missing = await cli(['users', 'set-level', 'carol', 'L0'], { cwd: dir, env });
    expect([missing.code, missing.stderr.includes('carol is not in')]).toEqual([2, true]);
    const level = await cli(['users', 'add', 'dave', '--level', 'L7'], { cwd: dir, env });
    expect([level.code, level.stderr.includes('"L7" is not a level')]).toEqual([2, true]);
    expect(readFileSync(join(dir, 'team.yaml'), 'utf8')).toBe(before);

    writeFileSync(join(dir, 'team.yaml'), 'users:\n  eve:\n    level: L9\n    password: hunter2\n');
    const bad = await cli(['users', 'list'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'team.yaml')}:3:12: users.eve.level: expected a level: L0, L1, L2, L3`);
    expect(bad.stderr).toContain(`${join(dir, 'team.yaml')}:4:15: users.eve.password: expected a scrypt hash`);
  });
});
