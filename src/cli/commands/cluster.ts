/** Cluster commands: deploy, engine, worker — and emit when --nats is given. */
import { parseSkills } from '../flags/skills-flag.js';
import { loadUsers, usersFilePath } from '../../users/index.js';
import { loadNotificationsConfig } from '../../notify/index.js';
import { randomUUID } from 'node:crypto';
import { relative, resolve } from 'node:path';
import { z } from 'zod';
import { folderReader, loadDefinitionFile } from '../../files/index.js';
import {
  ClusterClient,
  ClusterEngine,
  createWorker,
  inspectCluster,
  natsSettings,
  offersEnabled,
  TASK_STREAM_PREFIX,
} from '../../cluster/index.js';
import { senderOf } from '../../cluster/transport/sender.js';
import { checkRoutes, parseRoutes, routeFindings } from '../../cluster/admin/route-check.js';
import { ANONYMOUS_SENDER } from '../../cluster/transport/subjects.js';
import { UsageError, errorMessage, formatDiagnostic } from '../../errors/index.js';
import { workerQueue } from '../flags/station-flag.js';
import { allBreakers } from '../../limits/index.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { defaultDir, loadEventTypes, parseEventEnvelope, runIdForEvent } from '../../triggers/index.js';
import { loadHandlerModule } from '../../handlers/index.js';
import { json, type Io } from '../render/io.js';
import { waitFlag } from '../flags/input-flags.js';
import { EXIT } from '../render/exit.js';
import { gatedLine } from '../render/render.js';
import type { GlobalOpts } from '../flags/store.js';
import { parseServers, jetstreamManager } from '../../store/index.js';
import { outputRootFlag } from '../flags/output-root.js';
import { commandRunnerFlag } from '../flags/command-limit.js';
import { workerHttpFlag } from '../flags/http-flag.js';
import { metricsFlags } from '../flags/metrics-flags.js';
import { untilSignal } from '../signals.js';
import { followStateFile } from './state-file-follow.js';
import { stateFileKeep, stateFilePath, type StateFileFlags } from '../state-file-choice.js';
import { parseOutputRoot } from '../../files/index.js';
import { inert } from '../../terminal/index.js';

export function natsUrl(g: GlobalOpts): string {
  const url = g.nats ?? process.env.LEDGERFLOW_NATS_URL;
  if (!url)
    throw new UsageError(
      'this command needs NATS: pass --nats <url> or set LEDGERFLOW_NATS_URL (start a local server with `ledgerflow dev`)',
      {},
    );
  return url;
}

/** The servers of a --nats value, without credentials, to print. */
function shownServers(url: string): string {
  return parseServers(url).servers.join(',');
}

