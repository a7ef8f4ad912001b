/**
 * Encryption at rest covers large payloads too (docs/security.md, docs/language.md "Large payloads"): the language
 * page's export example run with a data key and with its rows' notes holding a distinctive value; the body kept apart
 * under `<store>/blobs/` is sealed (no byte of the value in it, nor of any other file), its reference keeps the clear
 * JSON's digest, and with the key the run reads as before: the DECISION and the next task read fields of it, `blob
 * get` gives the body, `replay` checks its digest.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';
import { NAME, everyByte, leaked } from './docs-page.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const workflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
// The page's handlers, with each row's note made of the distinctive value instead of x's.
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!.replace("'x'.repeat(90)", `'${NAME}'.repeat(3)`);

describe('large payloads encrypted at rest', () => {
  it('the body under blobs/ is sealed, the reference keeps the clear digest, and the run reads as before with the key', async () => {
    expect(handlers).toContain(NAME);
    const dir = tempDir('lf-crypt-blobs-');
    writeFileSync(join(dir, 'export.yaml'), workflow);
    writeFileSync(join(dir, 'export.mjs'), handlers);
    const store = join(dir, 'store');
    const env = { LEDGERFLOW_STORE: store, LEDGERFLOW_SECRET_LF_DATA_KEY: randomBytes(32).toString('base64') };

    const ran = await cli(['run', 'export.yaml', '--json'], { cwd: dir, env });
    expect(ran.code, ran.stderr).toBe(0);
    const run = JSON.parse(ran.stdout) as { runId: string; status: string; tasks: Record<string, any> };
    expect(run.status).toBe('COMPLETED');
    expect(run.tasks.publish.output).toEqual({ published: 50_000, received: 50_000 });
    const ref = run.tasks.export_rows.output['lf:blob'] as { digest: string; size: number };

    const files = everyByte(store);
    expect(files.some((f) => f.file.includes(`${join('blobs', 'sha256')}`))).toBe(true);
    for (const f of files) expect(leaked(f.text), f.file).toBeNull();

    const body = await cli(['blob', 'get', ref.digest], { cwd: dir, env });
    expect(body.code, body.stderr).toBe(0);
    expect(Buffer.byteLength(body.stdout.trimEnd())).toBe(ref.size);
    const value = JSON.parse(body.stdout) as { summary: unknown; rows: { note: string }[] };
    expect(value.summary).toEqual({ status: 'complete', rows: 50_000 });
    expect(value.rows[7]!.note).toBe(NAME.repeat(3));

    const replay = await cli(['replay', run.runId], { cwd: dir, env });
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toContain('1 large payload match');

    // Without the key the body does not open: a typed error, not the bytes.
    const blind = await cli(['blob', 'get', ref.digest], {
      cwd: dir,
      env: { ...env, LEDGERFLOW_SECRET_LF_DATA_KEY: '' },
    });
    expect(blind.code).not.toBe(0);
    expect(blind.stderr).toMatch(/sealed with data key \w+, which no secrets provider has/);
    expect(leaked(blind.stdout)).toBeNull();
  }, 120_000);
});
