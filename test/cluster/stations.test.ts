/**
 * Stations over NATS leaf nodes (docs/nats.md#stations): a hub nats-server
 * (nats-dev.conf with a leaf port, domain hub) and station north's leaf node
 * (no JetStream: its clients use the hub's through the domain), on loopback,
 * the link between them through a proxy the test cuts and restores. A task
 * with `station: north` is run by a worker connected to the leaf; with the
 * link cut, runs started at the hub wait (and an attempt finished at the
 * station meanwhile is reported once the link is back, and an approval sent
 * at the station is refused, saying the link may be down); restored, every
 * run completes, each attempt run exactly once, and the station's people
 * approve as their own NATS users, judged by the hub's engine (its users
 * file: alice, L2, may not decide an L0 task; the commander may). The second
 * test also has a leaf node without the leaf password refused by the hub. The second
 * test runs docs/nats.md's own workflow and commands (`dev --leaf-port`,
 * `dev --leaf north`) as a user would.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, ROOT, spawnCli, tempDir } from '../helpers/cli.js';
import { markedBlock } from '../docs/markdown.js';
import { parseDefinition, type Definition } from '../../src/definition/index.js';
import { writeHubConfig, writeLeafConfig } from '../../src/cli/commands/dev-leaf.js';
import { askPresence, unserved } from '../../src/cluster/transport/presence.js';
import { connect, jetstreamManager } from '../../src/store/index.js';
import { noNats, startCluster, type Cluster } from '../helpers/cluster.js';
import { ClusterClient } from '../../src/cluster/index.js';
import { asUser, freePort, NATS_DEV_CONF, natsServerBin, startNatsServer, type NatsServer } from '../helpers/nats.js';
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

/** An approval of an L0 task by people at the station: the hub's engine judges their level (engine --users). */
const REVIEW = `
workflow:
  id: station-review
  name: signed off at station north
  version: 1
  tasks:
    - id: sign
      type: HUMAN
      approvers: [alice, commander]
      agent_level: L0
`;

function definition(text: string): Definition {
  const parsed = parseDefinition(text);
  if (!parsed.definition) throw new Error(JSON.stringify(parsed.diagnostics));
  return parsed.definition;
}

