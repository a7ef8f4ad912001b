/**
 * The one way a test gets a ledgerflow cluster on a real nats-server: the
 * server (a fresh one by default, the test run's shared one, or three nodes),
 * engines, workers, clients and raw connections, each made through this
 * fixture so that `stop()` takes all of them down in reverse order and no
 * test file writes its own set-up and tear-down.
 *
 *   const c = useCluster({ engines: 2, handlers: { pay: async () => ({}) }, deploy: [flow] });
 *   it('…', async () => { const { runId } = await c.client.start('flow', {}); … });
 *
 * `useCluster` starts it in beforeAll and stops it in afterAll (nothing when
 * no nats-server is installed: the describe is skipped with `noNats`);
 * `testCluster` is one for a single test (stopped when it ends), for tests
 * that need a fresh server; `startCluster` is the bare start. Isolation: an
 * own server is fresh per fixture; on the shared server a test keeps to
 * stream names of its own (`uniqueId`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as natsConnect } from '@nats-io/transport-node';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, inject, onTestFinished } from 'vitest';
import {
  ClusterClient,
  ClusterEngine,
  createWorker,
  type ClusterEngineOptions,
  type Worker,
  type WorkerOptions,
} from '../../src/cluster/index.js';
import { credentials } from '../../src/cluster/transport/messages.js';
import type { Definition } from '../../src/definition/index.js';
import type { Handlers } from '../../src/runtime/index.js';
import { runReads, type RunReads } from '../../src/runs/index.js';
import { asUser, startNatsCluster, startNatsServer, type NatsCluster, type NatsServer } from './nats.js';

/** Why the NATS tests are skipped here ('' when a usable nats-server is installed; see test/global-nats.ts). */
export const natsSkipReason: string = inject('natsSkipReason');
/** For `describe.skipIf(noNats)`. */
export const noNats = !!natsSkipReason;
/** A suffix for a describe's title that says why it was skipped ('' when it runs). */
export const skipNote = natsSkipReason ? ` (skipped: ${natsSkipReason})` : '';

/** A name no other test file uses (a stream, a subject prefix, a bucket on the shared server). */
export const uniqueId = (prefix = ''): string => `${prefix}${process.pid}_${randomBytes(4).toString('hex')}`;

interface Startable {
  start(): Promise<void>;
  stop(how?: { graceMs?: number }): Promise<void>;
}

/**
 * The grace of the engines and workers the fixture stops at the end: what is still in hand then is the test's
 * leftovers, not what it checks, and a whole grace (10 s by default) for it was the longest part of some files.
 */
const TEARDOWN_GRACE_MS = 200;
type EngineOptions = Omit<ClusterEngineOptions, 'nats'> & { nats?: ClusterEngineOptions['nats'] };
type WorkerOpts = Omit<WorkerOptions, 'nats'> & { nats?: WorkerOptions['nats'] };

export interface ClusterOptions {
  /**
   * 'own' (default): a fresh nats-server for this fixture (a test may kill and
   * restart it: `server`); 'shared': the test run's server (never stopped
   * here); 'three-nodes': a 3-node JetStream cluster (`natsCluster`).
   */
  server?: 'own' | 'shared' | 'three-nodes';
  /** The production nats.conf (every connection gives credentials) instead of nats-dev.conf. */
  production?: boolean;
  /** Another config file for an own server. */
  config?: string;
  /** false: an own server without users (every connection let in, naming no one). */
  users?: false;
  /** Engines started at once (default 0). */
  engines?: number;
  /** Options of every engine (connected as the engine user unless `nats` says otherwise). */
  engine?: EngineOptions;
  /** One worker with these handlers, connected as the `worker` user, started at once. */
  handlers?: Handlers;
  /** Options of that worker. */
  worker?: Omit<WorkerOpts, 'handlers'>;
  /** Definitions the client deploys once the rest is up. */
  deploy?: Definition[];
  /** Settings of the client (replicas on three nodes). */
  client?: ConstructorParameters<typeof ClusterClient>[1];
}

export interface Cluster {
  /** The server URL without credentials (on nats-dev.conf such a connection is the engine user). */
  url: string;
  /** The URL as one of nats.conf's users (their development passwords). */
  as(user: string): string;
  /** The own server (kill it with stop(), bring it back with restart()); undefined otherwise. */
  server: NatsServer | undefined;
  /** The three nodes (kill one with natsCluster.nodes[i].stop()); undefined otherwise. */
  natsCluster: NatsCluster | undefined;
  /** A client as the engine user. */
  client: ClusterClient;
  /** The run API's reads (status, wait, history, list) on that client's store. */
  runs: RunReads;
  /** The engines started here and not stopped (addEngine adds, stopEngine removes). */
  engines: ClusterEngine[];
  workers: Worker[];
  /** Starts one more engine (the cluster's engine options, overridden by `opts`). */
  addEngine(opts?: EngineOptions): Promise<ClusterEngine>;
  /** Stops that engine (gracefully, or within `how.graceMs`) and forgets it. */
  stopEngine(engine: ClusterEngine, how?: { graceMs?: number }): Promise<void>;
  /** Starts a worker, connected as the `worker` user unless `opts.nats` says otherwise. */
  addWorker(opts: WorkerOpts): Promise<Worker>;
  /** Stops that worker (within its grace, or `how.graceMs`) and forgets it. */
  stopWorker(worker: Worker, how?: { graceMs?: number; giveBack?: boolean }): Promise<void>;
  /** A client as `user` (default: the engine user; the same one each time unless `settings` are given), closed by stop(). */
  clientAs(user?: string, settings?: ConstructorParameters<typeof ClusterClient>[1]): ClusterClient;
  /** A raw connection as `user` (default: the engine user) with its reply inbox, as ledgerflow's clients connect; closed by stop(). */
  connect(user?: string, opts?: Partial<ConnectionOptions>): Promise<NatsConnection>;
  /** One connection as the engine user, made on first use (the same each time). */
  admin(): Promise<NatsConnection>;
  /** A JetStream manager on admin(). */
  jsm(): Promise<JetStreamManager>;
  /** Something else to undo at stop() (before what was made earlier). */
  defer(undo: () => unknown): void;
  /** Takes down all of the above, last made first, then the server (unless shared). */
  stop(): Promise<void>;
}

