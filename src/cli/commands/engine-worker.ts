/**
 * `ledgerflow engine` and `ledgerflow worker`: the long-running processes over NATS, an engine taking runtime inputs,
 * timers and triggers, a worker taking task attempts from the work queue, until stopped.
 */
import { parseSkills } from '../flags/skills-flag.js';
import { loadUsers, usersFilePath } from '../../users/index.js';
import { loadNotificationsConfig } from '../../notify/index.js';
import { relative, resolve } from 'node:path';
import { awaitServer, ClusterEngine, createWorker, natsSettings, offersEnabled } from '../../cluster/index.js';
import { senderOf } from '../../cluster/transport/sender.js';
import { ANONYMOUS_SENDER, DEFAULT_QUEUE } from '../../cluster/transport/subjects.js';
import { UsageError } from '../../errors/index.js';
import { workerQueue } from '../flags/station-flag.js';
import { allBreakers } from '../../limits/index.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { defaultDir, loadEventTypes } from '../../triggers/index.js';
import { loadHandlerModule } from '../../handlers/index.js';
import type { Io } from '../render/io.js';
import type { GlobalOpts } from '../flags/store.js';
import { jetstreamManager } from '../../store/index.js';
import { outputRootFlag } from '../flags/output-root.js';
import { commandRunnerFlag } from '../flags/command-limit.js';
import { workerHttpFlag } from '../flags/http-flag.js';
import { metricsFlags } from '../flags/metrics-flags.js';
import { archivalTick, everySecond, type RetentionFlags } from '../flags/retention-flags.js';
import { catchStopSignals, untilSignal } from '../signals.js';
import { followStateFile } from './state-file-follow.js';
import { stateFileKeep, stateFilePath, type StateFileFlags } from '../state-file-choice.js';
import { parseOutputRoot } from '../../files/index.js';
import { natsUrl, shownServers, integerFlag } from './cluster.js';

/** --output-root or LEDGERFLOW_OUTPUT_ROOT, checked before connecting (undefined: the current directory). */
function checkedOutputRoot(flag: string | undefined): string | undefined {
  const root = outputRootFlag(flag);
  return root === undefined
    ? undefined
    : parseOutputRoot(root, flag !== undefined ? '--output-root' : 'LEDGERFLOW_OUTPUT_ROOT');
}

/** The flags of the tasks an engine or a worker runs. */
type TaskFlags = {
  handlers?: string;
  commands?: boolean;
  commandOutputLimit?: string;
  http?: boolean;
  httpAllow?: string;
  queue?: string;
  concurrency?: string;
  outputRoot?: string;
  skills?: string;
  grace?: string;
};

/** --grace: how long a stop lets what is in hand finish (default 10 s) before giving the attempts running back. */
function graceFlag(flag: string | undefined): { stopGraceMs?: number } {
  const ms = optionalDurationFlag('--grace', flag, '10s, 1m or 0');
  return ms !== undefined ? { stopGraceMs: ms } : {};
}

