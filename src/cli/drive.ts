/**
 * Driving a run from the CLI, shared by run, resume, retry and the input commands that move a run on (run-inputs.ts):
 * the engine over the chosen store, progress lines, Ctrl-C, the closing lines and exit code.
 */
import { resolve } from 'node:path';
import { finishNotifications, withNotifier, type Notifier } from '../notify/index.js';
import type { Handlers, RunView } from '../runtime/index.js';
import type { EventEnvelope } from '../events/index.js';
import type { Engine, DriverHooks } from '../local/index.js';
import { progressLines } from '../terminal/index.js';
// disk-children.js, not the triggers' index: that also holds the schedules (croner), the catalog and the envelope's schemas.
import { diskEngine } from '../triggers/disk-children.js';
import { createHttpExecutor, loadHandlerModule } from '../handlers/index.js';
import { optionalDurationFlag } from './flags/duration-flag.js';
import { parseSkills } from './flags/skills-flag.js';
import { outputFlag } from './flags/output-root.js';
import { commandRunnerFlag } from './flags/command-limit.js';
import { httpRunnerFlag } from './flags/http-flag.js';
import { secretsFlag } from './flags/secrets-flag.js';
import { EXIT, exitCodeForStatus } from './render/exit.js';
import type { InFlightNotices } from '../monitor/index.js';
import { json, type Io } from './render/io.js';
import { finishLines, logLine } from './render/progress.js';
import { outlivingReaders } from './render/closed-output.js';
import { storeFor } from './open-store.js';
import { runReads } from '../runs/index.js';
import type { StateFileFlags } from './state-file-choice.js';
import { localDir, natsUrlOf, type GlobalOpts } from './flags/store.js';

export function engineFor(g: GlobalOpts, hooks: DriverHooks = {}): Engine {
  // Child runs (SUB_WORKFLOW, failure_workflow) and EMITs of runs driven here: definitions beside the parent's file.
  // HTTP tasks call any host unless the command was given --http-allow (its hooks' runHttp).
  return diskEngine({ store: storeFor(g), runHttp: createHttpExecutor(), ...hooks, storeDir: localDir(g) });
}

/** Where a run driven here writes output_to files and how it runs COMMAND and HTTP tasks, from the flags (checked before anything runs). */
export function taskRunners(opts: {
  outputRoot?: string;
  commandOutputLimit?: string;
  httpAllow?: string;
}): Pick<DriverHooks, 'writeOutput' | 'runCommand' | 'runHttp'> {
  return {
    writeOutput: outputFlag(opts.outputRoot),
    runCommand: commandRunnerFlag(opts.commandOutputLimit),
    runHttp: httpRunnerFlag(opts.httpAllow),
  };
}

/** The engine that drives a run here (resume, retry, an input's run moved on): progress, the flags' runners and secrets, notified. */
export function drivingEngine(
  io: Io,
  g: GlobalOpts,
  opts: RunOpts,
  notifier: Notifier,
  notices?: InFlightNotices,
): Engine {
  const secrets = secretsFlag(opts.secrets);
  return engineFor(
    g,
    withNotifier(
      { ...progressHooks(io, opts, notices), ...taskRunners(opts), ...(secrets ? { secrets } : {}) },
      notifier,
    ),
  );
}

const maxWait = (text: string | undefined) => optionalDurationFlag('--max-wait', text, '30s, 5m or PT1M') ?? 5 * 60_000;
const commitWindow = (text: string | undefined) =>
  optionalDurationFlag('--commit-window', text, '20ms or 0 (each step durable before it acts)') ?? 0;

export interface RunOpts extends StateFileFlags {
  json?: boolean;
  handlers?: string;
  inputFile?: string;
  input?: string;
  maxWait?: string;
  commitWindow?: string;
  outputRoot?: string;
  commandOutputLimit?: string;
  httpAllow?: string;
  notifications?: string;
  skills?: string;
  secrets?: string;
}