/** A config with JetStream and no authorization block, written once per test file. */
let noUsers: Promise<string> | undefined;
function noUsersConfig(): Promise<string> {
  noUsers ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lf-no-users-'));
    const file = join(dir, 'no-users.conf');
    await writeFile(file, 'jetstream {\n  max_memory_store: 64MB\n  max_file_store: 1GB\n}\n');
    return file;
  })();
  return noUsers;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const kind = opts.server ?? 'own';
  let server: NatsServer | undefined;
  let nodes: NatsCluster | undefined;
  let url: string;
  if (kind === 'shared') {
    url = inject('natsUrl');
    if (!url) throw new Error(`no shared nats-server: ${natsSkipReason}`);
  } else if (kind === 'three-nodes') {
    nodes = await startNatsCluster(3, { production: opts.production });
    url = nodes.url;
  } else {
    const config = opts.users === false ? await noUsersConfig() : opts.config;
    server = await startNatsServer({ production: opts.production, config });
    url = server.url;
  }
  const as = (user: string) => asUser(url, user);
  // Without credentials the production config refuses a connection: there the engine user is named.
  const engineUrl = opts.production ? as('engine') : url;
  const undo: (() => unknown)[] = [];
  const engines: ClusterEngine[] = [];
  const workers: Worker[] = [];
  let admin: Promise<NatsConnection> | undefined;
  const clients = new Map<string, ClusterClient>();

  const stop = async () => {
    const errors: unknown[] = [];
    for (const u of undo.splice(0).reverse()) {
      try {
        await u();
      } catch (err) {
        errors.push(err);
      }
    }
    if (server) await server.dispose();
    if (nodes) await nodes.dispose();
    if (errors.length > 0)
      throw new AggregateError(errors, `stopping the test cluster: ${errors.map(String).join('; ')}`);
  };

  /** Starts an engine or worker, listed in `running` until halted; stop() halts it if the test did not. */
  const launch = async <T extends Startable>(running: T[], it: T): Promise<T> => {
    running.push(it);
    undo.push(() => (running.includes(it) ? halt(running, it, { graceMs: TEARDOWN_GRACE_MS }) : undefined));
    await it.start();
    return it;
  };
  const halt = async <T extends Startable>(
    running: T[],
    it: T,
    how?: { graceMs?: number; giveBack?: boolean },
  ): Promise<void> => {
    const i = running.indexOf(it);
    if (i >= 0) running.splice(i, 1);
    await it.stop(how);
  };

  const cluster: Cluster = {
    url,
    as,
    server,
    natsCluster: nodes,
    engines,
    workers,
    client: undefined as unknown as ClusterClient,
    runs: undefined as unknown as RunReads,
    addEngine: (more = {}) => launch(engines, new ClusterEngine({ nats: engineUrl, ...opts.engine, ...more })),
    stopEngine: (e, how) => halt(engines, e, how),
    addWorker: (more) => launch(workers, createWorker({ nats: as('worker'), ...more })),
    stopWorker: (w, how) => halt(workers, w, how),
    clientAs(user, settings) {
      // One client per user (unless other settings are asked for): a test may call this wherever it needs one.
      const cached = settings ? undefined : clients.get(user ?? '');
      if (cached) return cached;
      const c = new ClusterClient(user ? as(user) : engineUrl, settings ?? opts.client);
      if (!settings) clients.set(user ?? '', c);
      undo.push(() => c.close());
      return c;
    },
    async connect(user, more = {}) {
      const nc = await natsConnect({ ...credentials(user ? as(user) : engineUrl), ...more });
      undo.push(() => nc.close());
      return nc;
    },
    admin: () => (admin ??= cluster.connect()),
    async jsm() {
      return jetstreamManager(await cluster.admin());
    },
    defer: (u) => {
      undo.push(u);
    },
    stop,
  };
  try {
    cluster.client = cluster.clientAs(undefined);
    cluster.runs = runReads(cluster.client.store);
    for (let i = 0; i < (opts.engines ?? 0); i++) await cluster.addEngine();
    if (opts.handlers) await cluster.addWorker({ ...opts.worker, handlers: opts.handlers });
    for (const d of opts.deploy ?? []) await cluster.client.deploy(d);
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}

/**
 * A cluster for the tests of this describe (or file): started in beforeAll,
 * stopped in afterAll. Its fields are read through the returned object once
 * the tests run. With no nats-server it starts nothing (skip the describe with `noNats`).
 */
export function useCluster(opts: ClusterOptions = {}): Cluster {
  let current: Cluster | undefined;
  beforeAll(async () => {
    if (noNats) return;
    current = await startCluster(opts);
  }, 90_000);
  afterAll(async () => {
    // Still readable while it stops: what was deferred may use it.
    try {
      await current?.stop();
    } finally {
      current = undefined;
    }
  }, 90_000);
  return new Proxy({} as Cluster, {
    get(_, key) {
      if (!current)
        throw new Error(
          `the test cluster is not running (read ${String(key)} in a test or hook, not while collecting)`,
        );
      return current[key as keyof Cluster];
    },
  });
}

/** A cluster of this test's own (a fresh server), stopped when the test ends. */
export async function testCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const c = await startCluster(opts);
  onTestFinished(() => c.stop());
  return c;
}
