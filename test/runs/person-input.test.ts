/**
 * A person's input goes through the one run API (src/runs/) from every edge: the CLI's `approve` and
 * `pause`, and the dashboard's buttons, are judged the same. A log cut short by hand is written to by
 * neither (docs/operations.md: a damaged log is never driven or written to again; the dashboard once
 * recorded an approval in one that `approve` refused), and a pause asks for L1 at both.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { startUiProcess } from '../server/ui-helpers.js';

function project(): { dir: string; store: string; file: string } {
  const dir = tempDir('lf-person-input-');
  mkdirSync(join(dir, 'defs'));
  for (const f of ['approval.yaml', 'handlers.mjs'])
    copyFileSync(join(ROOT, 'test', 'fixtures', f), join(dir, 'defs', f));
  return { dir, store: join(dir, 'store'), file: join(dir, 'defs', 'approval.yaml') };
}

describe("a person's input, judged once for the CLI and the dashboard", () => {
  it('a log cut short by hand: approve refuses it (exit 2) and so does the dashboard (409 LF_RUN_LOG_DAMAGED), nothing appended', async () => {
    const { dir, store, file } = project();
    const run = await cli(['--store', store, 'run', file, '--json'], { cwd: dir });
    const { runId, status } = JSON.parse(run.stdout) as { runId: string; status: string };
    expect(status, run.stderr).toBe('WAITING');
    expect((await cli(['--store', store, 'list', '--json'])).code).toBe(0); // the run index records it waiting, at its last event
    const log = join(store, 'runs', `${runId}.jsonl`);
    truncateSync(log, readFileSync(log, 'utf8').indexOf('\n') + 1);
    const cut = readFileSync(log, 'utf8');

    const approve = await cli(['--store', store, 'approve', runId, 'sign_off', '--as', 'alice', '--json'], {
      cwd: dir,
    });
    expect(approve.code).toBe(2);
    expect((JSON.parse(approve.stdout) as { error: { code: string } }).error.code).toBe('LF_RUN_LOG_DAMAGED');
    const ui = await startUiProcess(['--store', store], ['--definitions', join(dir, 'defs')], { cwd: dir });
    try {
      const r = await fetch(`${ui.base}/api/runs/${runId}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ui.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'sign_off', as: 'alice' }),
      });
      expect(r.status).toBe(409);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('LF_RUN_LOG_DAMAGED');
    } finally {
      await ui.stop();
    }
    expect(readFileSync(log, 'utf8')).toBe(cut);
  }, 60_000);

  it('with a users file, a pause asks for L1 at the CLI and at the dashboard alike; nothing is recorded for bob (L2)', async () => {
    const { dir, store, file } = project();
    const env = { LEDGERFLOW_PASSWORD: 'pw-of-everyone' };
    for (const [name, level] of [
      ['alice', 'L1'],
      ['bob', 'L2'],
    ] as const) {
      const added = await cli(['users', 'add', name, '--level', level, '--password-stdin'], {
        cwd: dir,
        stdin: 'pw-of-everyone\n',
      });
      expect(added.code, added.stderr).toBe(0);
    }
    const run = await cli(['--store', store, 'run', file, '--json'], {
      cwd: dir,
      env: { ...env, LEDGERFLOW_USER: 'alice' },
    });
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const before = readFileSync(join(store, 'runs', `${runId}.jsonl`), 'utf8');

    const pause = await cli(['--store', store, 'pause', runId, '--as', 'bob'], { cwd: dir, env });
    expect(pause.code).toBe(2);
    expect(pause.stderr).toMatch(/bob is L2 .*needs L1/);
    const ui = await startUiProcess(['--store', store], ['--definitions', join(dir, 'defs')], { cwd: dir });
    try {
      const signIn = await fetch(`${ui.base}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'bob', password: 'pw-of-everyone' }),
      });
      expect(signIn.status).toBe(200);
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!;
      const { csrf } = (await signIn.json()) as { csrf: string };
      const r = await fetch(`${ui.base}/api/runs/${runId}/pause`, {
        method: 'POST',
        headers: { cookie, 'x-lf-csrf': csrf, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('LF_AUTHORITY_REFUSED');
    } finally {
      await ui.stop();
    }
    expect(readFileSync(join(store, 'runs', `${runId}.jsonl`), 'utf8')).toBe(before);
  }, 60_000);

  it('with a users file, a retry asks for L1 at the CLI and at the dashboard alike: bob (L2) is refused, nothing started; alice retries', async () => {
    const { dir, store, file } = project();
    const env = { LEDGERFLOW_PASSWORD: 'pw-of-everyone' };
    for (const [name, level] of [
      ['alice', 'L0'],
      ['bob', 'L2'],
    ] as const) {
      expect(
        (
          await cli(['users', 'add', name, '--level', level, '--password-stdin'], {
            cwd: dir,
            stdin: 'pw-of-everyone\n',
          })
        ).code,
      ).toBe(0);
    }
    const run = await cli(['--store', store, 'run', file, '--json'], {
      cwd: dir,
      env: { ...env, LEDGERFLOW_USER: 'alice' },
    });
    const { runId } = JSON.parse(run.stdout) as { runId: string };
    const rejected = await cli(['--store', store, 'reject', runId, 'sign_off', '--as', 'alice', '--json'], {
      cwd: dir,
      env,
    });
    expect(rejected.code, rejected.stderr).toBe(0);
    const runs = () => readdirSync(join(store, 'runs')).filter((f) => f.endsWith('.jsonl')).length;
    const before = runs();

    const retry = await cli(['--store', store, 'retry', runId], { cwd: dir, env: { ...env, LEDGERFLOW_USER: 'bob' } });
    expect(retry.code).toBe(2);
    expect(retry.stderr).toMatch(/bob is L2 .*needs L1/);
    const ui = await startUiProcess(['--store', store], ['--definitions', join(dir, 'defs')], { cwd: dir });
    try {
      const as = async (user: string) => {
        const r = await fetch(`${ui.base}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user, password: 'pw-of-everyone' }),
        });
        return {
          cookie: r.headers.get('set-cookie')!.split(';')[0]!,
          'x-lf-csrf': ((await r.json()) as { csrf: string }).csrf,
          'content-type': 'application/json',
        };
      };
      const refused = await fetch(`${ui.base}/api/runs/${runId}/retry`, {
        method: 'POST',
        headers: await as('bob'),
        body: '{}',
      });
      expect(refused.status).toBe(403);
      expect(runs()).toBe(before);
      const taken = await fetch(`${ui.base}/api/runs/${runId}/retry`, {
        method: 'POST',
        headers: await as('alice'),
        body: '{}',
      });
      expect(taken.status).toBe(200);
      expect(((await taken.json()) as { runId: string }).runId).not.toBe(runId);
      expect(runs()).toBe(before + 1);
    } finally {
      await ui.stop();
    }
  }, 60_000);
});
