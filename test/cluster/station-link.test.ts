/**
 * Issue 60: "a leaf node holding the leaf password has the engine's power". A
 * hub whose users come from the users file (`users add … --stations north`,
 * `users nats-conf`), its leaf port open, and two leaf nodes linked with
 * station north's link password (`leaf-north`): the station's own, written as
 * docs/nats.md#stations says (its users file, `users nats-conf --domain hub`),
 * and a rogue one, a stock nats-server whose config the attacker wrote, with
 * one plain local user, mallory. As mallory, using reply inboxes the link does
 * carry (the station worker's), the attacker reads LF_SECRETS and the engines'
 * attempt secret by direct get, publishes an approval and a start as alice (a
 * person of the hub), an approval as sam (a person of station south), and
 * pulls the default queue's attempts: each is refused, nothing of it lands in
 * a stream, while the same link carries the station's own lines (the engines'
 * public attempt key). A leaf node linking with the engine's password is
 * refused by the hub. Meanwhile the station works end to end through its own
 * leaf: nora (L2, at north) starts a run there, its task runs on the
 * station's worker (queue station-north), and she approves it.
 */
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { cli, tempDir } from '../helpers/cli.js';
import { noNats, startCluster, type Cluster } from '../helpers/cluster.js';
import { freePort, natsServerBin, startNatsServer, type NatsServer } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';

const FLOW = `workflow:
  id: north-count
  domain: inventory
  tasks:
    - { id: count, type: SIMPLE, station: north }
    - { id: sign, type: HUMAN, depends_on: [count], approvers: [nora, alice], agent_level: L2 }
`;
/** The hub's users file: [name, level, --stations]; every password `<name>-dev-password`. */
const HUB_USERS = [
  ['engine', 'L1', ''],
  ['alice', 'L1', ''],
  ['nora', 'L2', 'north'],
  ['sam', 'L1', 'south'],
  ['worker-north', 'L3', 'north'],
  ['leaf-north', 'L3', 'north'],
] as const;
const LINK_PASSWORD = 'leaf-north-dev-password';

function definition(text: string): Definition {
  const parsed = parseDefinition(text);
  if (!parsed.definition) throw new Error(JSON.stringify(parsed.diagnostics));
  return parsed.definition;
}

async function addUsers(
  dir: string,
  file: string,
  users: readonly (readonly [string, string, string])[],
): Promise<void> {
  for (const [name, level, stations] of users) {
    const r = await cli(
      [
        'users',
        'add',
        name,
        '--level',
        level,
        '--users',
        file,
        ...(level === 'L2' ? ['--domains', 'inventory'] : []),
        ...(stations ? ['--stations', stations] : []),
        ...(name === 'worker-north' ? ['--queues', 'station-north'] : []),
        '--password-stdin',
      ],
      { cwd: dir, stdin: `${name}-dev-password\n` },
    );
    expect(r.code, r.stderr).toBe(0);
  }
}

const undo: (() => Promise<unknown>)[] = [];
let dir = '';
let hub: Cluster;
let leaf: NatsServer;
let rogue: NatsServer;
let leafPort = 0;
let mallory: NatsConnection;

