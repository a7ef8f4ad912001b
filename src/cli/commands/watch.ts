/** `ledgerflow watch`: the terminal monitor over the store the command uses (src/monitor). */
import pc from 'picocolors';
import { z } from 'zod';
import { UsageError } from '../../errors/index.js';
import { pastMedians, watchRuns, type MonitorOptions, type WatchTarget } from '../../monitor/index.js';
import type { Io } from '../render/io.js';
import { EXIT, worstExitCode } from '../render/exit.js';
import { storeFor } from '../open-store.js';
import { damageCheck } from '../render/damaged.js';
import { damagedText } from '../../query/damage.js';
import type { GlobalOpts } from '../flags/store.js';
import { sideFor } from '../runs.js';

export interface WatchFlags {
  as?: string;
  workflow?: string;
  all?: boolean;
  orWaiting?: boolean;
  keepOpen?: boolean;
  tail?: string;
  color?: boolean;
  json?: boolean;
}

const Flags = z.object({
  workflow: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, {
      error: '--workflow takes a workflow id (1-128 characters among A-Z a-z 0-9 _ -)',
    })
    .optional(),
  tail: z
    .string()
    .regex(/^\d+$/, { error: '--tail takes a whole number of events (0 to 50)' })
    .transform(Number)
    .pipe(z.number().int().max(50, { error: '--tail is at most 50 events' }))
    .optional(),
});

function targetOf(runId: string | undefined, f: WatchFlags): WatchTarget {
  const given = [runId !== undefined, f.workflow !== undefined, f.all === true].filter(Boolean).length;
  if (given !== 1)
    throw new UsageError(
      'watch takes one of: a run id, --workflow <id>, --all (on a terminal, none opens the monitor)',
      {},
    );
  if (f.keepOpen && runId !== undefined)
    throw new UsageError('--keep-open goes with --workflow or --all (a single run ends when it settles)', {});
  return runId !== undefined
    ? { kind: 'run', runId }
    : f.workflow !== undefined
      ? { kind: 'workflow', workflowId: f.workflow }
      : { kind: 'all' };
}

export async function watchCmd(io: Io, g: GlobalOpts, runId: string | undefined, flags: WatchFlags): Promise<number> {
  const parsed = Flags.safeParse({ workflow: flags.workflow, tail: flags.tail });
  if (!parsed.success)
    throw new UsageError(parsed.error.issues[0]!.message, { workflow: flags.workflow, tail: flags.tail });
  const out = process.stdout;
  // The 3OX workflow monitor: nothing named, on a terminal (it reads keys, so stdin must be one too).
  const monitor =
    runId === undefined &&
    flags.workflow === undefined &&
    !flags.all &&
    !flags.json &&
    out.isTTY &&
    process.stdin.isTTY;
  const target: WatchTarget = monitor ? { kind: 'all' } : targetOf(runId, flags);
  const damage = damageCheck(g);
  const side = await sideFor(g);
  const { undriven } = side;
  const progress = side.progress();
  const mode = flags.json ? 'json' : out.isTTY ? 'frame' : 'plain';
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const stdin = process.stdin;
  if (monitor) {
    stdin.setRawMode(true);
    stdin.resume();
  }
  try {
    const result = await watchRuns({
      store: storeFor(g),
      target,
      mode,
      out,
      orWaiting: flags.orWaiting ?? false,
      keepOpen: monitor || (flags.keepOpen ?? false),
      ...(monitor ? { monitor: monitorOptions(g, stdin, flags.as) } : {}),
      ...(parsed.data.tail !== undefined ? { tail: parsed.data.tail } : {}),
      // picocolors already says no for NO_COLOR and dumb terminals; --no-color says it here.
      color: flags.color !== false && pc.isColorSupported,
      signal: stop.signal,
      // A log cut after it was written shows DAMAGED and is not followed (the embedded store's witnesses; none over NATS).
      damage: async (id, seq) => {
        const d = await damage(id, seq);
        return d ? damagedText(d) : null;
      },
      // The embedded store: a run no process drives is said once, and the watch goes on (a serve or resume may come).
      ...(undriven ? { undriven } : {}),
      // Each task's progress (docs/handlers.md#progress), pushed by the store's progress channel.
      progress,
    });
    if (result.quit) return EXIT.ok;
    if (result.runs.length === 0) {
      io.err(
        target.kind === 'workflow'
          ? `no active runs of ${target.workflowId} (--keep-open waits for new ones)`
          : 'no active runs (--keep-open waits for new ones)',
      );
      return result.stopped ? EXIT.interrupted : EXIT.ok;
    }
    if (result.stopped) return EXIT.interrupted;
    // The worst outcome decides, as `wait` would for each run.
    return worstExitCode(result.runs.map((r) => r.status));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // The terminal as it was, whatever ended the monitor.
    if (monitor) {
      stdin.setRawMode(false);
      stdin.pause();
    }
  }
}

/**
 * The monitor's keys act as the commands do: [P]ause is `ledgerflow pause`, [K]ill `ledgerflow cancel` (the same code
 * path, recorded with who did it: --as, else the NATS user or $USER), and the line they print is shown.
 */
export function monitorOptions(g: GlobalOpts, keys: MonitorOptions['keys'], as: string | undefined): MonitorOptions {
  return {
    keys,
    medians: () => pastMedians(storeFor(g)),
    act: async (action, runId) => {
      const lines: string[] = [];
      const quiet = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
      const { inputCmd } = await import('./run-inputs.js');
      await inputCmd(quiet, g, runId, { kind: 'control', action }, { ...(as !== undefined ? { as } : {}) });
      return lines[0] ?? `${action} of ${runId} sent`;
    },
  };
}