export function progressHooks(io: Io, opts: { json?: boolean }, notices?: InFlightNotices): DriverHooks {
  // With --json, stdout carries only the final object; progress goes to stderr.
  const say = opts.json ? io.err : io.out;
  return {
    onCommit: (events, before, after, definition) => {
      for (const l of progressLines(events, before, after, definition)) say(l);
      notices?.observe(after, events.at(-1)?.time ?? new Date().toISOString());
    },
    onLog: (task, message) => say(logLine(task, message)),
  };
}

/** Ctrl-C stops driving cleanly: everything acknowledged is in the log, and `resume` continues (`said`: how). */
export function interruptible(
  io: Io,
  said = 'the run is in the log; continue it with `ledgerflow resume <runId>`',
): { signal: AbortSignal; interrupted: () => boolean; done: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    io.err(`interrupted: stopping (${said})`);
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  return {
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    done: () => process.off('SIGINT', onSigint),
  };
}

async function finish(io: Io, view: RunView, opts: { json?: boolean }, g: GlobalOpts): Promise<number> {
  // Each task's progress as `status --json` shows it, through the run API's reads: what its outcome kept (a run driven
  // here has no attempt in flight, so no live channel is asked).
  if (opts.json) io.out(json(await runReads(storeFor(g)).withProgress(view)));
  else {
    for (const line of finishLines(view, natsUrlOf(g))) io.out(line);
  }
  // A start that found its id taken returned the run that has it: the start succeeded (exit 0);
  // the run's own outcome is its status, printed above.
  if ((view as RunView & { existing?: boolean }).existing) return EXIT.ok;
  return exitCodeForStatus(view.status);
}

export async function handlersFor(
  explicit: string | undefined,
  fromDefinition: string | undefined,
): Promise<{ handlers: Handlers; path?: string }> {
  const path = explicit ? resolve(explicit) : fromDefinition;
  if (!path) return { handlers: {} };
  return { handlers: await loadHandlerModule(path), path };
}

/** The handlers for driving a recorded run: `explicit` (--handlers), else the module its run.started recorded. */
export function recordedHandlers(
  explicit: string | undefined,
  events: readonly EventEnvelope[],
): Promise<{ handlers: Handlers; path?: string }> {
  const first = events[0];
  return handlersFor(explicit, first?.type === 'run.started' ? first.data.source?.handlers : undefined);
}

/** How to drive, from the flags: checked before anything is written. */
export function driveFlags(opts: RunOpts): {
  maxTimerWaitMs: number;
  commitWindowMs: number;
  skills?: ReadonlySet<string>;
} {
  const skills = parseSkills(opts.skills);
  return {
    maxTimerWaitMs: maxWait(opts.maxWait),
    commitWindowMs: commitWindow(opts.commitWindow),
    ...(skills.length > 0 ? { skills: new Set(skills) } : {}),
  };
}

export async function drive(
  io: Io,
  g: GlobalOpts,
  go: (signal: AbortSignal) => Promise<RunView>,
  opts: RunOpts,
  notifier: Notifier,
  notices?: InFlightNotices,
): Promise<number> {
  const sigint = interruptible(io);
  const stop = () => notifier.stop();
  sigint.signal.addEventListener('abort', stop);
  const quiet = notices?.start();
  // A reader of its output that goes away (`ledgerflow run f.yaml | head -1`) does not stop the run: it is driven on.
  const muted = (stream: NodeJS.WritableStream) => {
    if (stream === process.stdout)
      io.err('stdout closed (its reader went away): the run is driven on to its end; `ledgerflow status` shows it');
  };
  try {
    return await outlivingReaders(async () => {
      const view = await go(sigint.signal);
      const code = await finish(io, view, opts, g);
      // The run's outcome is printed (and its time recorded) already; its notifications end before the process does.
      await finishNotifications(notifier, opts.json ? io.err : io.out);
      return sigint.interrupted() ? EXIT.interrupted : code;
    }, muted);
  } finally {
    quiet?.();
    sigint.signal.removeEventListener('abort', stop);
    sigint.done();
  }
}