export async function withClient<T>(g: GlobalOpts, fn: (c: ClusterClient) => Promise<T>): Promise<T> {
  const client = new ClusterClient(natsUrl(g), natsSettings());
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** Every stream and bucket ledgerflow keeps, with replicas, leader and health; exit 1 when anything needs attention. */
export function doctorCmd(io: Io, g: GlobalOpts, opts: { json?: boolean; routes?: string }): Promise<number> {
  const settings = natsSettings();
  let routes: ReturnType<typeof parseRoutes> = [];
  try {
    routes = opts.routes !== undefined ? parseRoutes(opts.routes) : [];
  } catch (err) {
    throw new UsageError(errorMessage(err), { routes: opts.routes });
  }
  return withClient(g, async (c) => {
    const nc = await c.store.connection();
    const inspected = await inspectCluster(await jetstreamManager(nc), {
      server: nc.getServer(),
      expectedReplicas: settings.cluster.replicas ?? 1,
      ...(settings.store.stream ? { logStream: settings.store.stream } : {}),
    });
    // Route authorization: checked on the routes given; a server in a cluster without --routes is said to be unchecked.
    const checks = await checkRoutes(routes);
    const found = routeFindings(checks);
    const cluster = nc.info?.cluster;
    if (routes.length === 0 && cluster)
      found.notes.push(
        `this server is in cluster ${cluster}: its routes were not checked; give --routes <host:port,…> (each node's cluster listen address) to check that they refuse a server without the route password`,
      );
    const report = {
      ...inspected,
      routes: checks,
      warnings: [...inspected.warnings, ...found.warnings],
      notes: [...inspected.notes, ...found.notes],
    };
    if (opts.json) io.out(json(report));
    else {
      io.out(`NATS ${report.server}, replica setting ${report.expectedReplicas}`);
      for (const s of report.streams) {
        const peers = s.peers
          .map((p) => `${p.name} ${p.offline ? 'offline' : p.current ? 'current' : `behind ${p.lag}`}`)
          .join(', ');
        io.out(
          `  ${s.name.padEnd(20)} ${s.kind.padEnd(6)} R${s.replicas}  leader ${s.leader ?? '-'}${peers ? `  (${peers})` : ''}  ${s.messages} msgs`,
        );
      }
      if (report.missing.length > 0) io.out(`  not created yet (made on first use): ${report.missing.join(', ')}`);
      if (!report.streams.some((s) => s.name.startsWith(TASK_STREAM_PREFIX)))
        io.out(
          `  no task queue yet: an engine makes ${TASK_STREAM_PREFIX}<queue> when it first hands out an attempt on that queue`,
        );
      for (const n of report.notes) io.out(`note: ${n}`);
      for (const w of report.warnings) io.err(`warning: ${w}`);
      if (report.warnings.length === 0) io.out('✓ every stream and bucket as set');
    }
    return report.warnings.length === 0 ? EXIT.ok : EXIT.failed;
  });
}

export function deployCmd(
  io: Io,
  g: GlobalOpts,
  files: string[],
  opts: { json?: boolean; wait?: string },
): Promise<number> {
  const waitMs = waitFlag(opts.wait);
  return withClient(g, async (c) => {
    const results = [];
    const folder = folderReader();
    // Every file checked here first (each problem at its line:col), whoever deploys.
    const loaded = files.map((file) => ({ ...loadDefinitionFile(file, { folder }), file }));
    for (const { warnings } of loaded) for (const w of warnings) io.err(inert(formatDiagnostic(w)));
    // A person's NATS user may not write the registry: the engines judge their level and deploy it.
    if (!(await c.mayWriteLog()))
      return (await import('./person-requests.js')).personDeploy(io, natsUrl(g), files, {
        waitMs,
        json: opts.json ?? false,
      });
    for (const { file, definition, text } of loaded) results.push({ file, ...(await c.deploy(definition, text)) });
    if (opts.json) io.out(json(results));
    else
      for (const r of results)
        io.out(
          `${r.changed ? 'deployed' : 'unchanged'} ${r.workflowId}@${r.version} (${r.hash.slice(0, 12)}) from ${r.file}`,
        );
    return EXIT.ok;
  });
}

/** A whole-number flag, at least `min`; undefined when absent. */
export function integerFlag(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const r = z
    .string()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(Number.MAX_SAFE_INTEGER))
    .safeParse(text);
  if (!r.success) throw new UsageError(`${flag} ${text} must be a whole number of at least ${min}`, { value: text });
  return r.data;
}

/** --output-root or LEDGERFLOW_OUTPUT_ROOT, checked before connecting (undefined: the current directory). */
function checkedOutputRoot(flag: string | undefined): string | undefined {
  const root = outputRootFlag(flag);
  return root === undefined
    ? undefined
    : parseOutputRoot(root, flag !== undefined ? '--output-root' : 'LEDGERFLOW_OUTPUT_ROOT');
}

