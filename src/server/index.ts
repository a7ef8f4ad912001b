/**
 * `ledgerflow ui` as a library: the dashboard's HTTP server (Hono on Node) on the embedded store or on NATS. This file
 * is the module's only import surface. See docs/dashboard.md (running `ledgerflow ui`, "The pages", "HTTP API").
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { packageRoot } from '../files/index.js';
import type { DriverHooks } from '../local/index.js';
import { allBreakers } from '../limits/index.js';
import { createMetrics, type LedgerflowMetrics } from '../metrics/index.js';
import { createApp } from './app.js';
import { randomToken, Sessions } from './auth.js';
import type { Backend } from './backend.js';
import { embeddedBackend, type EmbeddedOptions } from './embedded.js';
import { SignInLimiter, type SignInLimit } from './signin-limit.js';
import { listenHosts, type AllowedHost } from './host-guard.js';

export { createApp } from './app.js';
export { parseAllowedHosts } from './host-guard.js';
export { loadUsersFile } from './users.js';
export { parseSignInLimit } from './signin-limit.js';

/** Sessions expire after this long unused. */
export const SESSION_TTL_MS = 12 * 3600_000;

/** Embedded: the file store and its directory, and what its Service drives with (embedded.ts); `users`: named users (`--users`), then there is no shared token and no `as`. */
export interface UiOptions extends Partial<Omit<EmbeddedOptions, 'onTakeUp' | 'schedules'>> {
  port: number;
  host: string;
  /** NATS: the URL the UI reads with (its own user); sign-ins connect to the same servers as each person. */
  nats?: string;
  /** Fixed token (tests); default 32 random bytes. */
  token?: string;
  /** Who embedded actions are recorded as when a request names nobody (`as`). */
  embeddedUser?: string;
  /**
   * The metrics /metrics serves (default: a `createMetrics()` of this UI's own, fed by the embedded Service's engine;
   * on NATS, the queue backlog).
   */
  metrics?: LedgerflowMetrics;
  /** A bearer token GET /metrics also accepts (Prometheus's), on either store: `LEDGERFLOW_UI_METRICS_TOKEN`. */
  metricsToken?: string;
  /** Where metrics problems are said (they never fail a run or a request). */
  log?: (line: string) => void;
  /** NATS sign-in: failed tries allowed per client address and per user in a window (`LEDGERFLOW_UI_SIGNIN_LIMIT`); default 5 a minute. */
  signInLimit?: SignInLimit;
  /** Names besides the listening address's that Host and Origin may give (`--allowed-host`: a proxy's). */
  allowedHosts?: AllowedHost[];
  /** The largest body of a start or an event (`--max-input`; start-body.ts); default 64 MiB. */
  maxInputBytes?: number;
}

export interface RunningUi {
  mode: 'embedded' | 'nats';
  host: string;
  port: number;
  /** The base URL. */
  url: string;
  /** Embedded: the URL with the token (open it once); NATS: the sign-in page. */
  openUrl: string;
  token: string | null;
  /** The named users (`--users`), when the dashboard has them. */
  users: string[] | null;
  backend: Backend;
  close(): Promise<void>;
}

export async function startUi(opts: UiOptions): Promise<RunningUi> {
  if (opts.users && opts.nats)
    throw new Error('startUi: users are for the embedded store; on NATS people sign in with their NATS user');
  const sessions = new Sessions(SESSION_TTL_MS);
  let backend: Backend;
  let token: string | null;
  const metrics = opts.metrics ?? createMetrics(opts.log ? { log: opts.log } : {});
  if (opts.nats) {
    const { natsBackend } = await import('./nats.js');
    const nb = await natsBackend({ url: opts.nats });
    backend = nb;
    token = null;
    // The engines count the commits (each serves its own --metrics-port); the UI adds what it can read: the queues.
    metrics.observeQueues(await nb.jetstreamManager());
  } else {
    if (!opts.store || !opts.storeDir) throw new Error('startUi: the embedded store needs store and storeDir');
    const store = opts.store;
    metrics.observeBreakers(() => allBreakers(store, Date.now()));
    // The Service's engine feeds the metrics with every commit of the runs it drives (as serve --metrics-port does).
    const given = opts.hooks?.onCommit;
    const onCommit: NonNullable<DriverHooks['onCommit']> = (events, before, after, definition) => {
      given?.(events, before, after, definition);
      metrics.hooks.onCommit(events, before, after);
    };
    backend = await embeddedBackend({
      ...opts,
      store,
      storeDir: opts.storeDir,
      hooks: { ...opts.hooks, onCommit },
      onTakeUp: metrics.observeRun,
    });
    // Named users sign in with their password or bring their own token; else one shared token, printed at start.
    token = opts.users ? null : (opts.token ?? randomToken());
  }
  // The port is known once listening (0: any free port); the guard reads the list per request.
  let hosts: readonly AllowedHost[] = [];
  const app = createApp({
    backend,
    token,
    sessions,
    sessionTtlMs: SESSION_TTL_MS,
    embeddedUser: opts.embeddedUser ?? process.env.USER ?? 'ui',
    webDir: join(packageRoot(), 'dist', 'web'),
    metrics,
    metricsToken: opts.metricsToken ?? null,
    ...(opts.signInLimit ? { signInLimit: new SignInLimiter(opts.signInLimit) } : {}),
    ...(opts.users ? { users: opts.users } : {}),
    ...(opts.maxInputBytes !== undefined ? { maxInputBytes: opts.maxInputBytes } : {}),
    allowedHosts: () => hosts,
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: opts.host }) as Server;
  server.listen(opts.port, opts.host);
  try {
    await once(server, 'listening');
  } catch (err) {
    await backend.close();
    await sessions.closeAll();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  hosts = [...listenHosts(opts.host, port), ...(opts.allowedHosts ?? [])];
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}/`;
  return {
    mode: backend.mode,
    host: opts.host,
    port,
    url,
    token,
    backend,
    users: opts.users?.names ?? null,
    openUrl: token ? `${url}?token=${token}` : url,
    async close() {
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
      await sessions.closeAll();
      await backend.close();
      metrics.close();
    },
  };
}
