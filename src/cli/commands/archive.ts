/**
 * `ledgerflow archive --older-than <d>`, `archive list` and `restore <runId>` (docs/retention.md): settled runs moved
 * out of the live log and index into the store's archive, what the archive keeps, and a run brought back. One JSON
 * shape on both stores; progress on stderr. Archive and restore are run control: the run API judges who acts (L1 with a
 * users file) before anything moves. A person on NATS lists the archive through the engines (L2 up: whoever reads the log).
 */
import { UsageError } from '../../errors/index.js';
import { archiveOf, requestArchivePeriods } from '../../runs/index.js';
import type { ArchivedRun, ArchivePeriod } from '../../store/index.js';
import { inert } from '../../terminal/index.js';
import { unitDurationFlag } from '../flags/duration-flag.js';
import { usesNats, type GlobalOpts } from '../flags/store.js';
import { storeFor } from '../open-store.js';
import { EXIT } from '../render/exit.js';
import { json, type Io } from '../render/io.js';
import { sideFor } from '../runs.js';

const shown = (r: ArchivedRun) => ({
  runId: r.runId,
  workflowId: r.workflowId,
  status: r.status,
  completedAt: r.completedAt,
  period: r.period,
});

export async function archiveCmd(
  io: Io,
  g: GlobalOpts,
  opts: { olderThan?: string; workflow?: string; batch?: string; json?: boolean; as?: string },
): Promise<number> {
  if (opts.olderThan === undefined)
    throw new UsageError(
      'archive needs --older-than <duration>: settled runs that settled longer ago than that are archived, e.g. --older-than 30d',
      { option: '--older-than' },
    );
  const olderThanMs = unitDurationFlag('--older-than', opts.olderThan, '30d or 12h');
  const batch = opts.batch === undefined ? undefined : Number(opts.batch);
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 10_000))
    throw new UsageError(`--batch ${opts.batch} is not a number of runs from 1 to 10000, e.g. --batch 200`, {
      option: '--batch',
    });
  const side = await sideFor(g);
  const acting = await side.acting(opts.as);
  const left: { runId: string; reason: string }[] = [];
  const moved = await (await side.runs()).archive(
    {
      olderThanMs,
      now: new Date(),
      ...(batch !== undefined ? { batch } : {}),
      ...(opts.workflow !== undefined ? { workflowId: opts.workflow } : {}),
      onProgress: (done, of) => io.err(`archived ${done} of ${of} runs`),
      onLeft: (runId, reason) => {
        if (left.length < LEFT_TOLD) io.err(`left live: ${inert(reason)}`);
        left.push({ runId, reason });
      },
    },
    acting,
  );
  if (left.length > LEFT_TOLD) io.err(`left live: ${left.length - LEFT_TOLD} more runs (--json names them all)`);
  if (opts.json) io.out(json({ archived: moved.length, runs: moved.map(shown), left }));
  else {
    const periods = [...new Set(moved.map((r) => r.period))].sort();
    // Named when given: a mistyped --workflow was told "no settled run is older than 7d" while other workflows had many.
    const ofWorkflow = opts.workflow === undefined ? '' : ` of workflow ${inert(opts.workflow)}`;
    const leftText = left.length === 0 ? '' : `; ${left.length} run${left.length === 1 ? '' : 's'} left live (above)`;
    io.out(
      moved.length === 0 && left.length === 0
        ? `no settled run${ofWorkflow} is older than ${inert(opts.olderThan)}: nothing archived`
        : `archived ${moved.length} run${moved.length === 1 ? '' : 's'}${periods.length > 0 ? ` (${periods.join(', ')})` : ''}${leftText}`,
    );
  }
  // Not all that was asked was done: a script's check sees it (the rest was moved all the same).
  return left.length > 0 ? EXIT.failed : EXIT.ok;
}

/** Runs left live named one line each on stderr; the rest counted (--json names every one). */
const LEFT_TOLD = 20;

export async function archiveListCmd(io: Io, g: GlobalOpts, opts: { json?: boolean }): Promise<number> {
  let periods: ArchivePeriod[];
  // A person's NATS user may not read KV LF_ARCHIVE_INDEX: the engines read it for them (lf.upkeep.<user>, L2 up).
  if (usesNats(g) && !(await (await sideFor(g)).mayWrite())) {
    const { natsUrl } = await import('./cluster.js');
    const asked = await requestArchivePeriods(natsUrl(g));
    periods = asked.periods;
    if (asked.truncated)
      io.err(`the archive holds more periods than one answer names: the newest ${periods.length} are shown`);
  } else periods = await archiveOf(storeFor(g)).periods();
  if (opts.json) io.out(json({ periods }));
  else if (periods.length === 0) io.out('the archive is empty');
  else {
    io.out('PERIOD   RUNS      BYTES  WHERE');
    for (const p of periods)
      io.out(`${p.period}  ${String(p.runs).padStart(6)}  ${String(p.bytes).padStart(9)}  ${inert(p.location)}`);
  }
  return EXIT.ok;
}

export async function restoreCmd(
  io: Io,
  g: GlobalOpts,
  runId: string,
  opts: { json?: boolean; as?: string },
): Promise<number> {
  const side = await sideFor(g);
  const acting = await side.acting(opts.as);
  const run = await (await side.runs()).restore(runId, acting);
  io.out(
    opts.json ? json({ restored: shown(run) }) : `restored run ${runId} (${run.status}, archived in ${run.period})`,
  );
  return EXIT.ok;
}
