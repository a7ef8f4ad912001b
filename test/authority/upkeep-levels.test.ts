/**
 * The upkeep verbs under the users file (docs/users.md's table; docs/retention.md, docs/language.md#large-payloads,
 * docs/security.md#rotating-the-key): `archive`, `restore` and `blob gc` are run control and `keys rotate` the bridge's,
 * so a Station OPS (L2) or a Worker (L3) is refused (LF_AUTHORITY_REFUSED, exit 2) and nothing in the store changes:
 * the runs stay live (or archived), the unreferenced body stays, the key stays. A CMD.BRIDGE (L1) does each. The
 * dashboard's reads of a body and of a run's progress need a sign-in like any read of a run.
 */
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { addUsers } from '../helpers/authority.js';
import { FileBlobStore, FileEventStore } from '../../src/store/index.js';

const REPORT = `workflow:
  id: report
  handlers: ./report.mjs
  payloads:
    inline_limit: 1KiB
  tasks:
    - { id: make, type: SIMPLE, handler: make }
`;
const HANDLERS = `export default { make: async () => ({ summary: 'ok', rows: 'x'.repeat(4000) }) };\n`;
const USERS = [
  ['bob', 'L1'],
  ['ops-east', 'L2'],
  ['scanner', 'L3'],
] as const;

let dir = '';
let store = '';
let runs: string[] = []; // the one run, archived and restored
let digest = '';
let orphan = '';
const env = (user: string) => ({ LEDGERFLOW_USER: user, LEDGERFLOW_PASSWORD: `${user}-pw`, LEDGERFLOW_STORE: store });
/** A command as `user` (LEDGERFLOW_USER, LEDGERFLOW_PASSWORD); the upkeep commands name them with --as, as docs/users.md allows. */
const as = (user: string, args: string[]) =>
  cli(
    ['archive', 'restore', 'blob', 'keys'].includes(args[0]!) && args[1] !== 'list' ? [...args, '--as', user] : args,
    {
      cwd: dir,
      env: env(user),
    },
  );
/** The store as it is, read here: the live runs, and how many the archive keeps. */
const live = async (): Promise<string[]> => (await new FileEventStore(store).listRuns()).map((r) => r.runId).sort();
const archived = async (): Promise<number> =>
  (await new FileEventStore(store).archive().periods()).map((p) => p.runs).reduce((a, b) => a + b, 0);
const refused = (r: { code: number | null; stderr: string }, user: string, what: string) => {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toContain(`${user} is L${user === 'ops-east' ? 2 : 3}`);
  expect(r.stderr).toContain(`${what} needs L1 (CMD.BRIDGE) or higher`);
};

describe('archive, restore, blob gc and keys rotate ask for L1 (docs/users.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-upkeep-levels-');
    store = join(dir, 'store');
    writeFileSync(join(dir, 'report.yaml'), REPORT);
    writeFileSync(join(dir, 'report.mjs'), HANDLERS);
    await addUsers(dir, USERS, (name) => `${name}-pw`);
    const r = await as('bob', ['run', 'report.yaml', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as {
      runId: string;
      tasks: { make: { output: { 'lf:blob': { digest: string } } } };
    };
    runs = [view.runId];
    digest = view.tasks.make.output['lf:blob'].digest;
    // A body no run refers to, stored two hours ago: what `blob gc` deletes.
    const blobs = new FileBlobStore(join(store, 'blobs'));
    orphan = (await blobs.put(Buffer.from('{"orphan":true}'), 'application/json'))['lf:blob'].digest;
    const past = new Date(Date.now() - 2 * 3600_000);
    utimesSync(blobs.pathOf(orphan), past, past);
  }, 60_000);

  it('an L2 or L3 is refused every one of them, exit 2, and the store is as it was', async () => {
    const blobs = new FileBlobStore(join(store, 'blobs'));
    const [archive, gc, rotate, json] = await Promise.all([
      as('ops-east', ['archive', '--older-than', '0s']),
      as('scanner', ['blob', 'gc', '--grace', '0s']),
      as('ops-east', ['keys', 'rotate', '--secrets', 'secrets.yaml']),
      as('scanner', ['archive', '--older-than', '0s', '--json']),
    ]);
    refused(archive, 'ops-east', 'controlling runs');
    refused(gc, 'scanner', 'controlling runs');
    refused(rotate, 'ops-east', 'rotating data keys');
    expect([json.code, JSON.parse(json.stdout).error.code]).toEqual([2, 'LF_AUTHORITY_REFUSED']);
    expect(await live()).toEqual(runs);
    expect(await archived()).toBe(0);
    expect(await blobs.has(orphan)).toBe(true);
    expect(await blobs.has(digest)).toBe(true);
    expect(existsSync(join(dir, 'secrets.yaml'))).toBe(false);
  }, 60_000);

  it('an L1 archives and restores; an L2 or L3 may not restore, the run stays archived', async () => {
    const moved = await as('bob', ['archive', '--older-than', '0s', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ archived: 1 });
    expect(await live()).toEqual([]);
    const users = ['ops-east', 'scanner'] as const;
    const tries = await Promise.all(users.map((user) => as(user, ['restore', runs[0]!])));
    tries.forEach((r, i) => refused(r, users[i]!, 'controlling runs'));
    expect(await live()).toEqual([]);
    expect(await archived()).toBe(1);
    const back = await as('bob', ['restore', runs[0]!, '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ restored: { runId: runs[0], status: 'COMPLETED' } });
    expect(await live()).toEqual(runs);
    expect(await archived()).toBe(0);
  }, 60_000);

  it('an L1 collects the unreferenced body (keeping the one the runs refer to) and rotates the key', async () => {
    const blobs = new FileBlobStore(join(store, 'blobs'));
    const [gc, rotated] = await Promise.all([
      as('bob', ['blob', 'gc', '--grace', '0s', '--json']),
      as('bob', ['keys', 'rotate', '--secrets', 'secrets.yaml', '--json']),
    ]);
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ collected: [{ digest: orphan }], deleted: true });
    expect(await blobs.has(orphan)).toBe(false);
    expect(await blobs.has(digest)).toBe(true);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(readFileSync(join(dir, 'secrets.yaml'), 'utf8')).toContain('LF_DATA_KEY');
  }, 60_000);

  it("the dashboard's body and progress reads answer a signed-in user only (401 without)", async () => {
    const child = spawnCli(['--store', store, 'ui', '--port', '0'], { cwd: dir });
    let printed = '';
    child.stdout!.on('data', (d) => (printed += d));
    try {
      await waitFor('ui listening', () => /each user signs in/.test(printed), { timeout: 20_000 });
      const base = /at (http:\/\/\S+?)\/?\n/.exec(printed)![1]!;
      const paths = [`/api/blobs/${digest}`, `/api/runs/${runs[0]}/progress`];
      for (const path of paths) expect((await fetch(`${base}${path}`)).status, path).toBe(401);
      const session = await fetch(`${base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'scanner', password: 'scanner-pw' }),
      });
      expect(session.status).toBe(200);
      const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
      for (const path of paths) {
        const stop = new AbortController();
        const r = await fetch(`${base}${path}`, { headers: { cookie }, signal: stop.signal });
        expect(r.status, path).toBe(200);
        stop.abort();
      }
    } finally {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
    }
  }, 60_000);
});
