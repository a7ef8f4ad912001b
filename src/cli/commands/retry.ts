/**
 * `ledgerflow retry <runId>`: retry a FAILED or CANCELLED run from where it failed (Engine.retry): a new run of its
 * recorded definition and input that reuses the outputs of what completed. On the embedded store the new run is driven
 * here, as `run` and `resume` drive; over NATS the engines drive it and its id is printed at once (or, with --wait, the
 * state it settles in).
 */
import { actingUser, requireLevel } from '../flags/acting.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { UsageError } from '../../errors/index.js';
import { drive, driveFlags, drivingEngine, handlersFor, type RunOpts } from '../drive.js';
import { json, type Io } from '../render/io.js';
import { EXIT, exitCodeForStatus } from '../render/exit.js';
import { storeFor } from '../open-store.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { cliNotifier } from '../flags/notifications.js';
import { keepLeaseFor } from '../../notify/index.js';
import { InFlightNotices } from '../../monitor/index.js';
import { needRunId, waitFlag } from '../flags/input-flags.js';
import { runsFor } from '../runs.js';

export interface RetryOpts extends RunOpts {
  wait?: string;
}

export async function retryCmd(
  io: Io,
  g: GlobalOpts,
  given: string | undefined,
  opts: RetryOpts & { query?: string; dryRun?: boolean; yes?: boolean; as?: string },
): Promise<number> {
  // With --query: a retry of every FAILED or CANCELLED run the filter matches that has none yet (bulk.ts); started, not driven here.
  if (opts.query !== undefined)
    return (await import('./run-inputs.js')).bulkQueryCmd(io, g, 'retry', [given], { ...opts, query: opts.query });
  const runId = needRunId(given, 'retry');
  (await import('./run-inputs.js')).noBulkFlags('retry', opts);
  // The stores differ in what the user sees: over NATS the engines drive the new run; here it is driven, with its progress.
  if (usesNats(g)) return retryOnNats(io, g, runId, opts);
  if (opts.wait !== undefined)
    throw new UsageError(
      '--wait goes with --nats: on the embedded store retry drives the new run here until it settles or waits',
      { value: opts.wait },
    );
  requireLevel(await actingUser(undefined), 'control'); // a retry is the bridge's (L1), where a users file says who is who
  const flags = driveFlags(opts);
  const notices = new InFlightNotices(io.err);
  const notifier = cliNotifier(storeFor(g), opts.notifications, opts.json ? io.err : io.out);
  const engine = drivingEngine(io, g, opts, notifier, notices);
  // The handler module the failed run recorded, unless --handlers names another.
  const { source } = await engine.load(runId);
  const { handlers } = await handlersFor(opts.handlers, source?.handlers);
  const say = opts.json ? io.err : io.out;
  return drive(
    io,
    g,
    (signal) =>
      engine.runRetry(runId, {
        handlers,
        ...flags,
        signal,
        releaseOnStop: true,
        ...keepLeaseFor(notifier),
        onStarted: (newRunId) => say(`run ${newRunId} started: retry of run ${runId}`),
      }),
    opts,
    notifier,
    notices,
  );
}

/**
 * Over NATS: the retry recorded by the run API (a person's user asks the engines, which judge their level); the engines
 * drive it. With --wait, the new run followed until it settles or waits for a person, its state printed.
 */
async function retryOnNats(io: Io, g: GlobalOpts, runId: string, opts: RetryOpts): Promise<number> {
  if (opts.handlers !== undefined)
    throw new UsageError('--handlers goes with the embedded store: over NATS the workers run the handlers', {
      value: opts.handlers,
    });
  const waitMs = optionalDurationFlag('--wait', opts.wait, '30s or 5m');
  const [runs, { queuedLine }] = await Promise.all([runsFor(g), import('./person-requests.js')]);
  const verdictMs = waitFlag(undefined);
  const retried = await runs.retry(runId, {}, { waitMs: verdictMs });
  if (retried.queued) {
    io.out(
      opts.json
        ? json({ queued: true, request: retried.request, runId: retried.runId })
        : queuedLine(`retry run ${runId}`, verdictMs, retried.runId),
    );
    return EXIT.waiting;
  }
  if (waitMs === undefined) {
    io.out(opts.json ? json({ runId: retried.runId, retryOf: runId }) : retried.runId);
    return EXIT.ok;
  }
  (opts.json ? io.err : io.out)(`run ${retried.runId} started: retry of run ${runId}`);
  const view = await runs.wait(retried.runId, { timeoutMs: waitMs, orWaiting: true });
  await (await import('./read.js')).printView(io, g, view, opts.json);
  return exitCodeForStatus(view.status);
}
