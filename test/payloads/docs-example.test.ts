/**
 * docs/language.md "Large payloads", as a user follows it on the embedded store: the page's workflow and handler module
 * run with `ledgerflow run`; the output is a reference and the log small; the DECISION and the later task read it;
 * `history` shows its size, `blob get` (and the dashboard's GET /api/blobs/:digest) gives the body, `replay` checks it and fails naming an altered one, and
 * `blob gc` keeps what a run refers to and deletes what none does (past its grace period).
 */
import { readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { startUiProcess } from '../server/ui-helpers.js';
import { FileBlobStore } from '../../src/store/index.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const workflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!;
const commands = /```sh\n([\s\S]*?)```/
  .exec(section)![1]!
  .split('\n')
  .map((l) => l.replace(/\s+#.*$/, '').trim())
  .filter(Boolean);

type Ref = { 'lf:blob': { digest: string; size: number; media_type: string } };

describe('large payloads, as docs/language.md shows them', () => {
  it('runs the example: a reference in the log, read by the DECISION and the next task; history, blob get, replay, gc', async () => {
    const dir = tempDir('lf-payloads-docs-');
    writeFileSync(join(dir, 'export.yaml'), workflow);
    writeFileSync(join(dir, 'export.mjs'), handlers);
    const store = join(dir, 'store');
    const env = { LEDGERFLOW_STORE: store };
    const args = (line: string, runId = '', digest = '') =>
      line
        .replace(/^npx ledgerflow /, '')
        .replace('<runId>', runId)
        .replace('sha256:<digest>', digest)
        .split(' ');
    expect(commands.map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'npx ledgerflow run',
      'npx ledgerflow history',
      'npx ledgerflow blob',
      'npx ledgerflow replay',
      'npx ledgerflow blob',
    ]);

    const ran = await cli(args(commands[0]!), { cwd: dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as {
      runId: string;
      status: string;
      tasks: Record<string, { status: string; output: unknown }>;
    };
    expect(run.status).toBe('COMPLETED');
    const ref = run.tasks.export_rows!.output as Ref;
    expect(ref['lf:blob']).toMatchObject({ media_type: 'application/json' });
    expect(ref['lf:blob'].size).toBeGreaterThan(5_000_000);
    expect(run.tasks.publish!.output).toEqual({ published: 50_000, received: 50_000 });
    expect(run.tasks.flag!.status).not.toBe('COMPLETED');
    const logs = readdirSync(join(store, 'runs')).filter((f) => f.startsWith(run.runId) && f.endsWith('.jsonl'));
    expect(logs).toHaveLength(1);
    expect(statSync(join(store, 'runs', logs[0]!)).size).toBeLessThan(64 * 1024);

    const history = await cli(args(commands[1]!, run.runId), { cwd: dir, env });
    expect(history.code, history.stderr).toBe(0);
    const digest = ref['lf:blob'].digest;
    expect(history.stdout).toMatch(
      new RegExp(`export_rows attempt 1 output \\[blob 5\\.\\d MiB ${digest.slice(0, 15)}…\\]`),
    );

    const got = await cli(args(commands[2]!, run.runId, digest), { cwd: dir, env });
    expect(got.code, got.stderr).toBe(0);
    const body = JSON.parse(got.stdout) as { summary: unknown; rows: unknown[] };
    expect(body.summary).toEqual({ status: 'complete', rows: 50_000 });
    expect(body.rows).toHaveLength(50_000);

    // The dashboard's server gives the same body to a signed-in reader (the embedded token), and no one else.
    const ui = await startUiProcess(['--store', store], [], { cwd: dir });
    try {
      const fromUi = await fetch(`${ui.base}/api/blobs/${digest}`, {
        headers: { authorization: `Bearer ${ui.token}` },
      });
      expect(fromUi.status).toBe(200);
      expect(((await fromUi.json()) as { summary: unknown }).summary).toEqual({ status: 'complete', rows: 50_000 });
      expect((await fetch(`${ui.base}/api/blobs/${digest}`)).status).toBe(401);
      const unknown = await fetch(`${ui.base}/api/blobs/sha256:${'0'.repeat(64)}`, {
        headers: { authorization: `Bearer ${ui.token}` },
      });
      expect(unknown.status).toBe(404);
    } finally {
      await ui.stop();
    }

    const replayed = await cli(args(commands[3]!, run.runId), { cwd: dir, env });
    expect(replayed.code, replayed.stdout).toBe(0);
    expect(replayed.stdout).toContain('✓ 1 large payload matches its digest');

    // An unreferenced body, stored two hours ago, and one stored now: gc deletes the first only, keeps the run's.
    const blobs = new FileBlobStore(join(store, 'blobs'));
    const old = (await blobs.put(Buffer.from('{"old":true}'), 'application/json'))['lf:blob'].digest;
    const young = (await blobs.put(Buffer.from('{"young":true}'), 'application/json'))['lf:blob'].digest;
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(blobs.pathOf(old), twoHoursAgo, twoHoursAgo);
    const gc = await cli([...args(commands[4]!), '--json'], { cwd: dir, env });
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({
      kept: 1,
      young: 1,
      collected: [{ digest: old }],
      deleted: true,
    });
    expect(await blobs.has(old)).toBe(false);
    expect(await blobs.has(young)).toBe(true);
    expect(await blobs.has(digest)).toBe(true);

    // A body changed after it was written: replay names it and fails.
    writeFileSync(blobs.pathOf(digest), '{"summary":{"status":"forged"}}');
    const altered = await cli(args(commands[3]!, run.runId), { cwd: dir, env });
    expect(altered.code, altered.stdout + altered.stderr).toBe(1);
    // Named where the run holds it, though the fold met it first (a later task's template reads it).
    expect(altered.stdout, altered.stderr).toMatch(
      new RegExp(
        `✗ LF_BLOB_ALTERED: the payload ${digest} that event \\d+ \\(task\\.completed\\) of run ${run.runId} refers to was changed`,
      ),
    );
    // …and a read of it fails with it (docs/troubleshooting.md): blob get prints nothing of it, --output leaves no
    // file (nor changes one already there), and the dashboard's GET /api/blobs answers 409 with no body of it.
    const forged = await cli(['blob', 'get', digest], { cwd: dir, env });
    expect([forged.code, forged.stdout], forged.stderr).toEqual([1, '']);
    // The store's read names the file and how to put the original back over it.
    expect(forged.stderr).toContain(`the payload ${digest} was changed after it was written`);
    expect(forged.stderr).toContain(`the file ${blobs.pathOf(digest)}`);
    expect(forged.stderr).toContain(`ledgerflow blob get ${digest} --store <copy> --output ${blobs.pathOf(digest)}`);
    writeFileSync(join(dir, 'kept.json'), 'before');
    for (const file of ['fresh.json', 'kept.json']) {
      const out = await cli(['blob', 'get', digest, '--output', file], { cwd: dir, env });
      expect(out.code, out.stderr).toBe(1);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.json') || f.endsWith('.part'))).toEqual(['kept.json']);
    expect(readFileSync(join(dir, 'kept.json'), 'utf8')).toBe('before');
    const ui2 = await startUiProcess(['--store', store], [], { cwd: dir, env });
    try {
      const res = await fetch(`${ui2.base}/api/blobs/${digest}`, { headers: { authorization: `Bearer ${ui2.token}` } });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('LF_BLOB_ALTERED');
    } finally {
      await ui2.stop();
    }
  }, 120_000);
});
