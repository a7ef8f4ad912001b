/**
 * approve, reject, signal, pause and cancel: a person's input to a run, one command on both stores. The same flags
 * (`--as`, default $USER; over NATS with a user in the URL, that user, which `--as` must match), the same `--json`
 * shape ({ runId, …what, by, unauthenticated, recorded, queued, changed, seq, status }), the same refusals (exit 2,
 * nothing recorded).
 *
 * On the embedded store an approval or a signal also moves the run on here when no other process holds it (the run's
 * lease: a `serve`, `ui`, or the `run` that started it), as `resume` would; otherwise the command says which process
 * acts on it, or exactly what to run.
 */
import { HandlerError, RunBusyError, UsageError } from '../../errors/index.js';
import { runView } from '../../runtime/index.js';
import type { InputOutcome, RunInput } from '../../executor/index.js';
import { actingFor, runsFor } from '../runs.js';
import { drive, driveFlags, drivingEngine, engineFor, recordedHandlers } from '../drive.js';
import { needRunId, parseSignalBody, waitFlag } from '../flags/input-flags.js';
import type { Io } from '../render/io.js';
import { EXIT } from '../render/exit.js';
import { cliNotifier } from '../flags/notifications.js';
import { keepLeaseFor } from '../../notify/index.js';
import { finishLines } from '../render/progress.js';
import type { GlobalOpts } from '../flags/store.js';

export interface InputOpts {
  as?: string;
  wait?: string;
  json?: boolean;
  handlers?: string;
  outputRoot?: string;
  commandOutputLimit?: string;
}

const STREAM_OF = { approval: 'LF_APPROVALS', signal: 'LF_SIGNALS', control: 'LF_CONTROL' } as const;

/** What the input is, for its JSON and its lines. */
function describe(input: RunInput): { fields: Record<string, unknown>; what: string; done: string } {
  if (input.kind === 'approval') {
    const what = `${input.decision === 'approved' ? 'approval' : 'rejection'} of ${input.taskId}`;
    return {
      fields: { task: input.taskId, decision: input.decision },
      what,
      done: `${input.decision === 'approved' ? '✓ approved' : '✗ rejected'} ${input.taskId}`,
    };
  }
  if (input.kind === 'signal')
    return { fields: { name: input.name }, what: `signal ${input.name}`, done: `✓ signal ${input.name} recorded` };
  const past = { pause: 'paused', resume: 'resumed', cancel: 'cancelled' }[input.action];
  return { fields: { action: input.action }, what: input.action, done: past };
}

/**
 * pause and cancel: of one run, or with `--query` of every run a filter matches (bulk.ts). One or the other: both, or
 * neither, is a usage error saying so.
 */
export async function controlCmd(
  io: Io,
  g: GlobalOpts,
  runId: string | undefined,
  input: Extract<RunInput, { kind: 'control' }>,
  opts: InputOpts & { query?: string; dryRun?: boolean; yes?: boolean },
): Promise<number> {
  if (opts.query !== undefined)
    return bulkQueryCmd(io, g, input.action, [runId], {
      ...opts,
      query: opts.query,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    });
  const id = needRunId(runId, input.action);
  noBulkFlags(input.action, opts);
  return inputCmd(io, g, id, input, opts);
}

/**
 * A command with `--query` (bulk.ts): the command's single form is its own (run.ts, retry.ts, controlCmd and inputCmd);
 * a run id (approve: and a task) with --query is a usage error.
 */
export async function bulkQueryCmd(
  io: Io,
  g: GlobalOpts,
  action: 'resume' | 'retry' | 'approve' | 'reject' | 'pause' | 'cancel',
  given: Array<string | undefined>,
  opts: InputOpts & {
    query: string;
    dryRun?: boolean;
    yes?: boolean;
    task?: string;
    decision?: string;
    comment?: string;
    reason?: string;
  },
): Promise<number> {
  if (given.some((x) => x !== undefined))
    throw new UsageError(`${action}: give a run id or --query, not both`, { runId: given[0] ?? null });
  const { bulkCmd } = await import('./bulk.js');
  // reject --query is approve --query --decision rejected.
  if (action === 'reject' && opts.decision !== undefined && opts.decision !== 'rejected')
    throw new UsageError(`reject --query: --decision ${opts.decision} contradicts reject (use approve --query)`, {
      option: '--decision',
    });
  const o = action === 'reject' ? { ...opts, decision: 'rejected' } : opts;
  return bulkCmd(io, g, action === 'reject' ? 'approve' : action, o);
}

/** approve and reject: of one run's task, or with `--query` of every matching run's waiting HUMAN task(s). */
export async function approveCmd(
  io: Io,
  g: GlobalOpts,
  name: 'approve' | 'reject',
  runId: string | undefined,
  taskId: string | undefined,
  opts: InputOpts & {
    comment?: string;
    query?: string;
    dryRun?: boolean;
    yes?: boolean;
    task?: string;
    decision?: string;
  },
): Promise<number> {
  if (opts.query !== undefined) return bulkQueryCmd(io, g, name, [runId, taskId], { ...opts, query: opts.query });
  if (runId === undefined || taskId === undefined)
    throw new UsageError(
      `${name}: which run and task? give both (\`ledgerflow ${name} <runId> <taskId>\`), or --query '<filter>' for every run a filter matches (ledgerflow ${name} --help)`,
      {},
    );
  noBulkFlags(name, opts);
  const decision = name === 'approve' ? 'approved' : 'rejected';
  return inputCmd(
    io,
    g,
    runId,
    { kind: 'approval', taskId, decision, ...(opts.comment !== undefined ? { comment: opts.comment } : {}) },
    opts,
  );
}