describe.skipIf(noNats)("a station's link carries only that station (issue 60)", () => {
  beforeAll(async () => {
    dir = tempDir('lf-station-link-');
    undo.push(() => rm(dir, { recursive: true, force: true }));
    // The hub: its users file, nats-conf, a leaf port.
    await addUsers(dir, 'users.yaml', HUB_USERS);
    const conf = await cli(['users', 'nats-conf', '--out', 'ledgerflow-users.conf'], { cwd: dir });
    expect(conf.code, conf.stderr).toBe(0);
    leafPort = await freePort();
    await writeFile(
      join(dir, 'hub.conf'),
      `jetstream { domain: hub }\nmax_payload: 8MB\ninclude ./ledgerflow-users.conf\nleafnodes { listen: 127.0.0.1:${leafPort} }\n`,
    );
    const levels = new Map(
      HUB_USERS.map(([n, l]) => [n, { level: l, ...(l === 'L2' ? { domains: ['inventory'] } : {}) }]),
    );
    hub = await startCluster({
      config: join(dir, 'hub.conf'),
      production: true,
      engines: 1,
      engine: { users: levels },
      deploy: [definition(FLOW)],
    });
    undo.push(() => hub.stop());
    const secret = await cli(['--nats', hub.as('engine'), 'secrets', 'set', 'API_TOKEN'], {
      cwd: dir,
      stdin: 'S3cr3t-T0ken',
    });
    expect(secret.code, secret.stderr).toBe(0);

    // Station north's own leaf node, as docs/nats.md#stations writes it.
    await addUsers(dir, 'north-users.yaml', [
      ['engine', 'L1', ''],
      ['nora', 'L2', ''],
      ['worker-north', 'L3', ''],
    ]);
    expect(
      (
        await cli(
          ['users', 'nats-conf', '--domain', 'hub', '--users', 'north-users.yaml', '--out', 'north-accounts.conf'],
          { cwd: dir },
        )
      ).code,
    ).toBe(0);
    const remote = `remotes: [ { url: "nats://leaf-north:${LINK_PASSWORD}@127.0.0.1:${leafPort}", account: LF } ]`;
    await writeFile(
      join(dir, 'north.conf'),
      `server_name: north\nmax_payload: 8MB\nleafnodes { ${remote} }\ninclude ./north-accounts.conf\n`,
    );
    leaf = await startNatsServer({ config: join(dir, 'north.conf') });
    undo.push(() => leaf.dispose());
    // The attacker's: the same link password, a config of its own, one local user with no permissions set.
    await writeFile(
      join(dir, 'rogue.conf'),
      `server_name: rogue\nleafnodes { ${remote} }\naccounts { LF: { users: [ { user: mallory, password: mallory } ] } }\n`,
    );
    rogue = await startNatsServer({ config: join(dir, 'rogue.conf') });
    undo.push(() => rogue.dispose());
    mallory = await connect({
      servers: rogue.url,
      user: 'mallory',
      pass: 'mallory',
      inboxPrefix: '_INBOX_worker-north',
    });
    undo.push(() => mallory.close());
    // The link is up once the station's own line answers through it: the engines' public attempt key.
    await waitFor(
      'the rogue leaf to be linked',
      async () => {
        try {
          return (
            (await mallory.request('$JS.hub.API.DIRECT.GET.KV_LF_KEYS.$KV.LF_KEYS.attempts', '', { timeout: 1000 }))
              .data.length > 0
          );
        } catch {
          return false;
        }
      },
      { timeout: 30_000 },
    );
  }, 120_000);
  afterAll(async () => {
    for (const u of undo.splice(0).reverse()) await u().catch(() => undefined);
  });

  it("the station works end to end through its own leaf: nora starts a run there, the station's worker runs its task, she approves it", async () => {
    const counted: string[] = [];
    await hub.addWorker({
      nats: `nats://worker-north:worker-north-dev-password@127.0.0.1:${leaf.port}?domain=hub`,
      queue: 'station-north',
      handlers: {
        async count(_input, ctx) {
          counted.push(ctx.runId);
          return { counted: 42 };
        },
      },
    });
    const nora = `nats://nora:nora-dev-password@127.0.0.1:${leaf.port}?domain=hub`;
    const started = await cli(['--nats', nora, 'start', 'north-count'], { cwd: dir });
    expect(started.code, started.stderr).toBe(0);
    const runId = started.stdout.trim();
    expect((await hub.runs.wait(runId, { orWaiting: true, timeoutMs: 60_000 })).status).toBe('WAITING');
    expect(counted).toEqual([runId]);
    const approved = await cli(['--nats', nora, 'approve', runId, 'sign'], { cwd: dir });
    expect(approved.code, approved.stderr).toBe(0);
    expect((await hub.runs.wait(runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
    const by = (await hub.client.store.read(runId)).flatMap((e) =>
      e.type === 'approval.recorded'
        ? [(e.data as { by?: string }).by]
        : e.type === 'run.started'
          ? [`started by ${(e.data as { source?: { by?: string } }).source?.by}`]
          : [],
    );
    expect(by).toEqual(['started by nora', 'nora']);
  }, 120_000);

  it('a rogue leaf with the link password: no secret, no attempt secret, no other queue, no approval or start as a person not at the station', async () => {
    const { runId } = await hub.client.start('north-count', {});
    const refused = (subject: string) =>
      expect(mallory.request(subject, '', { timeout: 2000 }), subject).rejects.toThrow(/no responders|timeout/i);
    await refused('$JS.hub.API.DIRECT.GET.KV_LF_SECRETS.$KV.LF_SECRETS.API_TOKEN');
    await refused('$JS.hub.API.DIRECT.GET.KV_LF_ENGINE.$KV.LF_ENGINE.attempt-secret');
    await refused('$JS.hub.API.STREAM.INFO.KV_LF_SECRETS');
    await refused('$JS.hub.API.CONSUMER.MSG.NEXT.LF_TASKS_default.w_default_count');
    const js = jetstream(mallory, { domain: 'hub' });
    const forged = [
      `lf.approvals.${runId}.sign.alice`,
      `lf.approvals.${runId}.sign.sam`,
      'lf.starts.alice.forgedStart0001',
      'lf.starts.sam.forgedStart0002',
    ];
    for (const subject of forged)
      await expect(
        js.publish(subject, JSON.stringify({ decision: 'approved', workflow: 'north-count', input: {} }), {
          timeout: 2000,
        }),
        subject,
      ).rejects.toThrow(/no responders|jetstream is not enabled|timeout/i);
    // Nothing of it is in a stream (asked at the hub, as the engine).
    const jsm = await hub.jsm();
    for (const subject of forged) {
      const stream = subject.startsWith('lf.approvals.') ? 'LF_APPROVALS' : 'LF_REQUESTS';
      expect(
        await jsm.streams
          .getMessage(stream, { last_by_subj: subject })
          .catch((err: Error) => (/no message found/i.test(err.message) ? null : err)),
        subject,
      ).toBeNull();
    }
    expect((await hub.runs.status(runId))?.tasks.sign?.status ?? 'not yet').not.toBe('COMPLETED');
    // The direct-get answer, for contrast: the station's own line does cross the same link.
    expect(
      (await mallory.request('$JS.hub.API.DIRECT.GET.KV_LF_KEYS.$KV.LF_KEYS.attempts', '', { timeout: 2000 })).data
        .length,
    ).toBeGreaterThan(0);
  }, 60_000);

  it("a leaf node linking with the engine's password is refused by the hub: only a link user links one", async () => {
    const conf = join(dir, 'as-engine.conf');
    await writeFile(
      conf,
      `leafnodes { remotes: [ { url: "nats://engine:engine-dev-password@127.0.0.1:${leafPort}", account: LF } ] }\naccounts { LF: { users: [ { user: mallory, password: mallory } ] } }\n`,
    );
    const child = spawn(natsServerBin()!, ['-c', conf, '-a', '127.0.0.1', '-p', String(await freePort()), '-m', '-1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    undo.push(async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('close', r));
        child.kill('SIGKILL');
        await gone;
      }
    });
    let log = '';
    child.stderr!.on('data', (d) => (log += d));
    await waitFor('the hub to refuse a leaf linking as the engine', () => /authorization violation/i.test(log), {
      timeout: 20_000,
      detail: () => log,
    });
  }, 30_000);
});
