/** `ledgerflow ui`: the dashboard (src/server) until SIGTERM/SIGINT; prints the URL to open (with the token on the embedded store). */
import { resolve } from 'node:path';
import { UsageError } from '../../errors/index.js';
import type { Handlers } from '../../runtime/index.js';
import type { DriverHooks } from '../../local/index.js';
import type { ServiceNotice } from '../../service/index.js';
import { loadHandlerModule } from '../../handlers/index.js';
import type { Io } from '../render/io.js';
import { catchStopSignals, untilSignal } from '../signals.js';
import { progressLines } from '../../terminal/index.js';
import { logLine } from '../render/progress.js';
import { storeFor } from '../open-store.js';
import { localDir, type GlobalOpts } from '../flags/store.js';
import { taskRunners } from '../drive.js';
import { checkListen } from '../listen-check.js';
import { parseSizeFlag } from '../flags/size.js';
import { cliNotifier } from '../flags/notifications.js';
import { withNotifier } from '../../notify/index.js';
import { useStateFile, type StateFileFlags } from './state-file.js';
import { usersFilePath } from '../../users/index.js';

export interface UiOpts extends StateFileFlags {
  port?: string;
  host?: string;
  handlers?: string;
  definitions?: string;
  json?: boolean;
  outputRoot?: string;
  commandOutputLimit?: string;
  notifications?: string;
  users?: string;
  allowedHost?: string[];
  maxInput?: string;
}

