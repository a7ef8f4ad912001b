/** `ledgerflow emit <eventType> --data '<json>'`: one event into the triggers, on the embedded store (over NATS: cluster.ts). */
import { randomUUID } from 'node:crypto';
import { UsageError, errorMessage, formatDiagnostic } from '../../errors/index.js';
import { optionalDurationFlag } from '../flags/duration-flag.js';
import { storeFor } from '../open-store.js';
import {
  deadLetterDir,
  diskChildren,
  emitEvent,
  fileDeadLetters,
  fileGates,
  loadTriggerCatalog,
  type EmitResult,
} from '../../triggers/index.js';
import { json, type Io } from '../render/io.js';
import { localDir, usesNats, type GlobalOpts } from '../flags/store.js';
import { EXIT, worstExitCode } from '../render/exit.js';
import { gatedLine, logLine, waitingHints } from '../render/progress.js';
import { inert, progressLines } from '../../terminal/index.js';
import { interruptible, taskRunners } from '../drive.js';
import { cliNotifier } from '../flags/notifications.js';
import { finishNotifications, keepLeaseFor, withNotifier } from '../../notify/index.js';

export interface EmitCmdOpts {
  data?: string;
  /** Global notification rules (`--notifications`, else LEDGERFLOW_NOTIFICATIONS) for the runs driven here. */
  notifications?: string;
  /** Send the `sample:` of the event type's file (events/<type>.yaml) as the payload. */
  sample?: boolean;
  id?: string;
  time?: string;
  source?: string;
  definitions?: string;
  events?: string;
  maxWait?: string;
  outputRoot?: string;
  commandOutputLimit?: string;
  json?: boolean;
}

function parseData(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `--data is not JSON: ${errorMessage(err)}; pass the payload as e.g. --data '{"amount": 1200}'`,
      { data: text },
    );
  }
}

/** The sample payload of an event type's file, for trying a workflow without writing JSON. */
function sampleOf(
  catalog: { eventTypes: ReadonlyMap<string, { sample?: Record<string, unknown> }>; eventsDir: string },
  type: string,
): unknown {
  const spec = catalog.eventTypes.get(type);
  if (!spec)
    throw new UsageError(
      `--sample: no event type file ${catalog.eventsDir}/${type}.yaml; known types: ${[...catalog.eventTypes.keys()].sort().join(', ') || '(none)'}`,
      { type },
    );
  if (spec.sample === undefined)
    throw new UsageError(
      `--sample: ${catalog.eventsDir}/${type}.yaml has no sample:; pass the payload with --data '<json>'`,
      { type },
    );
  return spec.sample;
}

/** Worst first: a failed run, then one still waiting; duplicates were settled by an earlier delivery and do not count. */
export function emitExitCode(result: EmitResult): number {
  if (!result.accepted) return EXIT.usage;
  return worstExitCode(result.runs.filter((r) => !r.duplicate).map((r) => r.status));
}

