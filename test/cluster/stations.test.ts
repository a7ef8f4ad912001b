/**
 * Stations over NATS leaf nodes (docs/nats.md#stations): a hub nats-server
 * (nats-dev.conf with a leaf port, domain hub) and station north's leaf node
 * (no JetStream: its clients use the hub's through the domain), on loopback,
 * the link between them through a proxy the test cuts and restores. A task
 * with `station: north` is run by a worker connected to the leaf; with the
 * link cut, runs started at the hub wait (and an attempt finished at the
 * station meanwhile is reported once the link is back); restored, every run
 * completes, each attempt run exactly once.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { writeHubConfig, writeLeafConfig } from '../../src/cli/dev-leaf.js';
import { askPresence, unserved } from '../../src/cluster/transport/presence.js';
import { connect, jetstreamManager } from '../../src/store/index.js';
import { noNats, startCluster, type Cluster } from '../helpers/cluster.js';
import { asUser, freePort, NATS_DEV_CONF, startNatsServer, type NatsServer } from '../helpers/nats.js';
import { gate, waitFor } from '../helpers/wait.js';

const FLOW = `
workflow:
  id: station-flow
  name: one task at station north
  version: 1
  input:
    optional:
      - n: 0
  tasks:
    - id: count
      type: SIMPLE
      station: north
      input:
        n: "\${workflow.input.n}"
`;

function definition(text: string): Definition {
  const parsed = parseDefinition(text);
  if (!parsed.definition) throw new Error(JSON.stringify(parsed.diagnostics));
  return parsed.definition;
}

/** A TCP proxy the test can cut (every connection closed, new ones refused) and restore: the station's link. */
async function linkProxy(target: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let srv: Server | null = null;
  const listen = () => new Promise<void>((res, rej) => {
    srv = createServer((client) => {
      const upstream = tcpConnect({ port: target, host: '127.0.0.1' });
      sockets.add(client).add(upstream);
      client.pipe(upstream);
      upstream.pipe(client);
      const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
    srv.once('error', rej);
    srv.listen(port, '127.0.0.1', () => res());
  });
  const cut = async () => {
    const s = srv as Server | null;
    srv = null;
    for (const x of sockets) x.destroy();
    sockets.clear();
    if (s) await new Promise<void>((res) => s.close(() => res()));
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

const undo: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const u of undo.splice(0).reverse()) await u().catch(() => undefined);
});

describe.skipIf(noNats)('stations: a leaf node linked to the hub', () => {
  it('a station task runs at the station; with the link cut runs wait, and an attempt finished meanwhile is reported once it is back; each attempt runs once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lf-stations-'));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    const leafPort = await freePort();
    const password = 'rStationsTestPassword0123';
    const link = await linkProxy(leafPort);
    undo.push(() => link.close());
    // The hub tells a leaf where to reconnect (its leaf port): here, the proxy's, or the leaf would go round the cut.
    const hubConf = writeHubConfig(NATS_DEV_CONF, join(dir, 'hub'), leafPort, password);
    await writeFile(hubConf, (await readFile(hubConf, 'utf8')).replace(/listen: (.*)\n/, `listen: $1\n  advertise: "127.0.0.1:${link.port}"\n`));
    const c: Cluster = await startCluster({ config: hubConf, engines: 1, deploy: [definition(FLOW)] });
    undo.push(() => c.stop());
    const leaf: NatsServer = await startNatsServer({ config: writeLeafConfig('north', join(dir, 'leaf'), `nats://leaf:${password}@127.0.0.1:${link.port}`) });
    undo.push(() => leaf.dispose());
    const atStation = (user: string) => `${asUser(leaf.url, user)}?domain=hub`;

    // The leaf has no JetStream: a client there reaches the hub's through the domain, and only so.
    const probe = await connect({ servers: leaf.url, domain: 'hub' });
    undo.push(() => probe.close());
    expect(probe.info?.jetstream ?? false).toBe(false);
    await waitFor('the hub\'s JetStream through the leaf', async () => {
      try { return (await (await jetstreamManager(probe, { timeout: 1000 })).getAccountInfo()).streams > 0; } catch { return false; }
    }, { timeout: 20_000 });

    const runs: { runId: string; attempt: number }[] = [];
    const held = gate();
    let holdNext = true;
    await c.addWorker({
      nats: atStation('worker'),
      queue: 'station-north',
      handlers: {
        async count(input, ctx) {
          runs.push({ runId: ctx.runId, attempt: ctx.attempt });
          if (holdNext) { holdNext = false; await held.opened; }
          return { n: (input as { n: number }).n };
        },
      },
    });

    // One run through the link, held in the handler while the link is cut.
    const first = await c.client.start('station-flow', { n: 1 });
    await waitFor('the station worker to take the first run', () => runs.length === 1, { timeout: 30_000 });
    await link.cut();
    held.open();

    // With the link down: runs started at the hub wait, none reaches the station.
    const later = [await c.client.start('station-flow', { n: 2 }), await c.client.start('station-flow', { n: 3 })];
    const admin = await c.admin();
    let heard: unknown = null;
    await waitFor('the engines to stop hearing the station\'s worker', async () => {
      const report = await askPresence(admin);
      heard = report;
      return unserved(report, 'station-north', 'count');
    }, { timeout: 40_000, detail: () => `${JSON.stringify(heard)} runs ${JSON.stringify(runs)}` });
    for (const r of later) expect((await c.client.status(r.runId))?.tasks.count?.status).toMatch(/SCHEDULED|IN_PROGRESS/);
    expect((await c.client.status(first.runId))?.status).toBe('RUNNING');
    expect(runs).toHaveLength(1);

    // Restored: the held outcome is recorded, the waiting runs run, each attempt once.
    await link.restore();
    for (const r of [first, ...later]) {
      const view = await c.client.wait(r.runId, { timeoutMs: 60_000 });
      expect(view.status, JSON.stringify(view.tasks)).toBe('COMPLETED');
    }
    expect((await c.client.status(first.runId))?.tasks.count?.output).toEqual({ n: 1 });
    expect(runs.map((r) => r.attempt)).toEqual([1, 1, 1]);
    expect(new Set(runs.map((r) => r.runId))).toEqual(new Set([first, ...later].map((r) => r.runId)));
  }, 180_000);
});