/** A TCP proxy the test can cut (every connection closed, new ones refused) and restore: the station's link. */
async function linkProxy(
  target: number,
): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let srv: Server | null = null;
  const listen = () =>
    new Promise<void>((res, rej) => {
      srv = createServer((client) => {
        const upstream = tcpConnect({ port: target, host: '127.0.0.1' });
        sockets.add(client).add(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        const end = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
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
  it("a station task runs at the station; with the link cut runs wait, and an attempt finished meanwhile is reported once it is back (past the time a worker gives a report on a hub it reaches); each attempt runs once; the station's people approve as themselves, judged by the hub", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lf-stations-'));
    undo.push(() => rm(dir, { recursive: true, force: true }));
    const leafPort = await freePort();
    const password = 'rStationsTestPassword0123';
    const link = await linkProxy(leafPort);
    undo.push(() => link.close());
    // The hub tells a leaf where to reconnect (its leaf port): here, the proxy's, or the leaf would go round the cut.
    const hubConf = writeHubConfig(NATS_DEV_CONF, join(dir, 'hub'), leafPort, password, ['north']);
    await writeFile(
      hubConf,
      (await readFile(hubConf, 'utf8')).replace(
        /listen: (.*)\n/,
        `listen: $1\n  advertise: "127.0.0.1:${link.port}"\n`,
      ),
    );
    const users = new Map([
      ['alice', { level: 'L2' as const }],
      ['commander', { level: 'L0' as const }],
    ]);
    const c: Cluster = await startCluster({
      config: hubConf,
      engines: 1,
      engine: { users },
      deploy: [definition(FLOW), definition(REVIEW)],
    });
    undo.push(() => c.stop());
    const leaf: NatsServer = await startNatsServer({
      config: writeLeafConfig('north', join(dir, 'leaf'), `nats://leaf-north:${password}@127.0.0.1:${link.port}`),
    });
    undo.push(() => leaf.dispose());
    const atStation = (user: string) => `${asUser(leaf.url, user)}?domain=hub`;

    // The leaf has no JetStream: a client there reaches the hub's through the domain, and only so.
    const probe = await connect({
      servers: leaf.url,
      user: 'worker',
      pass: 'worker-dev-password',
      inboxPrefix: '_INBOX_worker',
      domain: 'hub',
    });
    undo.push(() => probe.close());
    expect(probe.info?.jetstream ?? false).toBe(false);
    await waitFor(
      "the hub's JetStream through the leaf",
      async () => {
        try {
          return (await (await jetstreamManager(probe, { timeout: 1000 })).getAccountInfo()).streams > 0;
        } catch {
          return false;
        }
      },
      { timeout: 20_000 },
    );

    // A leaf node without the leaf password is refused by the hub: nothing of the hub's reaches its clients.
    const rogueConf = writeLeafConfig(
      'rogue',
      join(dir, 'rogue'),
      `nats://leaf-rogue:notThePassword0123@127.0.0.1:${leafPort}`,
    );
    const roguePort = await freePort();
    const rogue = spawn(natsServerBin()!, ['-c', rogueConf, '-a', '127.0.0.1', '-p', String(roguePort), '-m', '-1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    undo.push(() => stopProcess(rogue, 'SIGKILL'));
    let rogueLog = '';
    rogue.stderr!.on('data', (d) => (rogueLog += d));
    await waitFor('the hub to refuse the rogue leaf', () => /authorization violation/i.test(rogueLog), {
      timeout: 20_000,
      detail: () => rogueLog,
    });
    const viaRogue = await connect({ servers: `nats://127.0.0.1:${roguePort}`, domain: 'hub' });
    undo.push(() => viaRogue.close());
    await expect(jetstreamManager(viaRogue, { timeout: 1000 }).then((m) => m.getAccountInfo())).rejects.toThrow(
      /jetstream is not enabled|no responders/,
    );

    const runs: { runId: string; attempt: number }[] = [];
    const held = gate();
    let holdNext = true;
    const workerLog: string[] = [];
    await c.addWorker({
      nats: atStation('worker'),
      log: (l) => workerLog.push(l),
      queue: 'station-north',
      // A worker gives up a report the hub does not take after a minute by default, and a station's worker waiting
      // for its link says so once a minute: 5 s here, the same behaviour without spending minutes on it.
      reportPatienceMs: 5_000,
      // Announced every second (default 5 s): the engines stop hearing it three periods after the cut, not fifteen seconds.
      presenceEveryMs: 1_000,
      handlers: {
        async count(input, ctx) {
          runs.push({ runId: ctx.runId, attempt: ctx.attempt });
          if (holdNext) {
            holdNext = false;
            await held.opened;
          }
          return { n: (input as { n: number }).n };
        },
      },
    });

    // A run that waits for people at the station (the link cut, their approval cannot reach the hub).
    const review = await c.client.start('station-review', {});
    await c.runs.wait(review.runId, { timeoutMs: 30_000, orWaiting: true });
    const alice = new ClusterClient(atStation('alice'));
    const commander = new ClusterClient(atStation('commander'));
    undo.push(
      () => alice.close(),
      () => commander.close(),
    );

    // One run through the link, held in the handler while the link is cut.
    const first = await c.client.start('station-flow', { n: 1 });
    await waitFor('the station worker to take the first run', () => runs.length === 1, { timeout: 30_000 });
    await link.cut();
    held.open();

    // With the link down: runs started at the hub wait, none reaches the station.
    const later = [await c.client.start('station-flow', { n: 2 }), await c.client.start('station-flow', { n: 3 })];
    const admin = await c.admin();
    let heard: unknown = null;
    await waitFor(
      "the engines to stop hearing the station's worker",
      async () => {
        const report = await askPresence(admin);
        heard = report;
        return unserved(report, 'station-north', 'count');
      },
      { timeout: 40_000, detail: () => `${JSON.stringify(heard)} runs ${JSON.stringify(runs)}` },
    );
    for (const r of later) expect((await c.runs.status(r.runId))?.tasks.count?.status).toMatch(/SCHEDULED|IN_PROGRESS/);
    expect((await c.runs.status(first.runId))?.status).toBe('RUNNING');
    expect(runs).toHaveLength(1);
    await expect(
      commander.decide(review.runId, 'sign', 'approved', 'commander', undefined, { waitMs: 5_000 }),
    ).rejects.toThrow(/no JetStream of domain hub answers through this server .*link to the hub is down/);

    // The held outcome waits for the link past the time a worker gives a report on a hub it reaches (its patience, said
    // every patience meanwhile): the third saying comes twice the patience after the first.
    const waitsForLink = () =>
      workerLog.filter((l) => l.includes("retrying until the station's link to the hub is back")).length;
    await waitFor(
      'the station worker to keep its outcome for more than twice its patience',
      () => waitsForLink() >= 3,
      { timeout: 60_000, detail: () => workerLog.join('\n') },
    );

    // Restored: the held outcome is recorded, the waiting runs run, each attempt once.
    await link.restore();
    for (const r of [first, ...later]) {
      const view = await c.runs.wait(r.runId, { timeoutMs: 60_000 });
      expect(view.status, JSON.stringify(view.tasks)).toBe('COMPLETED');
    }
    expect((await c.runs.status(first.runId))?.tasks.count?.output).toEqual({ n: 1 });
    expect(runs.map((r) => r.attempt)).toEqual([1, 1, 1]);
    expect(new Set(runs.map((r) => r.runId))).toEqual(new Set([first, ...later].map((r) => r.runId)));

    // People at the station approve as their own NATS users; the hub's engine judges them by the users file.
    await expect(
      alice.decide(review.runId, 'sign', 'approved', 'alice', undefined, { waitMs: 20_000 }),
    ).rejects.toThrow(/L2|level/);
    const decided = await commander.decide(review.runId, 'sign', 'approved', 'commander', undefined, {
      waitMs: 20_000,
    });
    expect(decided).toMatchObject({ how: 'published', verdict: { accepted: true } });
    expect((await c.runs.wait(review.runId, { timeoutMs: 30_000 })).status).toBe('COMPLETED');
    const said = (await c.client.store.read(review.runId))
      .filter((e) => e.type.startsWith('approval.'))
      .map((e) => `${e.type} ${String((e.data as { by?: string }).by)}`);
    expect(said).toEqual(['approval.refused alice', 'approval.recorded commander']);
  }, 240_000);
});

/** A background command of the docs' block: its output so far, and how to stop it (SIGTERM: `dev` stops its nats-server). */
interface Background {
  child: ChildProcess;
  out(): string;
}

function background(args: string[], cwd: string, env: Record<string, string>): Background {
  const child = spawnCli(args, { cwd, env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  undo.push(() => stop(child));
  return { child, out: () => out };
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('close', r));
  child.kill(signal);
  await gone;
}
const stop = (child: ChildProcess) => stopProcess(child);

/** A line of the block as words: single quotes keep spaces, `$id` is the captured run id. */
function words(line: string, vars: Record<string, string>): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map(
    (m) => m[1] ?? m[2]!.replace(/\$(\w+)/g, (_, v: string) => vars[v] ?? ''),
  );
}

describe.skipIf(noNats)('stations as docs/nats.md tells a user', () => {
  it("the docs' hub, station, workflow and commands: the station task runs at the station, alice approves through the leaf; with the leaf stopped runs wait for station north, restarted they run, each attempt once", async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'nats.md'), 'utf8');
    const project = tempDir('lf-stations-docs-');
    undo.push(() => rm(project, { recursive: true, force: true }));
    writeFileSync(join(project, 'station-count.yaml'), markedBlock(doc, 'station-workflow').join('\n'));
    writeFileSync(join(project, 'north-handlers.mjs'), markedBlock(doc, 'station-handlers').join('\n'));
    writeFileSync(join(project, 'hub-handlers.mjs'), markedBlock(doc, 'station-hub-handlers').join('\n'));
    // The block's ports, on free ones (the tests run side by side); each `dev` is given its own.
    const ports: Record<string, number> = { 4222: await freePort(), 4223: await freePort(), 7422: await freePort() };
    const withPorts = (l: string) => l.replace(/\b(4222|4223|7422)\b/g, (p) => String(ports[p]));
    const env: Record<string, string> = {};
    const vars: Record<string, string> = {};
    const procs: Record<string, Background> = {};
    const ready: [RegExp, RegExp][] = [
      [/dev --leaf-port/, /use it with/],
      [/dev --leaf /, /link to the hub is (up|not up)/],
      [/ engine /, /taking work/],
      [/ worker /, /running count/],
    ];
    const devArgs = (line: string) =>
      /dev --leaf-port/.test(line)
        ? ['--port', String(ports[4222])]
        : /dev --leaf /.test(line)
          ? ['--port', String(ports[4223]), '--hub', `nats://127.0.0.1:${ports[7422]}`]
          : [];
    const leafLine = { args: [] as string[] };
    const results: string[] = [];
    for (const raw of markedBlock(doc, 'station-commands')) {
      const line = withPorts(raw.replace(/\s+#\s.*$/, '').trim());
      if (line === '') continue;
      const exported = /^export (\w+)=(.*)$/.exec(line);
      if (exported) {
        env[exported[1]!] = exported[2]!;
        continue;
      }
      const captured = /^(\w+)=\$\((.*)\)$/.exec(line);
      const command = (captured ? captured[2]! : line).replace(/\s*&$/, '');
      const args = words(command, vars);
      expect(args.slice(0, 2), line).toEqual(['npx', 'ledgerflow']);
      const argv = [...args.slice(2), ...devArgs(line)];
      if (line.endsWith('&')) {
        const p = background(argv, project, env);
        procs[argv[0] === 'dev' ? argv[1]! : argv[0]!] = p;
        if (/dev --leaf /.test(line)) leafLine.args = argv;
        const want = ready.find(([which]) => which.test(` ${command} `))?.[1];
        if (want) await waitFor(`${command} to be ready`, () => want.test(p.out()), { timeout: 30_000, detail: p.out });
        continue;
      }
      const r = await cli(argv, { cwd: project, env });
      results.push(`${command} → ${r.code}\n${r.stdout}${r.stderr}`);
      if (captured) vars[captured[1]!] = r.stdout.trim();
      // `wait --or-waiting` says the run waits for alice (3); everything else succeeds.
      expect(
        r.code,
        results.join('\n') +
          Object.values(procs)
            .map((p) => p.out())
            .join('\n'),
      ).toBe(/--or-waiting/.test(line) ? 3 : 0);
    }
    expect(results.at(-1)).toContain('COMPLETED');
    const worker = procs.worker!;
    const at = { cwd: project, env };
    const leafUrl = (user: string) => `nats://${user}:${user}-dev-password@127.0.0.1:${ports[4223]}?domain=hub`;
    expect(worker.out()).toContain(`counted bolts for run ${vars.id}, attempt 1`);

    // bob, at the station too, is not the task's approver: the hub's engine refuses him.
    const second = (await cli(['start', 'station-count', '--item', 'nuts'], at)).stdout.trim();
    expect((await cli(['wait', second, '--or-waiting', '--timeout', '60s'], at)).code).toBe(3);
    const bob = await cli(['approve', second, 'sign', '--nats', leafUrl('bob')], at);
    expect(bob.code).toBe(2);
    expect(bob.stderr).toContain('bob may not decide task sign; its approvers are alice');

    // The station's leaf node stopped: its tasks wait, and status says for what.
    await stop(procs['--leaf']!.child);
    const waiting = [
      (await cli(['start', 'station-count', '--item', 'washers'], at)).stdout.trim(),
      (await cli(['start', 'station-count', '--item', 'screws'], at)).stdout.trim(),
    ];
    for (const run of waiting) {
      await waitFor(
        `status of ${run} to say it waits for station north`,
        async () =>
          (await cli(['status', run], at)).stdout.match(
            /count\s+(SCHEDULED|IN_PROGRESS)\s+attempts 1\s+waits for station north/,
          ),
        { timeout: 30_000 },
      );
    }
    expect(worker.out()).not.toMatch(/counted (washers|screws)/);

    // Started again: the waiting runs reach the station, alice approves them through it, each attempt ran once.
    const again = background(leafLine.args, project, env);
    await waitFor('the station to be linked again', () => /link to the hub is up/.test(again.out()), {
      timeout: 30_000,
      detail: again.out,
    });
    for (const run of [second, ...waiting]) {
      expect((await cli(['wait', run, '--or-waiting', '--timeout', '60s'], at)).code, worker.out()).toBe(3);
      expect((await cli(['approve', run, 'sign', '--nats', leafUrl('alice')], at)).code).toBe(0);
      expect((await cli(['wait', run, '--timeout', '60s'], at)).code).toBe(0);
    }
    const counted = worker
      .out()
      .split('\n')
      .filter((l) => l.startsWith('counted '));
    expect(counted.sort()).toEqual(
      [vars.id!, second, ...waiting]
        .map((run, i) => `counted ${['bolts', 'nuts', 'washers', 'screws'][i]} for run ${run}, attempt 1`)
        .sort(),
    );
  }, 240_000);
});