export async function engineCmd(
  io: Io,
  g: GlobalOpts,
  opts: StateFileFlags &
    TaskFlags & {
      users?: string;
      events?: string;
      snapshotEvery?: string;
      schedules?: boolean;
      metricsPort?: string;
      metricsHost?: string;
      notifications?: string;
    } & RetentionFlags,
): Promise<number> {
  const url = natsUrl(g);

  const notifications = loadNotificationsConfig(opts.notifications);
  const outputRoot = checkedOutputRoot(opts.outputRoot);
  const commands = opts.commands ? commandRunnerFlag(opts.commandOutputLimit) : undefined;
  const http = workerHttpFlag(opts);
  const concurrency = integerFlag('--concurrency', opts.concurrency, 1);
  const every = integerFlag('--snapshot-every', opts.snapshotEvery, 0);
  const grace = graceFlag(opts.grace);
  const eventTypes = loadEventTypes(opts.events ?? defaultDir('events'), { required: false });
  const settings = natsSettings();
  const offers = offersEnabled();
  const metrics = await metricsFlags(opts, (l) => io.err(l));
  // The state file this engine keeps from the stream (docs/state-file.md): --state-file, LEDGERFLOW_STATE_FILE, or .3ox/ here.
  const stateFile = stateFilePath(opts);
  const keep = stateFileKeep(opts);
  // Who is who (docs/users.md): --users names the file, which must be there; without it, no level is judged.
  const users =
    opts.users !== undefined ? await loadUsers(usersFilePath(opts.users, process.env, process.cwd())) : null;
  if (opts.users !== undefined && !users)
    throw new UsageError(`--users ${opts.users}: there is no such file (write one with \`ledgerflow users add\`)`, {
      file: opts.users,
    });
  // With --handlers (or --commands), this process is also a worker for them. The attempts its engine starts it runs
  // in process, their outcomes committed directly (cluster/engine/local-attempts.ts); the rest (queued ones, a lost
  // engine's, another engine's offers) it takes as a remote worker does. Its outcomes are named by the URL's user, else
  // `engine` (the dev configs' no_auth_user; on a server without users any name goes, recorded as unauthenticated),
  // not `anonymous` (history said "reported by anonymous").
  const sender = senderOf(url) === ANONYMOUS_SENDER ? 'engine' : senderOf(url);
  const worker =
    opts.handlers || commands || http
      ? createWorker({
          nats: url,
          user: sender,
          handlers: opts.handlers ? await loadHandlerModule(resolve(opts.handlers)) : {},
          ...(commands ? { commands } : {}),
          ...(http ? { http } : {}),
          directOffers: offers,
          settings: settings.cluster,
          skills: parseSkills(opts.skills),
          ...(opts.queue ? { queue: opts.queue } : {}),
          ...(outputRoot ? { outputRoot } : {}),
          ...grace,
          log: (l) => io.err(l),
        })
      : null;
  let workerReady = false;
  const engine = new ClusterEngine({
    nats: { servers: url, ...settings.store },
    settings: settings.cluster,
    eventTypes,
    ...(users ? { users: users.users } : {}),
    directDispatch: offers,
    // Its engine runs attempts on it once it has started (below).
    ...(worker ? { local: { ...worker, queue: opts.queue ?? DEFAULT_QUEUE, sender, ready: () => workerReady } } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    snapshots: { ...settings.snapshots, ...(every !== undefined ? { every } : {}) },
    ...(opts.schedules === false ? { schedules: false as const } : {}),
    notifications,
    ...grace,
    log: (l) => io.err(l),
    ...(metrics ? { onCommit: metrics.onCommit, onNoted: metrics.metrics.hooks.onNoted } : {}),
  });
  // Runs past their retention move to the archive as the engines go (docs/retention.md): every engine looks, one at a
  // time moves (the store's `archive` lock), a bounded batch a round. Checked before the engine starts: a bad
  // --retention is exit 2 with nothing running.
  const tick = await archivalTick(engine.store, opts, (l) => io.err(l));
  // Started before its server (compose, systemd): waits for it, saying so, rather than exiting (docs/nats.md).
  await awaitServer(url, `engine ${process.pid}`, { say: (l) => io.err(l) });
  await engine.start();
  const archival = everySecond(tick);
  // The backlog is read from the server at each scrape, through the engine's connection.
  if (metrics) metrics.metrics.observeQueues(await jetstreamManager(await engine.store.connection()));
  // The breakers' states are the cluster's (KV LF_TASK_GATES), read at each scrape.
  if (metrics) metrics.metrics.observeBreakers(() => allBreakers(engine.store, Date.now()));
  // Runs already waiting when this engine starts get no commit until they move on: their holdings are shown now.
  let stopping = false;
  const pickedUp = metrics
    ? (await import('../../metrics/index.js')).showActiveRuns(
        engine,
        metrics.metrics,
        (l) => io.err(l),
        () => stopping,
      )
    : Promise.resolve();
  await worker?.start();
  workerReady = true;
  const follower = stateFile ? followStateFile(engine.store, { path: stateFile, keep, warn: (l) => io.err(l) }) : null;
  await follower?.ready;
  if (stateFile)
    io.err(`engine ${process.pid}: keeping the state file ${relative(process.cwd(), stateFile)} from the stream`);
  catchStopSignals(); // before the line that says it is ready (signals.ts)
  io.out(
    `engine ${process.pid} taking work from ${shownServers(url)}${worker ? ` (and running ${[...(opts.handlers ? [`tasks of ${opts.handlers}`] : []), ...(commands ? ['COMMAND tasks'] : []), ...(http ? ['HTTP tasks'] : [])].join(' and ')})` : ''}`,
  );
  return untilSignal(io, 'engine', async () => {
    stopping = true;
    await archival.stop();
    await pickedUp;
    workerReady = false;
    await worker?.stop();
    await engine.stop();
    await follower?.stop();
    await metrics?.close();
  });
}

export async function workerCmd(
  io: Io,
  g: GlobalOpts,
  opts: TaskFlags & { station?: string; ackWait?: string; secrets?: string },
): Promise<number> {
  if (!opts.handlers && !opts.commands && !opts.http)
    throw new UsageError(
      'a worker needs something to run: --handlers <module>, --commands (COMMAND tasks), --http (HTTP tasks), or several',
    );
  const http = workerHttpFlag(opts);
  const queue = workerQueue(opts);
  const url = natsUrl(g);
  const outputRoot = checkedOutputRoot(opts.outputRoot);
  const commands = opts.commands ? commandRunnerFlag(opts.commandOutputLimit) : undefined;
  const handlers = opts.handlers ? await loadHandlerModule(resolve(opts.handlers)) : {};
  const ackWaitMs = optionalDurationFlag('--ack-wait', opts.ackWait, '10s or 1m');
  const grace = graceFlag(opts.grace);
  // KV LF_SECRETS first (the worker's default), then this file and the environment: checked now, read at each attempt.
  if (opts.secrets !== undefined) (await import('../flags/secrets-flag.js')).secretsFlag(opts.secrets);
  // The cluster's settings whole (replicas, storage…): a worker that is first on a queue creates its stream, which
  // must be made as an engine would make it (it was R1 under LEDGERFLOW_NATS_REPLICAS=3: a node's loss lost it).
  const cluster = natsSettings().cluster;
  const offers = offersEnabled();
  const ackWait = ackWaitMs ?? cluster.taskAckWaitMs;
  const settings = { ...cluster, ...(ackWait !== undefined ? { taskAckWaitMs: ackWait } : {}) };
  const worker = createWorker({
    nats: url,
    handlers,
    ...(commands ? { commands } : {}),
    ...(http ? { http } : {}),
    directOffers: offers,
    ...(queue ? { queue } : {}),
    ...(outputRoot ? { outputRoot } : {}),
    settings,
    skills: parseSkills(opts.skills),
    ...(opts.concurrency !== undefined ? { concurrency: integerFlag('--concurrency', opts.concurrency, 1)! } : {}),
    ...grace,
    log: (l) => io.err(l),
  });
  await awaitServer(url, `worker ${process.pid}`, { say: (l) => io.err(l) });
  await worker.start();
  catchStopSignals();
  io.out(
    `worker ${process.pid} running ${[...Object.keys(handlers), ...(commands ? ['COMMAND tasks'] : []), ...(http ? ['HTTP tasks'] : [])].join(', ')} from queue ${queue ?? 'default'}${opts.station ? ` (station ${opts.station})` : ''}`,
  );
  return untilSignal(io, 'worker', () => worker.stop());
}
