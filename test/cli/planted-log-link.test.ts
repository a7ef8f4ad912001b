/**
 * A symbolic link planted as a run's log (`<store>/runs/<id>.jsonl` → a file outside the store, a users file or
 * a shadow-like one): the store never reads what it points to, so `status`, `list` and the dashboard's run API
 * quote none of its bytes; the run is said to be a link, left unread. Other runs read as before.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { killLeftovers } from '../helpers/processes.js';
import { waitFor } from '../helpers/wait.js';

const SECRET = 'root:$6$SECRETHASHxyz';
const procs: ReturnType<typeof spawnCli>[] = [];
afterEach(() => killLeftovers(procs.splice(0)));

describe('a run log planted as a symbolic link', () => {
  it('status, list and GET /api/runs/<id> say it is a link and quote nothing of its target', async () => {
    const dir = tempDir('lf-planted-');
    const store = join(dir, '.ledgerflow');
    writeFileSync(
      join(dir, 'one.yaml'),
      'workflow:\n  id: one\n  tasks:\n    - { id: t, type: SET, set: { done: true } }\n',
    );
    const ran = await cli(['--store', store, 'run', 'one.yaml', '--id', 'honest'], { cwd: dir });
    expect(ran.code, ran.stderr).toBe(0);
    const outside = join(tempDir('lf-outside-'), 'shadow');
    writeFileSync(outside, `${SECRET}:19000:0:99999:7:::\n`);
    mkdirSync(join(store, 'runs'), { recursive: true });
    symlinkSync(outside, join(store, 'runs', 'planted.jsonl'));

    const status = await cli(['--store', store, 'status', 'planted'], { cwd: dir });
    expect(status.code).not.toBe(0);
    expect(status.stdout + status.stderr).toMatch(/symbolic link, not a run log/);
    const list = await cli(['--store', store, 'list', '--json'], { cwd: dir });
    expect(list.stdout).toContain('honest');
    for (const out of [status.stdout + status.stderr, list.stdout + list.stderr])
      expect(out).not.toContain('SECRETHASH');

    const ui = spawnCli(['--store', store, 'ui', '--port', '0', '--json'], { cwd: dir });
    procs.push(ui);
    let out = '';
    ui.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    ui.stderr!.resume();
    const info = await waitFor(
      'the ui listening',
      () => {
        try {
          return JSON.parse(out.split('\n')[0]!) as { base: string; token: string };
        } catch {
          return null;
        }
      },
      { timeout: 30_000 },
    );
    const headers = { authorization: `Bearer ${info.token}` };
    const run = await fetch(`${info.base}api/runs/planted`, { headers });
    const body = await run.text();
    expect(run.ok).toBe(false);
    expect(body).not.toContain('SECRETHASH');
    const runs = await (await fetch(`${info.base}api/runs?limit=50`, { headers })).text();
    expect(runs).toContain('honest');
    expect(runs).not.toContain('SECRETHASH');
  }, 60_000);
});