export async function engineCmd(
  io: Io,
  g: GlobalOpts,
  opts: StateFileFlags & {
    users?: string;
    handlers?: string;
    commands?: boolean;
    commandOutputLimit?: string;
    http?: boolean;
    httpAllow?: string;
    queue?: string;
    events?: string;
    concurrency?: string;
    snapshotEvery?: string;
    outputRoot?: string;
    schedules?: boolean;
    metricsPort?: string;
    metricsHost?: string;
    notifications?: string;
    skills?: string;
  },
): Promise<number> {
  const url = natsUrl(g);
  const notifications = loadNotificationsConfig(opts.notifications);
  const outputRoot = checkedOutputRoot(opts.outputRoot);
  const commands = opts.commands ? commandRunnerFlag(opts.commandOutputLimit) : undefined;
  const http = workerHttpFlag(opts);
  const concurrency = integerFlag('--concurrency', opts.concurrency, 1);
  const every = integerFlag('--snapshot-every', opts.snapshotEvery, 0);
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
  const engine = new ClusterEngine({
    nats: { servers: url, ...settings.store },
    settings: settings.cluster,
    eventTypes,
    ...(users ? { users: users.users } : {}),
    directDispatch: offers,
    ...(concurrency !== undefined ? { concurrency } : {}),
    snapshots: { ...settings.snapshots, ...(every !== undefined ? { every } : {}) },
    ...(opts.schedules === false ? { schedules: false as const } : {}),
    notifications,
    log: (l) => io.err(l),
    ...(metrics ? { onCommit: metrics.onCommit, onNoted: metrics.metrics.hooks.onNoted } : {}),
  });
  await engine.start();
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
  // With --handlers (or --commands), this process is also a worker for them: the same code path as a remote worker.
  // Its reports are the engine's: named by the URL's user, else `engine` (the dev configs' no_auth_user; on a server
  // without users any name goes, recorded as unauthenticated), not `anonymous` (history said "reported by anonymous").
  const worker =
    opts.handlers || commands || http
      ? createWorker({
          nats: url,
          user: senderOf(url) === ANONYMOUS_SENDER ? 'engine' : senderOf(url),
          handlers: opts.handlers ? await loadHandlerModule(resolve(opts.handlers)) : {},
          ...(commands ? { commands } : {}),
          ...(http ? { http } : {}),
          directOffers: offers,
          settings: settings.cluster,
          skills: parseSkills(opts.skills),
          ...(opts.queue ? { queue: opts.queue } : {}),
          ...(outputRoot ? { outputRoot } : {}),
          log: (l) => io.err(l),
        })
      : null;
  await worker?.start();
  const follower = stateFile ? followStateFile(engine.store, { path: stateFile, keep, warn: (l) => io.err(l) }) : null;
  await follower?.ready;
  if (stateFile)
    io.err(`engine ${process.pid}: keeping the state file ${relative(process.cwd(), stateFile)} from the stream`);
  io.out(
    `engine ${process.pid} taking work from ${shownServers(url)}${worker ? ` (and running ${[...(opts.handlers ? [`tasks of ${opts.handlers}`] : []), ...(commands ? ['COMMAND tasks'] : []), ...(http ? ['HTTP tasks'] : [])].join(' and ')})` : ''}`,
  );
  return untilSignal(io, 'engine', async () => {
    stopping = true;
    await pickedUp;
    await worker?.stop();
    await engine.stop();
    await follower?.stop();
    await metrics?.close();
  });
}

export async function workerCmd(
  io: Io,
  g: GlobalOpts,
  opts: {
    handlers?: string;
    commands?: boolean;
    commandOutputLimit?: string;
    http?: boolean;
    httpAllow?: string;
    queue?: string;
    station?: string;
    concurrency?: string;
    ackWait?: string;
    outputRoot?: string;
    skills?: string;
    secrets?: string;
  },
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
    log: (l) => io.err(l),
  });
  await worker.start();
  io.out(
    `worker ${process.pid} running ${[...Object.keys(handlers), ...(commands ? ['COMMAND tasks'] : []), ...(http ? ['HTTP tasks'] : [])].join(', ')} from queue ${queue ?? 'default'}${opts.station ? ` (station ${opts.station})` : ''}`,
  );
  return untilSignal(io, 'worker', () => worker.stop());
}

