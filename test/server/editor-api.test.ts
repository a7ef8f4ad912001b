/**
 * docs/dashboard.md, "Editing a definition", over HTTP on the embedded store:
 * the docs' refund workflow with one run approved by ops and one waiting; the
 * docs' draft of version 2 checked (its typo a 400 at 11:20, as `validate`
 * says it), its replay verdict (the approved run cannot, the waiting one takes
 * over), and its deploy into the definitions folder. With a users file an L2
 * person is refused each of them (403), an L1 person is not.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, tempDir } from '../helpers/cli.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { DRAFT_V2, DRAFT_WITH_TYPO, REFUND_V1, TYPO_PROBLEM } from './editor-docs.js';

let dir = '';
let ui: UiProcess;
const runs: { approved: string; waiting: string } = { approved: '', waiting: '' };

async function api(
  method: string,
  path: string,
  body?: unknown,
  auth: Record<string, string> = { authorization: `Bearer ${ui.token}` },
): Promise<{ status: number; body: any }> {
  const r = await fetch(`${ui.base}${path}`, {
    method,
    headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: await r.json() };
}

describe('editing a definition over the API, embedded store (docs/dashboard.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-editor-api-');
    mkdirSync(join(dir, 'definitions'));
    writeFileSync(join(dir, 'definitions', 'refund.yaml'), REFUND_V1);
    for (const key of ['approved', 'waiting'] as const) {
      const r = await cli(['start', 'refund', '--detach'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      runs[key] = r.stdout.trim().split('\n')[0]!;
    }
    expect((await cli(['approve', runs.approved, 'review', '--as', 'ops'], { cwd: dir })).code).toBe(0);
    ui = await startUiProcess([], [], { cwd: dir });
  }, 60_000);
  afterAll(async () => {
    await ui?.stop();
  });

  it('checks the draft as validate does: the typo is a 400 with its issue at 11:20', async () => {
    const r = await api('POST', '/api/definitions/validate', { yaml: DRAFT_WITH_TYPO });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('LF_DEFINITION_INVALID');
    const [issue] = r.body.issues;
    expect(`${issue.line}:${issue.col} ${issue.code} ${issue.message}`).toBe(TYPO_PROBLEM);
    expect(r.body.error.message).toBe(`refund.yaml:11:20: error: ${issue.message}`);
    // The same words `ledgerflow validate` prints for that file.
    writeFileSync(join(dir, 'refund-v2.yaml'), DRAFT_WITH_TYPO);
    expect((await cli(['validate', 'refund-v2.yaml'], { cwd: dir })).stderr).toContain(
      `refund-v2.yaml:11:20: error: ${issue.message}`,
    );
  });

  it('answers bad YAML with a 400 and its issues, and an empty draft with a 400 naming yaml', async () => {
    const bad = await api('POST', '/api/definitions/validate', { yaml: 'workflow:\n  id: refund\n  tasks: [\n' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.length).toBeGreaterThan(0);
    expect(bad.body.issues[0]).toMatchObject({ severity: 'error', line: expect.any(Number), col: expect.any(Number) });
    const empty = await api('POST', '/api/definitions/validate', { yaml: '' });
    expect([empty.status, empty.body.error.field]).toEqual([400, 'yaml']);
  });

  it('validates the fixed draft: version 2 of a workflow whose latest is 1, and its graph review → record', async () => {
    const r = await api('POST', '/api/definitions/validate', { yaml: DRAFT_V2 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ valid: true, workflowId: 'refund', version: 2, latest: 1, issues: [] });
    expect(r.body.graph.edges).toEqual([{ from: 'review', to: 'record', kind: 'depends' }]);
  });

  it('gives the replay verdict first: the run ops approved cannot (event 2), the waiting run takes over', async () => {
    const r = await api('POST', '/api/definitions/verdict', { yaml: DRAFT_V2 });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ workflowId: 'refund', version: 2, runs: 2, takesOver: 1, cannot: 1 });
    const row = (id: string) => r.body.rows.find((x: { runId: string }) => x.runId === id);
    expect(row(runs.waiting)).toMatchObject({ takesOver: true, status: 'WAITING', version: 1 });
    expect(row(runs.approved)).toMatchObject({ takesOver: false, divergence: { seq: 2, type: 'approval.recorded' } });
    expect(row(runs.approved).divergence.reason).toContain('approval.recorded does not apply to task review');
  });

  it('deploys version 2 into definitions/refund.yaml; again is unchanged; other content under version 2 is refused', async () => {
    const r = await api('POST', '/api/definitions/deploy', { yaml: DRAFT_V2 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      workflowId: 'refund',
      version: 2,
      changed: true,
      file: 'refund.yaml',
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(readFileSync(join(dir, 'definitions', 'refund.yaml'), 'utf8')).toBe(DRAFT_V2);
    // Version 1 stays known from the runs that recorded it.
    const versions = (await api('GET', '/api/definitions')).body.workflows.find(
      (w: { id: string }) => w.id === 'refund',
    ).versions;
    expect(versions.map((v: { version: number; source: string }) => `${v.version}:${v.source}`)).toEqual([
      '2:file',
      '1:runs',
    ]);
    expect((await api('POST', '/api/definitions/deploy', { yaml: DRAFT_V2 })).body).toMatchObject({
      version: 2,
      changed: false,
    });
    const other = await api('POST', '/api/definitions/deploy', { yaml: DRAFT_V2.replace('[lead]', '[lead, ops]') });
    expect(other.status).toBe(400);
    expect(other.body.error.message).toContain('bump `version`');
    const older = await api('POST', '/api/definitions/deploy', {
      yaml: DRAFT_V2.replace('version: 2', 'version: 1').replace('[lead]', '[nobody]'),
    });
    expect(older.status).toBe(400);
    expect(readFileSync(join(dir, 'definitions', 'refund.yaml'), 'utf8')).toBe(DRAFT_V2);
    // What `ledgerflow start refund` now starts.
    const started = await cli(['start', 'refund', '--detach', '--json'], { cwd: dir });
    expect(JSON.parse(started.stdout)).toMatchObject({ version: 2 });
  });

  it('deploys a new workflow from a bundled template to definitions/<id>.yaml', async () => {
    const { templates } = (await api('GET', '/api/templates')).body;
    expect(templates.length).toBeGreaterThan(0);
    const t = templates[0];
    expect(t).toMatchObject({
      id: expect.any(String),
      title: expect.any(String),
      yaml: expect.stringContaining('workflow:'),
    });
    const yaml = t.yaml.replace(/^(\s+id:\s*)\S+/m, '$1from-template');
    const r = await api('POST', '/api/definitions/deploy', { yaml });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ workflowId: 'from-template', changed: true, file: 'from-template.yaml' });
    expect(readFileSync(join(dir, 'definitions', 'from-template.yaml'), 'utf8')).toBe(
      yaml.endsWith('\n') ? yaml : `${yaml}\n`,
    );
  });
});

describe('editing needs L1 where a users file gives levels (docs/dashboard.md, "Who may edit")', () => {
  let users: UiProcess;
  let project = '';
  beforeAll(async () => {
    project = tempDir('lf-editor-users-');
    mkdirSync(join(project, 'definitions'));
    writeFileSync(join(project, 'definitions', 'refund.yaml'), REFUND_V1);
    for (const [name, level, domains] of [
      ['bob', 'L1', ''],
      ['ops-east', 'L2', 'inventory'],
    ] as const) {
      const r = await cli(
        ['users', 'add', name, '--level', level, ...(domains ? ['--domains', domains] : []), '--password-stdin'],
        { cwd: project, stdin: `${name}-pw\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    users = await startUiProcess([], [], { cwd: project });
  }, 60_000);
  afterAll(async () => {
    await users?.stop();
  });

  const signIn = async (user: string) => {
    const r = await fetch(`${users.base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, password: `${user}-pw` }),
    });
    const body = (await r.json()) as { csrf: string };
    return { cookie: (r.headers.get('set-cookie') ?? '').split(';')[0]!, 'x-lf-csrf': body.csrf };
  };
  const as = async (who: Record<string, string>, path: string, body: unknown) => {
    const r = await fetch(`${users.base}${path}`, {
      method: 'POST',
      headers: { ...who, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };

  it('refuses an L2 person the check, the verdict and the deploy (403 naming both levels), nothing written', async () => {
    const ops = await signIn('ops-east');
    for (const route of ['validate', 'verdict', 'deploy']) {
      const r = await as(ops, `/api/definitions/${route}`, { yaml: DRAFT_V2 });
      expect([r.status, r.body.error.code, r.body.error.message], route).toEqual([
        403,
        'LF_AUTHORITY_REFUSED',
        'ops-east is L2 (Station OPS); deploying definitions needs L1 (CMD.BRIDGE) or higher',
      ]);
    }
    expect(readFileSync(join(project, 'definitions', 'refund.yaml'), 'utf8')).toBe(REFUND_V1);
  });

  it('lets an L1 person deploy', async () => {
    const bob = await signIn('bob');
    const r = await as(bob, '/api/definitions/deploy', { yaml: DRAFT_V2 });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(readFileSync(join(project, 'definitions', 'refund.yaml'), 'utf8')).toBe(DRAFT_V2);
  });
});
