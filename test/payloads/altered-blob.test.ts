/**
 * A large payload's body changed where the embedded store keeps it (docs/language.md "Large payloads": the file under
 * `<store>/blobs/`), one byte flipped and the size kept: every read of it is the store's, checked against its digest.
 * The page's workflow, with a WAIT between the output and the DECISION that reads a field of it, so that the body is
 * read again by a later process: the signal that moves the run on, replay and blob get report LF_BLOB_ALTERED (never
 * the DECISION's other branch on a changed field), naming the run, the digest, the file and the fix; the fix the
 * message gives (blob get from a copy of the store, written over the file) puts it right.
 */
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { FileBlobStore } from '../../src/store/index.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const docsWorkflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!;

/** The page's workflow with a WAIT for a signal after export_rows, which the DECISION now follows. */
function withWait(yaml: string): string {
  const task = '      handler: exportRows\n';
  const decision = '      type: DECISION\n      depends_on: [export_rows]\n';
  expect(yaml).toContain(task);
  expect(yaml).toContain(decision);
  return yaml
    .replace(task, `${task}    - id: ready\n      type: WAIT\n      depends_on: [export_rows]\n      event: release\n`)
    .replace(decision, '      type: DECISION\n      depends_on: [ready]\n');
}

type Ref = { 'lf:blob': { digest: string; size: number } };
type View = { runId: string; status: string; tasks: Record<string, { status: string; output?: unknown }> };

describe('a large payload changed in the embedded store', () => {
  it('a later read of it, replay and blob get fail with LF_BLOB_ALTERED; the fix it names puts it right', async () => {
    const dir = tempDir('lf-altered-blob-');
    writeFileSync(join(dir, 'export.yaml'), withWait(docsWorkflow));
    writeFileSync(join(dir, 'export.mjs'), handlers);
    const store = join(dir, 'store');
    const env = { LEDGERFLOW_STORE: store };
    const lf = (...args: string[]) => cli(args, { cwd: dir, env });

    const ran = await lf('run', 'export.yaml', '--json');
    expect(ran.code, ran.stderr).toBe(3); // waiting for the signal
    const run = JSON.parse(ran.stdout) as View;
    expect(run.tasks.ready!.status).toBe('WAITING');
    const { digest, size } = (run.tasks.export_rows!.output as Ref)['lf:blob'];
    const file = new FileBlobStore(join(store, 'blobs')).pathOf(digest);
    expect(statSync(file).size).toBe(size);

    // A copy of the store, as a backup is; then one byte of the body flipped: the summary's status, still valid JSON.
    const copy = join(dir, 'copy');
    cpSync(store, copy, { recursive: true });
    const body = readFileSync(file);
    const at = body.indexOf('"status":"complete"') + '"status":"comp'.length;
    expect(at).toBeGreaterThan(0);
    body[at]! ^= 1;
    writeFileSync(file, body);
    expect(statSync(file).size).toBe(size);
    expect(readFileSync(file, 'utf8')).toContain('"status":"compmete"');

    const named = (text: string) => {
      expect(text).toContain(`the payload ${digest}`);
      expect(text).toContain(`was changed after it was written (its bytes in the file ${file} hash to sha256:`);
      expect(text).toContain(`ledgerflow blob get ${digest} --store <copy> --output ${file}`);
    };

    // The signal moves the run on to the DECISION, which reads the changed field: refused, nothing recorded, the run
    // where it was (not on to `flag`, where "compmete" would have taken it).
    const signalled = await lf('signal', run.runId, 'release', '--json');
    expect(signalled.code, signalled.stdout + signalled.stderr).toBe(1);
    const refusal = JSON.parse(signalled.stdout) as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe('LF_BLOB_ALTERED');
    expect(refusal.error.message).toContain(`that a template of run ${run.runId} refers to`);
    named(refusal.error.message);
    const status = await lf('status', run.runId, '--json');
    const after = JSON.parse(status.stdout) as View;
    expect(after.status).toBe('WAITING');
    expect([after.tasks.check!.status, after.tasks.flag!.status, after.tasks.publish!.status]).toEqual([
      'PENDING',
      'PENDING',
      'PENDING',
    ]);

    // replay reads every body the run refers to: it fails naming the event that holds the reference.
    const replayed = await lf('replay', run.runId);
    expect(replayed.code, replayed.stdout + replayed.stderr).toBe(1);
    expect(replayed.stdout).toMatch(
      new RegExp(`✗ LF_BLOB_ALTERED: the payload ${digest} that event \\d+ \\(task\\.completed\\) of run ${run.runId}`),
    );
    named(replayed.stdout);

    // blob get: exit 1, none of the body printed; --output leaves no file and no .part beside it.
    const got = await lf('blob', 'get', digest);
    expect([got.code, got.stdout], got.stderr).toEqual([1, '']);
    named(got.stderr);
    const out = await lf('blob', 'get', digest, '--output', 'body.json');
    expect(out.code, out.stderr).toBe(1);
    expect(readdirSync(dir).filter((f) => f.startsWith('body.json'))).toEqual([]);

    // The message's fix: the body read from the copy (checked there) and written over the changed file.
    const fixed = await lf('blob', 'get', digest, '--store', copy, '--output', file);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(readdirSync(join(file, '..'))).toEqual([digest.slice('sha256:'.length)]);
    const moved = await lf('signal', run.runId, 'release', '--json');
    expect(moved.code, moved.stderr).toBe(0);
    const done = JSON.parse((await lf('status', run.runId, '--json')).stdout) as View;
    expect(done.status).toBe('COMPLETED');
    expect(done.tasks.publish!.output).toEqual({ published: 50_000, received: 50_000 });
    expect(done.tasks.flag!.status).not.toBe('COMPLETED');
  }, 120_000);
});