export function publishEventCmd(
  io: Io,
  g: GlobalOpts,
  type: string,
  opts: {
    data?: string;
    sample?: boolean;
    events?: string;
    id?: string;
    time?: string;
    source?: string;
    wait?: string;
    json?: boolean;
  },
): Promise<number> {
  let data: unknown = {};
  if (opts.sample) {
    if (opts.data !== undefined) throw new UsageError('--sample and --data both give the payload; pass one', {});
    const dir = opts.events ?? defaultDir('events');
    const sample = loadEventTypes(dir).get(type)?.sample;
    if (sample === undefined)
      throw new UsageError(
        `--sample: no sample for event type ${type} in ${dir}; pass the payload with --data '<json>'`,
        { type },
      );
    data = sample;
  } else if (opts.data !== undefined) {
    try {
      data = JSON.parse(opts.data);
    } catch (err) {
      throw new UsageError(`--data is not JSON: ${errorMessage(err)}`, {});
    }
  }
  const parsed = parseEventEnvelope({
    id: opts.id ?? randomUUID(),
    type,
    time: opts.time ?? new Date().toISOString(),
    ...(opts.source ? { source: opts.source } : {}),
    data,
  });
  if (!parsed.ok) throw new UsageError(`not a valid event: ${parsed.problems.join('; ')}`, {});
  const waitMs = waitFlag(opts.wait);
  const event = parsed.event;
  return withClient(g, async (c) => {
    const { verdict, duplicate } = await c.emit(event, { waitMs });
    // The runs as `emit` on the embedded store reports them: each with its version and status (null where this user may not read the log).
    const runOf = async (runId: string, workflowId: string, dup: boolean) => {
      const view = await c.status(runId).catch(() => null);
      return { runId, workflowId, version: view?.version ?? null, status: view?.status ?? null, duplicate: dup };
    };
    let runs: Awaited<ReturnType<typeof runOf>>[] = [];
    if (duplicate) {
      // Its runs are the first delivery's: one per deployed workflow, under the run id the event id gives.
      const deployed = await c.deployed().catch(() => []);
      for (const d of deployed) {
        const r = await runOf(runIdForEvent(event.id, d.id), d.id, true);
        if (r.status !== null) runs.push(r);
      }
    } else if (verdict?.accepted) {
      runs = await Promise.all(
        verdict.runs.map((r) =>
          runOf(r.runId, r.workflowId, !r.started && r.reason === 'already started by this event'),
        ),
      );
    }
    const rejected =
      verdict && !verdict.accepted
        ? {
            stage: verdict.stage ?? 'refused',
            reason: verdict.reason ?? '',
            problems: [],
            deadLetter: 'lf.dlq.triggers',
          }
        : null;
    const accepted = duplicate ? true : verdict ? verdict.accepted : null;
    const gated = verdict?.gated ?? [];
    if (opts.json) io.out(json({ event, accepted, duplicate, runs, gated, rejected, warnings: [], skipped: [] }));
    const say = opts.json ? io.err : io.out;
    if (duplicate) {
      say(
        `event ${event.id} was already published (the stream's dedup window dropped this repeat): a duplicate, nothing started again`,
      );
      for (const r of runs) say(`run ${r.runId} (${r.workflowId}) already started by it: ${r.status}`);
      return EXIT.ok;
    }
    if (!verdict) {
      say(
        waitMs === 0
          ? `published ${type} event ${event.id}; the engines start its runs (a refused event goes to lf.dlq.triggers with the reason)`
          : `published ${type} event ${event.id}, but no engine answered within ${waitMs} ms: it waits in LF_TRIGGERS for the next engine`,
      );
      return waitMs === 0 ? EXIT.ok : EXIT.waiting;
    }
    if (!verdict.accepted) {
      io.err(
        `error: the engines refused event ${event.id} (${verdict.stage ?? 'refused'}): ${inert(verdict.reason ?? '')}; it is kept in lf.dlq.triggers`,
      );
      return EXIT.usage;
    }
    for (const g of gated) if (g.decision !== 'started') say(gatedLine(event.id, g, false));
    if (verdict.runs.length === 0 && gated.length === 0)
      say(`event ${event.id} accepted; no workflow's trigger matched it`);
    else
      for (const r of verdict.runs)
        say(
          `${r.started ? 'started' : 'not started'} ${r.workflowId} run ${r.runId}${r.reason ? ` (${inert(r.reason)})` : ''}`,
        );
    return verdict.runs.some((r) => !r.started && r.reason !== 'already started by this event') ? EXIT.usage : EXIT.ok;
  });
}
