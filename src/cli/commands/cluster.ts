/**
 * What the commands over NATS share (the --nats URL, a client for one command, a whole-number flag), and doctor and
 * deploy. The engine and worker processes are in engine-worker.ts, emit over NATS in publish-event.ts.
 */
import { z } from 'zod';
import { folderReader, loadDefinitionFile } from '../../files/index.js';
import { ClusterClient, inspectCluster, natsSettings, TASK_STREAM_PREFIX } from '../../cluster/index.js';
import { checkRoutes, parseRoutes, routeFindings } from '../../cluster/admin/route-check.js';
import { UsageError, errorMessage, formatDiagnostic } from '../../errors/index.js';
import { json, type Io } from '../render/io.js';
import { waitFlag } from '../flags/input-flags.js';
import { EXIT } from '../render/exit.js';
import { natsUrlOf, type GlobalOpts } from '../flags/store.js';
import { parseServers, jetstreamManager } from '../../store/index.js';
import { inert } from '../../terminal/index.js';

/** natsUrlOf for a command that needs NATS: an explicit --store means the embedded store even with LEDGERFLOW_NATS_URL set. */
export function natsUrl(g: GlobalOpts): string {
  const url = natsUrlOf(g);
  if (!url)
    throw new UsageError(
      g.store && process.env.LEDGERFLOW_NATS_URL
        ? 'this command needs NATS, and --store names the embedded store (the flag wins over LEDGERFLOW_NATS_URL): leave out --store, or pass --nats <url>'
        : 'this command needs NATS: pass --nats <url> or set LEDGERFLOW_NATS_URL (start a local server with `ledgerflow dev`)',
      {},
    );
  return url;
}

/** The servers of a --nats value, without credentials, to print. */
export function shownServers(url: string): string {
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