export async function uiCmd(io: Io, g: GlobalOpts, opts: UiOpts): Promise<number> {
  const port = Number(opts.port ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${opts.port} is not a port number (0-65535; 0: any free port)`, {
      value: opts.port ?? null,
    });
  const host = opts.host ?? '127.0.0.1';
  const maxInputBytes = opts.maxInput !== undefined ? parseSizeFlag('--max-input', opts.maxInput) : undefined;
  // Before a store is opened or a run driven: a host or port that cannot be listened on is a usage error, and nothing has started.
  await checkListen(host, port);
  const nats = g.nats ?? (g.store ? undefined : process.env.LEDGERFLOW_NATS_URL || undefined);
  if (nats && opts.handlers)
    throw new UsageError(
      '--handlers runs tasks on the embedded store; on NATS workers run them (`ledgerflow worker --handlers`)',
      {},
    );
  const handlers: Handlers | undefined = opts.handlers ? await loadHandlerModule(resolve(opts.handlers)) : undefined;
  const say = (line: string) => io.err(line);
  const { startUi, parseSignInLimit, parseAllowedHosts, loadUsersFile } = await import('../../server/index.js');
  // Names a proxy forwards (Host / Origin); a bad one refuses to start.
  const allowedHosts = parseAllowedHosts(opts.allowedHost ?? []);
  if (nats && opts.users)
    throw new UsageError(
      '--users gives the embedded dashboard named users; on NATS people sign in with their NATS user (nats.conf)',
      {},
    );
  // Named users (docs/users.md): --users, else LEDGERFLOW_USERS or the project's users.yaml when there is one, as
  // the CLI finds it; a bad file refuses to start (exit 2) before anything runs. On NATS nats.conf says who is who.
  const users = nats
    ? undefined
    : ((await loadUsersFile(usersFilePath(opts.users, process.env, process.cwd()), opts.users !== undefined, (m) =>
        io.err(`warning: ${m}`),
      )) ?? undefined);
  // Prometheus's token for /metrics (both stores); the UI's own token also opens it on the embedded store.
  const metricsToken = process.env.LEDGERFLOW_UI_METRICS_TOKEN || undefined;
  if (metricsToken !== undefined && !/^\S{32,}$/.test(metricsToken))
    throw new UsageError(
      'LEDGERFLOW_UI_METRICS_TOKEN: at least 32 characters, no spaces (e.g. `openssl rand -hex 32`)',
      {},
    );

  // Failed NATS sign-ins allowed per client address and per user: `<failures>/<window>`, default 5/1m.
  const signInLimit = parseSignInLimit(process.env.LEDGERFLOW_UI_SIGNIN_LIMIT);

  if (nats && opts.stateFile !== undefined && opts.stateFile !== true) {
    throw new UsageError(
      '--state-file/--no-state-file apply to the runs the UI drives on the embedded store; on NATS give it to `ledgerflow engine`, or keep one with `ledgerflow state-file --follow`',
      {},
    );
  }
  // The state file, kept after every commit of the runs driven here, as serve keeps it (docs/state-file.md).
  if (!nats) await useStateFile(g, opts);
  if (nats && (opts.outputRoot || opts.commandOutputLimit || opts.notifications)) {
    throw new UsageError(
      '--output-root, --command-output-limit and --notifications apply to the runs the UI drives on the embedded store; on NATS the engines and workers take them',
      {},
    );
  }
  const store = nats ? undefined : storeFor(g);
  // The UI's /metrics: the commits of the runs it drives and the notification notes its notifier appends.
  const metrics = (await import('../../metrics/index.js')).createMetrics({ log: say });
  // On the embedded store the UI drives runs as serve does: output_to files, COMMAND and HTTP tasks and notifications alike.
  const notifier = store ? cliNotifier(store, opts.notifications, say, metrics.hooks.onNoted) : undefined;
  const progress: DriverHooks = {
    onCommit: (events, before, after, definition) => {
      const runId = events[0]?.runId ?? '?';
      for (const l of progressLines(events, before, after, definition)) say(`[${runId}] ${l}`);
    },
    onLog: (task, message) => say(logLine(task, message)),
    ...(store ? taskRunners(opts) : {}),
  };
  const ui = await startUi({
    port,
    host,
    ...(nats ? { nats } : { store: store!, storeDir: resolve(localDir(g)) }),
    ...(handlers ? { handlers } : {}),
    ...(opts.definitions ? { definitionsDir: opts.definitions } : {}),
    hooks: notifier ? withNotifier(progress, notifier) : progress,
    ...(notifier ? { notifier } : {}),
    onNotice: (n: ServiceNotice) => say(n.message),
    ...(metricsToken ? { metricsToken } : {}),
    log: say,
    metrics,
    signInLimit,
    ...(users ? { users } : {}),
    allowedHosts,
    ...(maxInputBytes !== undefined ? { maxInputBytes } : {}),
  });
  if (!nats && host !== '127.0.0.1' && host !== 'localhost' && host !== '::1')
    say(`warning: listening on ${host}: anyone who can reach it and has the token can steer runs`);
  catchStopSignals(); // before the line that says it is ready (signals.ts)
  // Who the dashboard can tell apart: NATS users, named users (--users), or nobody (one shared token, any name typed).
  const identity = ui.mode === 'nats' ? 'nats' : ui.users ? 'users' : 'shared-token';
  if (opts.json)
    io.out(
      JSON.stringify({
        url: ui.openUrl,
        base: ui.url,
        host: ui.host,
        port: ui.port,
        mode: ui.mode,
        identity,
        ...(ui.token ? { token: ui.token } : {}),
        ...(ui.users ? { users: ui.users } : {}),
      }),
    );
  else if (identity === 'users')
    io.out(
      `ledgerflow ui (embedded store, ${ui.users!.length} named users from ${users!.file}) at ${ui.url}\neach user signs in with their name and password, or opens ${ui.url}?token=<their own token> (\`ledgerflow users token <name>\`); actions are recorded as the signed-in user and judged by their level`,
    );
  else if (identity === 'shared-token')
    io.out(
      `ledgerflow ui (embedded store) at ${ui.openUrl}\nanyone holding this token acts as any name they type, approvals included: the dashboard cannot tell people apart (for named users with their own tokens: --users <file>)`,
    );
  else io.out(`ledgerflow ui (NATS) at ${ui.openUrl}`);
  return untilSignal(io, 'the dashboard', async () => {
    await ui.close();
    if (notifier) {
      await notifier.idle();
      notifier.stop();
    }
  });
}
