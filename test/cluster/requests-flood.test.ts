/**
 * A person cannot fill the server through start requests (docs/nats.md, "filling the server"): with no engine
 * running (an upgrade, a crash), bob (L2) publishes 1 MB requests on his own subject as fast as the server
 * takes them. LF_REQUESTS refuses them once it holds its bound, the server's store is not filled, alice's
 * approval is still published.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClient } from '../../src/cluster/index.js';
import { credentials, REQUESTS_LIMITS } from '../../src/cluster/transport/index.js';
import { connect, jetstream, jetstreamManager } from '../../src/store/index.js';
import { noNats } from '../helpers/cluster.js';
import { cli, spawnCli, tempDir } from '../helpers/cli.js';
import type { NatsServer } from '../helpers/nats.js';
import { usersNatsServer } from '../helpers/authority.js';
import { killLeftovers } from '../helpers/processes.js';

const REVIEW = `workflow:
  id: stock-count
  domain: inventory
  tasks:
    - { id: review, type: HUMAN, agent_level: "L0" }
`;
const USERS = [['engine', 'L1'], ['alice', 'L0'], ['bob', 'L2']] as const;

const procs: ChildProcess[] = [];
let dir = '';
let server: NatsServer | undefined;
let admin: ClusterClient | undefined;
const url = (user: string) => `nats://${user}:pw-${user}@127.0.0.1:${server!.port}`;
const as = (user: string, args: string[]) => cli(['--nats', url(user), ...args], { cwd: dir });

describe.skipIf(noNats)('a flood of start requests while no engine runs', () => {
  beforeAll(async () => {
    dir = tempDir('lf-requests-flood-');
    writeFileSync(join(dir, 'stock-count.yaml'), REVIEW);
    server = await usersNatsServer(dir, USERS);
    expect((await as('engine', ['deploy', 'stock-count.yaml'])).code).toBe(0);
    admin = new ClusterClient(url('engine'));
  }, 60_000);
  afterAll(async () => {
    await admin?.close();
    await killLeftovers(procs);
    await server?.dispose();
  });

  it('LF_REQUESTS refuses bob past its bound, the server is not filled, and alice still approves', async () => {
    // A run waiting for alice, started by an engine that then stops (the flood comes while none runs).
    const engine = spawnCli(['--nats', url('engine'), 'engine', '--users', join(dir, 'users.yaml')], { cwd: dir });
    procs.push(engine);
    const { runId } = await admin!.start('stock-count', {});
    expect((await admin!.wait(runId, { orWaiting: true, timeoutMs: 30_000 })).status).toBe('WAITING');
    await killLeftovers([engine]);

    const nc = await connect({ ...credentials(url('bob')), name: 'flood' });
    const js = jetstream(nc);
    const body = new Uint8Array(1000 * 1024).fill(0x20);
    let accepted = 0;
    let refusal = '';
    for (let i = 0; i < 200 && refusal === ''; i++) {
      try {
        await js.publish(`lf.starts.bob.flood${String(i).padStart(6, '0')}`, body);
        accepted++;
      } catch (err) {
        refusal = (err as Error).message;
      }
    }
    expect(refusal).not.toBe('');
    // Then smaller ones into what is left, to the brim: a flooder fills the stream, not the server.
    for (let size = body.length >> 1, n = 0; size >= 64; size >>= 1) {
      for (;;) {
        try { await js.publish(`lf.starts.bob.fill${String(n++).padStart(6, '0')}`, body.subarray(0, size)); } catch { break; }
      }
    }
    // Full: what bob sends now is refused by the server, unread by any engine.
    await expect(js.publish('lf.starts.bob.probe00000', body.subarray(0, 300))).rejects.toThrow(/maximum bytes exceeded/);
    await nc.close();
    expect(accepted * body.length).toBeLessThanOrEqual(REQUESTS_LIMITS.maxBytes);
    const info = await (await jetstreamManager(await admin!.store.connection())).streams.info('LF_REQUESTS');
    expect(info.state.bytes).toBeLessThanOrEqual(REQUESTS_LIMITS.maxBytes);
    const account = await (await jetstreamManager(await admin!.store.connection())).getAccountInfo();
    expect(account.storage).toBeLessThan(REQUESTS_LIMITS.maxBytes + 16 * 1024 * 1024);

    // Approvals are not requests: alice's goes out (queued for the next engine), recording nothing yet.
    const approve = await as('alice', ['approve', runId, 'review', '--wait', '1s']);
    expect([approve.code, approve.stdout + approve.stderr]).toEqual([3, expect.stringContaining('it waits in LF_APPROVALS for the next engine')]);
  }, 120_000);
});