export async function emitCmd(
  io: Io,
  g: GlobalOpts,
  type: string,
  opts: EmitCmdOpts & { wait?: string },
): Promise<number> {
  // Over NATS the event is published for the engines (cluster.ts); here it is taken and its runs driven in this process.
  if (usesNats(g)) return (await import('./publish-event.js')).publishEventCmd(io, g, type, opts);
  const maxTimerWaitMs = optionalDurationFlag('--max-wait', opts.maxWait, '30s, 5m or PT1M');
  // The runs an event starts here call any host from their HTTP tasks, as `run` does without --http-allow.
  const runners = taskRunners(opts);
  if (opts.sample && opts.data !== undefined)
    throw new UsageError('--sample and --data both give the payload; pass one', {});
  const catalog = loadTriggerCatalog({
    ...(opts.definitions !== undefined ? { definitionsDir: opts.definitions } : {}),
    ...(opts.events !== undefined ? { eventsDir: opts.events } : {}),
  });
  // Said once, before anything runs: a broken neighbour does not stop the triggers of the valid definitions.
  for (const skipped of catalog.skipped) io.err(`skipped ${skipped.reason}`);
  const event = {
    id: opts.id ?? randomUUID(),
    type,
    time: opts.time ?? new Date().toISOString(),
    ...(opts.source !== undefined ? { source: opts.source } : {}),
    data: opts.sample ? sampleOf(catalog, type) : parseData(opts.data),
  };
  const storeDir = localDir(g);
  // With --json, stdout carries only the final object; everything else goes to stderr.
  const say = opts.json ? io.err : io.out;
  const sigint = interruptible(io, 'every started run is in the log; continue each with `ledgerflow resume <runId>`');
  let result: EmitResult;
  const store = storeFor(g);
  const deadLetters = fileDeadLetters(deadLetterDir(storeDir));
  const notifier = cliNotifier(store, opts.notifications, say);
  const stopNotifying = () => notifier.stop();
  sigint.signal.addEventListener('abort', stopNotifying);
  const onCommit = withNotifier(
    {
      onCommit: (events, before, after, definition) => {
        for (const l of progressLines(events, before, after, definition)) say(l);
      },
    },
    notifier,
  ).onCommit!;
  const gates = fileGates(storeDir);
  try {
    result = await emitEvent(event, {
      store,
      ...diskChildren({ store, deadLetters, ...runners, onCommit, gates }),
      catalog,
      deadLetters,
      gates,
      ...runners,
      signal: sigint.signal,
      releaseOnStop: true,
      ...(maxTimerWaitMs !== undefined ? { maxTimerWaitMs } : {}),
      ...keepLeaseFor(notifier),
      onCommit,
      onLog: (task, message) => say(logLine(task, message)),
      onRunStarted: (r) => {
        const loaded = catalog.loaded.find((l) => l.definition.id === r.workflowId);
        for (const w of loaded?.warnings ?? []) io.err(inert(formatDiagnostic(w)));
        say(
          r.duplicate
            ? `run ${r.runId} of ${r.workflowId} was already started by event ${event.id}: duplicate delivery, not started again`
            : `run ${r.runId} started (${r.workflowId} v${r.version}) by event ${event.id}`,
        );
      },
    });
    await finishNotifications(notifier, opts.json ? io.err : io.out);
  } finally {
    sigint.signal.removeEventListener('abort', stopNotifying);
    sigint.done();
  }

  if (!result.accepted) {
    io.err(`✗ event ${inert(event.id)} (${type}) rejected: ${inert(result.reason)}`);
    io.err(`  kept in ${result.deadLetter}`);
    if (opts.json)
      io.out(
        json({
          event: result.event, // what the dead letter kept: without its data when too deep to print
          accepted: false,
          duplicate: false,
          runs: [],
          gated: [],
          rejected: {
            stage: result.stage,
            reason: result.reason,
            problems: result.problems,
            deadLetter: result.deadLetter,
          },
          warnings: [],
          skipped: catalog.skipped,
        }),
      );
    return EXIT.usage;
  }
  for (const w of result.warnings) io.err(`warning: ${w}`);
  if (!opts.json) for (const g of result.gated) if (g.decision !== 'started') io.out(gatedLine(event.id, g, true));
  if (opts.json) {
    const runs = result.runs.map(({ runId, workflowId, version, status, duplicate }) => ({
      runId,
      workflowId,
      version,
      status,
      duplicate,
    }));
    // One shape on every store (docs/runs.md, `emit --json`): the NATS path prints the same keys.
    const duplicate = result.runs.length > 0 && result.runs.every((r) => r.duplicate);
    io.out(
      json({
        event: result.event,
        accepted: true,
        duplicate,
        runs,
        gated: result.gated,
        rejected: null,
        warnings: result.warnings,
        skipped: catalog.skipped,
      }),
    );
  } else if (result.gated.length > 0 && result.runs.length === 0) {
    // said above, per gated trigger
  } else if (result.runs.length === 0) {
    const filters = catalog.definitions.flatMap((d) =>
      d.triggers.flatMap((t) => (t.kind === 'event' && t.event === type && t.filter ? [`${d.id}: ${t.filter}`] : [])),
    );
    io.out(
      `event ${event.id} (${type}) accepted; no workflow trigger matched it, so nothing was started${filters.length ? ` (filters that did not hold: ${filters.join('; ')})` : ''}`,
    );
  } else {
    for (const r of result.runs) {
      io.out(
        r.duplicate
          ? `run ${r.runId} (${r.workflowId}) already started: ${r.status}`
          : `run ${r.runId} (${r.workflowId}) ${r.status}`,
      );
      for (const line of waitingHints(r.view)) io.out(line);
      if (r.view.error) io.out(`  error: ${inert(r.view.error.message)}`);
    }
  }
  return sigint.interrupted() ? EXIT.interrupted : emitExitCode(result);
}
