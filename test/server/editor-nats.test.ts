/**
 * docs/dashboard.md, "Editing a definition", over the API on NATS: a
 * nats-server whose users come from the users file (`users nats-conf`), an
 * engine given that file, and `ledgerflow ui --nats`. bob (L1) checks the
 * docs' draft (its typo a 400 at 11:20) and deploys version 2 as himself: the
 * engine judges his level and stores it in the registry, as `ledgerflow deploy
 * --nats` as bob does. ops-east (L2) is refused the deploy (403), nothing stored.
 * The registry keeps the YAML each version was deployed from: the editor starts
 * from refund.yaml as `deploy` sent it, and from bob's draft after his deploy.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import { startNatsServer, type NatsServer } from '../helpers/nats.js';
import { killLeftovers } from '../helpers/processes.js';
import { startUiProcess, type UiProcess } from './ui-helpers.js';
import { DRAFT_V2, DRAFT_WITH_TYPO, REFUND_V1, TYPO_PROBLEM } from './editor-docs.js';

const procs: ChildProcess[] = [];
let dir = '';
let server: NatsServer | undefined;
let ui: UiProcess | undefined;
let engineLog = '';
const url = (user: string) => `nats://${user}:pw-${user}@127.0.0.1:${server!.port}`;

async function signIn(user: string): Promise<Record<string, string>> {
  const r = await fetch(`${ui!.base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password: `pw-${user}` }),
  });
  expect(r.status).toBe(200);
  const { csrf } = (await r.json()) as { csrf: string };
  return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, 'x-lf-csrf': csrf, 'content-type': 'application/json' };
}
const post = async (who: Record<string, string>, route: string, yaml: string) => {
  const r = await fetch(`${ui!.base}/api/definitions/${route}`, {
    method: 'POST',
    headers: who,
    body: JSON.stringify({ yaml }),
  });
  return { status: r.status, body: (await r.json()) as any };
};

describe.skipIf(noNats)('editing a definition over the API on NATS (docs/dashboard.md)', () => {
  beforeAll(async () => {
    dir = tempDir('lf-editor-nats-');
    writeFileSync(join(dir, 'refund.yaml'), REFUND_V1);
    for (const [name, level] of [
      ['engine', 'L1'],
      ['bob', 'L1'],
      ['ops-east', 'L2'],
    ] as const) {
      const r = await cli(
        [
          'users',
          'add',
          name,
          '--level',
          level,
          ...(level === 'L2' ? ['--domains', 'inventory'] : []),
          '--password-stdin',
        ],
        { cwd: dir, stdin: `pw-${name}\n` },
      );
      expect(r.code, r.stderr).toBe(0);
    }
    expect((await cli(['users', 'nats-conf', '--out', 'ledgerflow-users.conf'], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, 'nats.conf'), 'jetstream {}\ninclude ./ledgerflow-users.conf\n');
    server = await startNatsServer({ config: join(dir, 'nats.conf') });
    const deployed = await cli(['--nats', url('engine'), 'deploy', 'refund.yaml'], { cwd: dir });
    expect(deployed.code, deployed.stderr).toBe(0);
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    engine.stderr!.on('data', (d) => (engineLog += d));
    procs.push(engine);
    ui = await startUiProcess(['--nats', url('engine')], [], { cwd: dir });
  }, 60_000);
  afterAll(async () => {
    await ui?.stop();
    await killLeftovers(procs);
    await server?.dispose();
  });

  it("keeps the file `deploy` sent: the definition's page (and the editor) start from refund.yaml's own text", async () => {
    const bob = await signIn('bob');
    const detail = (await (await fetch(`${ui!.base}/api/definitions/refund`, { headers: bob })).json()) as {
      yaml: string;
      deployedText?: boolean;
      source: string;
    };
    expect(detail).toMatchObject({ source: 'deployed', deployedText: true });
    expect(detail.yaml).toBe(REFUND_V1);
  });

  it("checks bob's draft as validate does: the typo a 400 at 11:20, the fix valid with latest 1", async () => {
    const bob = await signIn('bob');
    const typo = await post(bob, 'validate', DRAFT_WITH_TYPO);
    expect(typo.status).toBe(400);
    const [issue] = typo.body.issues;
    expect(`${issue.line}:${issue.col} ${issue.code} ${issue.message}`).toBe(TYPO_PROBLEM);
    const fixed = await post(bob, 'validate', DRAFT_V2);
    expect([fixed.status, fixed.body.valid, fixed.body.latest, fixed.body.version]).toEqual([200, true, 1, 2]);
  });

  it('refuses ops-east (L2) the deploy with a 403, nothing stored', async () => {
    const ops = await signIn('ops-east');
    const r = await post(ops, 'deploy', DRAFT_V2);
    expect(r.status, JSON.stringify(r.body)).toBe(403);
    expect(r.body.error.message).toMatch(/^NATS user ops-east may not deploy definitions \(nats.conf permissions/);
    const versions = await cli(['--nats', url('engine'), 'map', '--json'], { cwd: dir });
    expect(versions.code, versions.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(versions.stdout))).not.toContain('"version":2');
  });

  it("deploys bob's version 2 as bob: the engine judges L1 and stores it in the registry", async () => {
    const bob = await signIn('bob');
    const r = await post(bob, 'deploy', DRAFT_V2);
    expect(r.status, JSON.stringify(r.body) + engineLog).toBe(200);
    expect(r.body).toMatchObject({
      workflowId: 'refund',
      version: 2,
      changed: true,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const detail = await fetch(`${ui!.base}/api/definitions/refund`, { headers: bob });
    expect(await detail.json()).toMatchObject({
      version: 2,
      source: 'deployed',
      versions: [2, 1],
      deployedText: true,
      yaml: DRAFT_V2,
    });
    const again = await post(bob, 'deploy', DRAFT_V2);
    expect(again.body).toMatchObject({ version: 2, changed: false });
  });
});
