/**
 * Large payloads and the archive (docs/retention.md, docs/language.md "Large payloads"): a run whose output is kept
 * apart is archived with the record of the bodies it refers to, so `blob gc` keeps them while the run is archived, and
 * `history`, `replay` and `blob get` read it as before; a body no live or archived run refers to is collected. With
 * encryption at rest, archiving without the data key is refused (the references sit in sealed values) and nothing moves.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedBlock } from '../docs/markdown.js';
import { cli, ROOT, tempDir } from '../helpers/cli.js';

const page = readFileSync(join(ROOT, 'docs', 'language.md'), 'utf8');
const section = page.slice(page.indexOf('<!-- large-payloads-example'));
const workflow = `${markedBlock(page, 'large-payloads-example').join('\n')}\n`;
const handlers = /```js\n([\s\S]*?)```/.exec(section)![1]!;

function project(): { dir: string; env: Record<string, string> } {
  const dir = tempDir('lf-archived-payloads-');
  writeFileSync(join(dir, 'export.yaml'), workflow);
  writeFileSync(join(dir, 'export.mjs'), handlers);
  return { dir, env: { LEDGERFLOW_STORE: join(dir, 'store') } };
}

async function exported(dir: string, env: Record<string, string>): Promise<{ runId: string; digest: string }> {
  const ran = await cli(['run', 'export.yaml', '--json'], { cwd: dir, env });
  expect(ran.code, ran.stderr).toBe(0);
  const run = JSON.parse(ran.stdout) as { runId: string; status: string; tasks: Record<string, any> };
  expect(run.status).toBe('COMPLETED');
  return { runId: run.runId, digest: run.tasks.export_rows.output['lf:blob'].digest };
}

describe('large payloads of archived runs', () => {
  it('blob gc keeps the bodies archived runs refer to; history, replay and blob get read them as before', async () => {
    const { dir, env } = project();
    const { runId, digest } = await exported(dir, env);
    const archived = await cli(['archive', '--older-than', '0s', '--json'], { cwd: dir, env });
    expect(archived.code, archived.stderr).toBe(0);
    const listed = await cli(['list', '--json'], { cwd: dir, env });
    expect(listed.stdout).not.toContain(runId);

    const gc = await cli(['blob', 'gc', '--grace', '0s', '--json'], { cwd: dir, env });
    expect(gc.code, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout)).toMatchObject({ kept: 1, collected: [] });
    const body = await cli(['blob', 'get', digest], { cwd: dir, env });
    expect(body.code, body.stderr).toBe(0);
    expect(JSON.parse(body.stdout).summary).toEqual({ status: 'complete', rows: 50_000 });
    const history = await cli(['history', runId], { cwd: dir, env });
    expect(history.stdout).toMatch(/export_rows.*\[blob [\d.]+ MiB sha256:/);
    const replay = await cli(['replay', runId], { cwd: dir, env });
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toContain('1 large payload match');

    // Restored, the run holds it from the live log; a body nobody refers to is collected.
    const restored = await cli(['restore', runId], { cwd: dir, env });
    expect(restored.code, restored.stderr).toBe(0);
    const again = await cli(['blob', 'gc', '--grace', '0s', '--json'], { cwd: dir, env });
    expect(JSON.parse(again.stdout)).toMatchObject({ kept: 1, collected: [] });
  }, 120_000);

  it('with encryption at rest, archiving without the data key is refused and moves nothing', async () => {
    const { dir, env } = project();
    const keyed = { ...env, LEDGERFLOW_SECRET_LF_DATA_KEY: randomBytes(32).toString('base64') };
    const { runId } = await exported(dir, keyed);
    const blind = await cli(['archive', '--older-than', '0s'], { cwd: dir, env });
    expect(blind.code).not.toBe(0);
    expect(blind.stderr).toContain('has no data key');
    const status = await cli(['list', '--json'], { cwd: dir, env });
    expect(status.stdout).toContain(runId);
    const withKey = await cli(['archive', '--older-than', '0s'], { cwd: dir, env: keyed });
    expect(withKey.code, withKey.stderr).toBe(0);
    const gc = await cli(['blob', 'gc', '--grace', '0s', '--json'], { cwd: dir, env: keyed });
    expect(JSON.parse(gc.stdout)).toMatchObject({ kept: 1, collected: [] });
  }, 120_000);
});