/** --dry-run, --yes and --task go with --query only. */
export function noBulkFlags(
  name: string,
  opts: { dryRun?: boolean; yes?: boolean; task?: string; decision?: string },
): void {
  if (opts.task !== undefined || opts.decision !== undefined)
    throw new UsageError(
      `${name}: --task and --decision go with --query (one run's task is the argument after its id)`,
      {},
    );
  if (opts.dryRun || opts.yes) throw new UsageError(`${name}: --dry-run and --yes go with --query`, {});
}

/** Takes the input on the store the command uses; prints what became of it; the exit code. */
export async function inputCmd(
  io: Io,
  g: GlobalOpts,
  runId: string,
  input: RunInput,
  opts: InputOpts,
): Promise<number> {
  const waitMs = waitFlag(opts.wait);
  const acting = await actingFor(g, opts.as);
  const runs = await runsFor(g);
  const nats = runs.store === 'nats';
  const outcome = await runs.input(runId, input, acting, { waitMs });
  const { fields, what, done } = describe(input);
  // With --json, stdout carries only the object and nothing else is said (a run moved on here reports its progress on stderr).
  const say = opts.json ? () => {} : io.out;
  const as = ` as ${outcome.by}${outcome.unauthenticated && nats ? ' (an unauthenticated name)' : ''}`;
  let code: number = EXIT.ok;
  let status = outcome.status;
  if (!outcome.changed)
    say(
      `run ${runId} is already ${outcome.status}; nothing to ${input.kind === 'control' ? input.action : 'do'}, nothing recorded`,
    );
  else if (outcome.recorded) {
    const engines =
      nats && input.kind === 'control' && input.action === 'resume'
        ? `; the engines continue it (\`ledgerflow wait ${runId}\`)`
        : '';
    say(
      input.kind === 'control'
        ? `run ${runId} ${done}${engines}${as}${outcome.seq ? ` (event ${outcome.seq})` : ''}`
        : `${done} for run ${runId}${as}${outcome.seq ? ` (event ${outcome.seq})` : ''}`,
    );
    if (input.kind === 'control' && input.action === 'pause')
      say(`running attempts finish; no new one starts until \`ledgerflow resume ${runId}\``);
    // One step: an approval or a signal moves the run on here, unless another process drives it.
    if (!nats && input.kind !== 'control') ({ code, status } = await driveOn(io, g, runId, opts, status));
    else if (nats && input.kind !== 'control') {
      say(
        `the engines act on it (the running one, or the next to start: \`ledgerflow engine\`), or \`ledgerflow resume ${runId}\` here`,
      );
    }
  } else {
    say(
      waitMs === 0
        ? `published ${what} for run ${runId}${as}; an engine records it (see \`ledgerflow history ${runId}\`)`
        : `published ${what} for run ${runId}${as}, but no engine answered within ${waitMs} ms: it waits in ${STREAM_OF[input.kind]} for the next engine, or \`ledgerflow resume ${runId}\``,
    );
    if (waitMs > 0) code = EXIT.waiting;
  }
  if (opts.json) {
    const { by, unauthenticated, recorded, queued, changed, seq } = outcome;
    io.out(JSON.stringify({ runId, ...fields, by, unauthenticated, recorded, queued, changed, seq, status }, null, 2));
  }
  return code;
}

/**
 * Drives the run on here after an approval or a signal, when nothing else holds it; its lease says whether a `serve`,
 * `ui` or `run` process drives it.
 */
async function driveOn(
  io: Io,
  g: GlobalOpts,
  runId: string,
  opts: InputOpts,
  status: InputOutcome['status'],
): Promise<{ code: number; status: InputOutcome['status'] }> {
  const say = opts.json ? io.err : io.out;
  const notifier = cliNotifier(engineFor(g).store, undefined, say);
  const engine = drivingEngine(io, g, opts, notifier);
  const loaded = await engine.load(runId);
  // A rejection that fails the run still owes its failure workflow (the failure handler's steps): driven here, as resume would.
  if (loaded.snapshot.status !== 'active' && !(await engine.pendingFailureRun(loaded))) {
    // The input itself settled the run (an approval of its last task, a rejection that fails it): say how it ended, as a drive does.
    const view = runView(loaded.snapshot, loaded.seq);
    for (const line of finishLines(view)) say(line);
    return { code: EXIT.ok, status: view.status };
  }
  let after = status;
  try {
    const { handlers } = await recordedHandlers(opts.handlers, loaded.events);
    const code = await drive(
      { out: say, err: io.err },
      g,
      async (signal) => {
        const view = await engine.drive(loaded, {
          handlers,
          ...driveFlags({}),
          signal,
          releaseOnStop: true,
          ...keepLeaseFor(notifier),
        });
        after = view.status;
        return view;
      },
      {},
      notifier,
    );
    // The input was taken: exit 0 whatever the run did next (its status is printed), except on Ctrl-C.
    return { code: code === EXIT.interrupted ? EXIT.interrupted : EXIT.ok, status: after };
  } catch (err) {
    if (err instanceof RunBusyError) {
      say(
        `run ${runId} is driven by pid ${String(err.meta.pid ?? '?')} (a ledgerflow serve, or the run command that started it), which acts on it now`,
      );
      return { code: EXIT.ok, status };
    }
    if (err instanceof HandlerError) {
      say(
        `the run is not moved on here: ${err.message}; continue it with \`ledgerflow resume ${runId} --handlers <module>\` (or a \`ledgerflow serve --handlers <module>\`)`,
      );
      return { code: EXIT.ok, status };
    }
    throw err;
  }
}

/** The CLI's signal: its name and --data checked as the wire checks them. */
export function signalInput(name: string, data: string | undefined): RunInput {
  const body = parseSignalBody(name, data);
  return { kind: 'signal', name: body.name, ...(body.data !== undefined ? { data: body.data } : {}) };
}
